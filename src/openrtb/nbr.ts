// OpenRTB 2.6 no-bid reason codes (BidResponse.nbr), the ones tmax records.
export const NBR = {
  unknownError: 0,
  technicalError: 1,
  invalidRequest: 2,
  knownWebSpider: 3,
  suspectedNonHuman: 4,
  cloudDataCenterProxyIp: 5,
  unsupportedDevice: 6,
  blockedPublisher: 7,
  unmatchedUser: 8,
  dailyReaderCapMet: 9,
  dailyDomainCapMet: 10,
  incompleteSupplyChain: 16,
  blockedSupplyChainNode: 17,
} as const;
export type NbrCode = (typeof NBR)[keyof typeof NBR];

/** Why tmax itself answered no bid; recorded in metrics and audit next to the OpenRTB code. */
export const NO_BID_REASONS = ["no_dsps", "dsp_failures", "no_bids", "below_floor", "blocked", "no_budget", "invalid_bids", "deadline_too_short", "frequency_capped", "audit_unavailable", "overload", "invalid_traffic", "paced"] as const;
export type NoBidReason = (typeof NO_BID_REASONS)[number];
