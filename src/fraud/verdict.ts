// What the fraud stage decides for one request, and the reasons it can give. Every reason belongs to
// one tier and answers with one OpenRTB no-bid reason code (src/openrtb/nbr.ts) when it blocks.
import { NBR } from "../openrtb/nbr.ts";

export const FRAUD_REASONS = [
  { id: "ip_blocklist", tier: 1, nbr: NBR.suspectedNonHuman },
  { id: "datacenter_ip", tier: 1, nbr: NBR.cloudDataCenterProxyIp },
  { id: "crawler_ua", tier: 1, nbr: NBR.knownWebSpider },
  { id: "schain_incomplete", tier: 1, nbr: NBR.incompleteSupplyChain },
  { id: "schain_malformed", tier: 1, nbr: NBR.incompleteSupplyChain },
  { id: "schain_seller_blocked", tier: 1, nbr: NBR.blockedSupplyChainNode },
  { id: "ip_rate", tier: 1, nbr: NBR.suspectedNonHuman },
  { id: "device_rate", tier: 1, nbr: NBR.suspectedNonHuman },
  { id: "impossible_geo", tier: 1, nbr: NBR.suspectedNonHuman },
  { id: "model_score", tier: 2, nbr: NBR.suspectedNonHuman },
  { id: "async_blocklist", tier: 3, nbr: NBR.suspectedNonHuman },
  { id: "async_suspect", tier: 3, nbr: NBR.suspectedNonHuman }, // flags only: a subnet tier 3 found suspect
] as const;

export type FraudReason = (typeof FRAUD_REASONS)[number]["id"];
/** Index of each reason in FRAUD_REASONS (counters are indexed by it). */
export const REASON_INDEX: Readonly<Record<FraudReason, number>> = Object.fromEntries(FRAUD_REASONS.map((r, i) => [r.id, i])) as Record<FraudReason, number>;

export const ALLOW = 0;
export const FLAG = 1;
export const BLOCK = 2;
export type FraudAction = typeof ALLOW | typeof FLAG | typeof BLOCK;
export const ACTION_NAMES = ["allow", "flag", "block"] as const;

/** One per worker, rewritten for every request (no allocation). */
export interface Verdict {
  action: FraudAction;
  /** The reason of a block (or "model_score" for a flag); null when allowed. */
  reason: FraudReason | null;
  /** The tier that decided (1 rules, 2 model, 3 async blocklist); 0 when allowed. */
  tier: number;
  /** OpenRTB no-bid reason when blocked, else 0. */
  nbr: number;
  /** The model's score in [0, 1], or NaN when the model did not run (blocked earlier, or no model). */
  score: number;
}

export function newVerdict(): Verdict {
  return { action: ALLOW, reason: null, tier: 0, nbr: 0, score: Number.NaN };
}

export function setVerdict(v: Verdict, action: FraudAction, reason: FraudReason | null): Verdict {
  v.action = action;
  v.reason = reason;
  const info = reason === null ? null : FRAUD_REASONS[REASON_INDEX[reason]]!;
  v.tier = info?.tier ?? 0;
  v.nbr = action === BLOCK && info !== null ? info.nbr : 0;
  return v;
}
