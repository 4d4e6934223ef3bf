// The budget torture test's checker: reads every source of truth (the global coordinator's and each
// region's Redis books, every pod's audit outbox of answered wins and DSP bids) and prints one line
// per violated invariant, then a summary whose last line is `campaigns over budget: N` (N = campaigns
// delivered more than 0.1% over their day budget).
import { scanOutboxRecords } from "../../src/audit/query/index.ts";
import { budgetRedis, RedisGlobalStore, RedisRegionStore } from "../../src/budget/store/redis.ts";
import type { GlobalBooks, RegionBooks } from "../../src/budget/store/types.ts";
import { giveBackHandUps, reconcileLeaseReturns } from "../../src/budget/hierarchy.ts";

export const OVER_BUDGET_TOLERANCE = 0.001;
/** A campaign's demand (its bids' impression costs) must exceed its budget by this factor to count for the
 *  delivery goal: two DSPs bid on every imp, so only about half of a campaign's bids can win. */
export const DEMAND_FACTOR = 2;

export interface CheckInput {
  day: string;
  campaigns: Array<{ id: string; budgetMicros: number }>;
  globalUrl: string;
  regions: Array<{ id: string; url: string }>;
  pods: Array<{ pod: string; region: string; auditDir: string; killed: boolean }>;
  /** Strand leases past expiry + this grace before reading (what any pod of the region does every second). */
  graceMs: number;
}

export interface CheckResult { lines: string[]; overBudget: number; overAtAll: number; deliveryRatio: number; violations: number }

interface PodFacts { delivered: Map<string, number>; demand: Map<string, number> }

async function readPod(dir: string): Promise<PodFacts> {
  const delivered = new Map<string, number>();
  const demand = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  await scanOutboxRecords(dir, (_w, _s, _o, payload) => {
    const e = JSON.parse(payload.toString("utf8"));
    if (e.event_type === "auction_result" && e.cost_micros !== null && e.campaign_id !== null) add(delivered, e.campaign_id, e.cost_micros);
    else if (e.event_type === "dsp_response") for (const b of e.bids ?? []) add(demand, b.campaign_id, Math.ceil(b.bid_price_micros / 1000));
  });
  return { delivered, demand };
}

export async function checkBudgets(input: CheckInput): Promise<CheckResult> {
  const lines: string[] = [];
  const violation = (text: string) => lines.push(`VIOLATION ${text}`);
  const global = new RedisGlobalStore(budgetRedis({ url: input.globalUrl, commandTimeoutMs: 10_000 }));
  const regions = input.regions.map((r) => ({ id: r.id, store: new RedisRegionStore(budgetRedis({ url: r.url, commandTimeoutMs: 10_000 })) }));
  await Promise.all([global.ready(10_000), ...regions.map((r) => r.store.ready(10_000))]);
  for (const r of regions) {
    await r.store.expire(input.graceMs); // what any pod of the region does every second
    await giveBackHandUps(r.store, global, r.id, Number.MAX_SAFE_INTEGER);
    // Lease remainders pods gave straight to global while the region's Redis was down, not yet closed in the region.
    await reconcileLeaseReturns(r.store, global, r.id, Number.MAX_SAFE_INTEGER, (leaseId) => violation(`region ${r.id}: lease ${leaseId} settled in the region and returned to global (counted twice)`));
  }
  const pods = await Promise.all(input.pods.map(async (p) => ({ ...p, facts: await readPod(p.auditDir) })));
  const killedPods = input.pods.filter((p) => p.killed).map((p) => p.pod);
  let overBudget = 0, overAtAll = 0, budgetTotal = 0, deliveredTotal = 0, strandedTotal = 0, strandedRemainder = 0, inTransit = 0;
  let unallocated = 0, regionAvailable = 0, returnedUp = 0;
  let goalDelivered = 0, goalBudget = 0, goalCampaigns = 0;
  for (const c of input.campaigns) {
    const key = { campaign: c.id, day: input.day };
    const g: GlobalBooks = await global.books(key);
    const books = new Map<string, RegionBooks>();
    for (const r of regions) books.set(r.id, await r.store.books(key));
    const sum = (f: (p: (typeof pods)[number]) => number) => pods.reduce((s, p) => s + f(p), 0);
    const delivered = sum((p) => p.facts.delivered.get(c.id) ?? 0);
    const demand = sum((p) => p.facts.demand.get(c.id) ?? 0);
    const killedDelivered = sum((p) => (p.killed ? p.facts.delivered.get(c.id) ?? 0 : 0));
    // What killed pods spent from leases they settled before dying (their lease ids start with the pod name).
    let killedSettledSpent = 0;
    for (const r of regions) {
      for (const l of await r.store.leases(key)) {
        if ((l.state === "closed" || l.state === "upped") && l.returnedMicros !== null && killedPods.some((pod) => l.id.startsWith(`${pod}:`))) killedSettledSpent += l.grantedMicros - l.returnedMicros;
      }
    }
    budgetTotal += c.budgetMicros;
    deliveredTotal += delivered;
    if (delivered > c.budgetMicros) {
      overAtAll++;
      if (delivered > c.budgetMicros * (1 + OVER_BUDGET_TOLERANCE)) overBudget++;
      violation(`over budget: campaign ${c.id} delivered ${delivered} > budget ${c.budgetMicros} micros (+${(((delivered / c.budgetMicros) - 1) * 100).toFixed(3)}%)`);
    }
    if (g.allocatedMicros > c.budgetMicros && g.budgetMicros !== 0) violation(`global: campaign ${c.id} allocated ${g.allocatedMicros} > budget ${c.budgetMicros}`);
    if (g.budgetMicros !== 0 && g.budgetMicros !== c.budgetMicros) violation(`global: campaign ${c.id} budget ${g.budgetMicros} != config ${c.budgetMicros}`);
    unallocated += g.budgetMicros === 0 ? c.budgetMicros : g.unallocatedMicros;
    const byRegionSum = Object.values(g.byRegion).reduce((s, v) => s + v, 0);
    if (byRegionSum !== g.allocatedMicros) violation(`global: campaign ${c.id} per-region ${byRegionSum} != allocated ${g.allocatedMicros}`);
    let stranded = 0;
    for (const r of regions) {
      const b = books.get(r.id)!;
      const held = g.byRegion[r.id] ?? 0;
      if (b.allocMicros > held) violation(`region ${r.id}: campaign ${c.id} alloc ${b.allocMicros} > global's grant to it ${held} (money created)`);
      inTransit += held - b.allocMicros;
      if (b.leasedMicros < 0 || b.strandedMicros < 0 || b.availableMicros < 0) violation(`region ${r.id}: campaign ${c.id} negative books ${JSON.stringify(b)}`);
      if (b.leasedMicros !== 0) violation(`region ${r.id}: campaign ${c.id} still has ${b.leasedMicros} in live leases after every pod stopped and expiry`);
      const accounted = b.leasedMicros + b.strandedMicros + b.spentMicros + b.releasedMicros + b.returnedMicros + b.returnedUpMicros;
      if (accounted !== b.grantedMicros) violation(`region ${r.id}: campaign ${c.id} granted ${b.grantedMicros} != leased + stranded + spent + released + returned + returnedUp ${accounted}`);
      if (b.returnedUpMicros !== (g.leaseReturnedByRegion[r.id] ?? 0)) violation(`region ${r.id}: campaign ${c.id} returned up ${b.returnedUpMicros} != global's lease returns from it ${g.leaseReturnedByRegion[r.id] ?? 0}`);
      returnedUp += b.returnedUpMicros;
      const regionDelivered = sum((p) => (p.region === r.id ? p.facts.delivered.get(c.id) ?? 0 : 0));
      const counted = b.spentMicros + b.strandedMicros + b.leasedMicros;
      if (regionDelivered > counted) violation(`region ${r.id}: campaign ${c.id} pods delivered ${regionDelivered} > counted spent ${counted}`);
      stranded += b.strandedMicros;
      regionAvailable += b.availableMicros;
    }
    strandedTotal += stranded;
    // Stranded remainder: stranded leases minus what the killed pods delivered from them (their
    // answered wins not covered by the leases they settled).
    const remainder = Math.max(0, stranded - Math.max(0, killedDelivered - killedSettledSpent));
    strandedRemainder += remainder;
    if (demand > c.budgetMicros * DEMAND_FACTOR) {
      goalCampaigns++;
      goalDelivered += delivered;
      goalBudget += c.budgetMicros - remainder;
    }
  }
  await global.close();
  for (const r of regions) await r.store.close();
  const deliveryRatio = goalBudget === 0 ? 0 : goalDelivered / goalBudget;
  const violations = lines.length;
  lines.push(`campaigns: ${input.campaigns.length}; total budget ${budgetTotal} micros; total delivered ${deliveredTotal} micros (${pct(deliveredTotal, budgetTotal)})`);
  lines.push(`stranded by killed pods (counted as spent): ${strandedTotal} micros; of it not delivered by them (stranded remainder): ${strandedRemainder} micros`);
  lines.push(`granted by global but not credited to a region (lost in transit, under-delivery): ${inTransit} micros`);
  lines.push(`lease remainders given straight to global while a region's Redis was down: ${returnedUp} micros`);
  lines.push(`unspent at the end: global unallocated ${unallocated} micros, regions' available ${regionAvailable} micros`);
  lines.push(`campaigns whose demand exceeds budget (bids >= ${DEMAND_FACTOR} x budget): ${goalCampaigns}; delivered ${goalDelivered} of ${goalBudget} micros outside the stranded remainder (${pct(goalDelivered, goalBudget)}; goal >= 99%)`);
  lines.push(`invariant violations: ${violations}`);
  lines.push(`campaigns over budget at all: ${overAtAll}`);
  lines.push(`campaigns over budget: ${overBudget}`);
  return { lines, overBudget, overAtAll, deliveryRatio, violations };
}

function pct(a: number, b: number): string {
  return b === 0 ? "n/a" : `${((a / b) * 100).toFixed(2)}%`;
}
