// Distributed caps, the read side: before the auction, the counts other pods wrote to Redis for
// this user and the candidate campaigns are merged into the local table (the larger count and the
// later window end win, so merging never loosens a cap). One pipelined round trip, bounded by the
// store's fetch timeout; Redis down means local counts only. Writes go behind (remoteCapSink).
import { NO_USER_KEY, userKeyHex, userKeyOf } from "./user-key.ts";
import type { RemoteCapStore } from "./remote.ts";
import type { LocalCaps } from "./local.ts";
import type { CampaignSettings } from "../config/load.ts";
import type { BidRequest } from "../openrtb/request.ts";

export interface CapSyncContext {
  localCaps: LocalCaps;
  campaignBySlot: readonly CampaignSettings[];
}

/** Merges remote counts for the capped campaigns among `bids` into the local table. */
export async function syncRemoteCaps(
  remoteCaps: RemoteCapStore, ctx: CapSyncContext, req: Pick<BidRequest, "user" | "device">, bids: readonly { slot: number }[], nowMs = Date.now(),
): Promise<void> {
  const capped = cappedCampaigns(ctx.campaignBySlot, bids);
  if (capped.length === 0) return;
  const userKey = userKeyOf(req);
  if (userKey === NO_USER_KEY) return;
  const nowSec = Math.floor(nowMs / 1000);
  const remote = await remoteCaps.fetch(userKeyHex(userKey), capped.map((c) => ({ campaignId: c.id, windows: c.frequencyCaps })), nowSec);
  for (const campaign of capped) {
    const counts = remote.get(campaign.id);
    if (counts !== undefined) ctx.localCaps.seedCounts(userKey, campaign.slot, counts.counts, counts.windowStartsSec, nowSec);
  }
}

function cappedCampaigns(campaignBySlot: readonly CampaignSettings[], bids: readonly { slot: number }[]): CampaignSettings[] {
  const seen = new Set<number>();
  const out: CampaignSettings[] = [];
  for (const { slot } of bids) {
    const campaign = campaignBySlot[slot]!;
    if (campaign.frequencyCaps.length === 0 || seen.has(slot)) continue;
    seen.add(slot);
    out.push(campaign);
  }
  return out;
}
