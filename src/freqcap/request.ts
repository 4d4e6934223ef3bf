// The pipeline's side of frequency caps: what one request hands the auction kernel (user key, time,
// mode) and what it gets back (the impressions counted, for a write-behind to a remote store).
import { layout as L } from "../auction/memory.ts";
import { NO_USER_KEY, userKeyHex, userKeyOf } from "./user-key.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { CampaignSettings, FrequencyCapNoKey, FrequencyCapSettings } from "../config/load.ts";
import { log } from "../log/logger.ts";

export interface RequestCaps {
  userKey: bigint;
  nowSec: number;
  capMode: number;
}

/** One impression counted against a capped campaign by a win (the kernel already counted it locally). */
export interface CapIncrement {
  userKey: bigint;
  slot: number;
  campaignId: string;
  caps: FrequencyCapSettings[];
  nowSec: number;
}

/**
 * Where a worker reports every auction's increments (e.g. a write-behind to Redis, batched by the
 * receiver). Called after the answer is decided, never awaited: it must not block or throw.
 */
export interface CapIncrementSink {
  record(increments: readonly CapIncrement[]): void;
}

const OFF: RequestCaps = { userKey: NO_USER_KEY, nowSec: 0, capMode: L.CAP_MODE_OFF };

/** Caps for this request; OFF (and no hashing) when no candidate's campaign is capped. */
export function requestCaps(
  req: Pick<BidRequest, "user" | "device">, bids: readonly { slot: number }[], campaignBySlot: readonly CampaignSettings[],
  noKey: FrequencyCapNoKey, nowMs = Date.now(),
): RequestCaps {
  if (!bids.some((bid) => campaignBySlot[bid.slot]!.frequencyCaps.length > 0)) return OFF;
  const nowSec = Math.floor(nowMs / 1000);
  const userKey = userKeyOf(req);
  if (userKey !== NO_USER_KEY) return { userKey, nowSec, capMode: L.CAP_MODE_KEY };
  return { userKey, nowSec, capMode: noKey === "deny" ? L.CAP_MODE_DENY : L.CAP_MODE_OFF };
}

/** The increment of a win, or null when nothing was counted (uncapped campaign, or no user key). */
export function capIncrementOf(caps: RequestCaps, campaign: CampaignSettings): CapIncrement | null {
  if (caps.capMode !== L.CAP_MODE_KEY || campaign.frequencyCaps.length === 0) return null;
  return { userKey: caps.userKey, slot: campaign.slot, campaignId: campaign.id, caps: campaign.frequencyCaps, nowSec: caps.nowSec };
}

/** Hands an auction's increments to the sink, if any; a failing sink never fails the auction. */
export function reportCapIncrements(sink: CapIncrementSink | undefined, increments: readonly CapIncrement[]): void {
  if (sink === undefined || increments.length === 0) return;
  try {
    sink.record(increments);
  } catch (err) {
    log.error("freqcap: the increment sink failed", { error: (err as Error).message });
  }
}

/** A sink over a remote store's recordImpression (src/freqcap/remote.ts), keyed by the hashed user. */
export function remoteCapSink(store: {
  recordImpression(userKey: string, campaignId: string, windows: FrequencyCapSettings[], nowSec: number): void;
}): CapIncrementSink {
  return {
    record(increments) {
      for (const inc of increments) store.recordImpression(userKeyHex(inc.userKey), inc.campaignId, inc.caps, inc.nowSec);
    },
  };
}
