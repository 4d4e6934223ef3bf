// The billing ledger's store (src/audit/ledger): a replayed batch changes nothing, the daily totals
// equal the sum of the rows exactly (integer micros), the UTC day boundary, invalid payloads and
// event_id conflicts kept as anomalies, append-only rows, and several processes writing one file
// at once (WAL + busy timeout) without losing or doubling anything.
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LEDGER_LIMITS, Ledger, utcDay } from "../src/audit/ledger/index.ts";
import { bidRequestEvent, CAMPAIGNS, encode, eventStream, expectedBooks, noBidEvent, noticeEvent, winEvent } from "../src/audit/ledger/fixtures.ts";
import { BUN, ROOT } from "./support/processes.ts";

const dirs: string[] = [];
const open: Ledger[] = [];
function tempLedger(): { path: string; ledger: Ledger } {
  const dir = mkdtempSync(join(tmpdir(), "ledger-store-"));
  dirs.push(dir);
  const path = join(dir, "ledger.sqlite");
  const ledger = Ledger.open(path);
  open.push(ledger);
  return { path, ledger };
}
afterEach(() => {
  for (const l of open.splice(0)) l.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const T = "2025-03-01T10:00:00.000Z";

function snapshot(ledger: Ledger) {
  return {
    rows: ledger.select("SELECT event_id, event_type, campaign_id, cost_micros, day, recorded_at FROM billable_events ORDER BY seq"),
    totals: ledger.totals().table,
    anomalies: ledger.anomalies(),
  };
}

/** The ledger's won cost per day and campaign, as BigInt, from the totals table. */
function wonCost(ledger: Ledger, days: string[]): Map<string, Map<string, bigint>> {
  return new Map(days.map((day) => [day, new Map(ledger.campaignCosts(day).map((c) => [c.campaignId, BigInt(c.costMicros)]))]));
}

describe("ledger store", () => {
  test("the same batch applied twice: the second changes nothing; totals equal the rows exactly", () => {
    const { ledger } = tempLedger();
    const events = eventStream(900, 7);
    const want = expectedBooks(events);
    const first = ledger.applyBatch(events);
    expect(first.inserted).toBe(want.billable);
    expect(first.duplicates).toBe(0);
    expect(first.inserted + first.skipped).toBe(events.length);
    const before = snapshot(ledger);

    const second = ledger.applyBatch(events);
    expect(second).toEqual({ inserted: 0, duplicates: want.billable, skipped: first.skipped, invalid: 0, conflicts: 0 });
    expect(snapshot(ledger)).toEqual(before);

    const { table, fromRows } = ledger.totals();
    expect(table).toEqual(fromRows);
    expect(wonCost(ledger, [...want.wonCost.keys()])).toEqual(want.wonCost);
    expect(ledger.eventCount()).toBe(want.billable);
  });

  test("duplicates inside one batch and across payload/event entry points count once", () => {
    const { ledger } = tempLedger();
    const win = winEvent("w1", CAMPAIGNS[0], 1_234, T);
    expect(ledger.applyBatch([win, win, win])).toMatchObject({ inserted: 1, duplicates: 2 });
    expect(ledger.applyPayloads([encode(win), new TextEncoder().encode(encode(win))])).toMatchObject({ inserted: 0, duplicates: 2 });
    expect(ledger.campaignCosts("2025-03-01")).toEqual([{ campaignId: "c1", advertiserId: "adv-acme", wins: 1, costMicros: 1_234 }]);
  });

  test("what is stored: wins and notices; no-bid imps and other events are skipped", () => {
    const { ledger } = tempLedger();
    const result = ledger.applyBatch([
      winEvent("w1", CAMPAIGNS[1], 2_500, T), noticeEvent("win_notice", "n1", CAMPAIGNS[1], null, T),
      noticeEvent("billing_notice", "n2", CAMPAIGNS[1], 2_500, T), noticeEvent("loss_notice", "n3", CAMPAIGNS[2], null, T),
      noBidEvent("nb1", T), bidRequestEvent("br1", T),
    ]);
    expect(result).toEqual({ inserted: 4, duplicates: 0, skipped: 2, invalid: 0, conflicts: 0 });
    expect(ledger.campaignDayTotals("2025-03-01")).toEqual([
      { day: "2025-03-01", advertiser_id: "adv-globex", campaign_id: "c2", wins: 1, win_cost_micros: 2_500, win_notices: 1, billing_notices: 1, billed_cost_micros: 2_500, loss_notices: 0 },
      { day: "2025-03-01", advertiser_id: "adv-acme", campaign_id: "c3", wins: 0, win_cost_micros: 0, win_notices: 0, billing_notices: 0, billed_cost_micros: 0, loss_notices: 1 },
    ]);
    const [row] = ledger.select("SELECT * FROM billable_events WHERE event_id = 'w1'");
    expect(row).toMatchObject({ request_id: "req-w1", imp_id: "1", bid_id: "bid-w1", advertiser_id: "adv-globex", campaign_id: "c2", dsp_id: "dsp1", win_price_micros: 2_500_000, cost_micros: 2_500, day: "2025-03-01" });
  });

  test("the day is the UTC date of event_time", () => {
    expect(utcDay("2025-03-01T23:59:59.999999Z")).toBe("2025-03-01");
    expect(utcDay("2025-03-02T00:00:00Z")).toBe("2025-03-02");
    expect(utcDay("2025-03-02T00:30:00+01:00")).toBe("2025-03-01");
    expect(utcDay("2025-03-01T23:30:00-01:00")).toBe("2025-03-02");
    expect(utcDay("2024-12-31T23:00:00-02:00")).toBe("2025-01-01");
    for (const bad of ["2025-02-30T00:00:00Z", "2025-03-01 10:00:00Z", "2025-03-01T10:00:00", "yesterday"]) expect(utcDay(bad)).toBeNull();
    const { ledger } = tempLedger();
    ledger.applyBatch([winEvent("late", CAMPAIGNS[0], 10, "2025-03-01T23:30:00-01:00"), winEvent("early", CAMPAIGNS[0], 20, "2025-03-02T00:30:00+01:00")]);
    expect(ledger.campaignCosts("2025-03-01").map((c) => c.costMicros)).toEqual([20]);
    expect(ledger.campaignCosts("2025-03-02").map((c) => c.costMicros)).toEqual([10]);
  });

  test("invalid payloads are kept once as anomalies, never in the books", () => {
    const { ledger } = tempLedger();
    const noCampaign = { ...winEvent("w-bad", CAMPAIGNS[0], 5, T), campaign_id: null };
    const floatCost = { ...winEvent("w-float", CAMPAIGNS[0], 5, T), cost_micros: 5.5 };
    const batch = ["{not json", encode(noCampaign as never), JSON.stringify(floatCost), JSON.stringify({ event_type: "mystery" }), encode(winEvent("w-ok", CAMPAIGNS[0], 5, T))];
    expect(ledger.applyPayloads(batch)).toEqual({ inserted: 1, duplicates: 0, skipped: 0, invalid: 4, conflicts: 0 });
    expect(ledger.applyPayloads(batch)).toEqual({ inserted: 0, duplicates: 1, skipped: 0, invalid: 4, conflicts: 0 });
    const anomalies = ledger.anomalies();
    expect(anomalies.length).toBe(4);
    expect(anomalies.map((a) => a.reason).join("\n")).toContain("a win without campaign_id");
    expect(anomalies.map((a) => a.reason).join("\n")).toContain("cost_micros");
    expect(ledger.eventCount()).toBe(1);
  });

  test("a duplicate event_id with other content is a conflict: the first row stays, the conflict is recorded", () => {
    const { ledger } = tempLedger();
    ledger.applyBatch([winEvent("w1", CAMPAIGNS[0], 100, T)]);
    const result = ledger.applyBatch([winEvent("w1", CAMPAIGNS[0], 999, T)]);
    expect(result).toEqual({ inserted: 0, duplicates: 1, skipped: 0, invalid: 0, conflicts: 1 });
    expect(ledger.campaignCosts("2025-03-01")[0]!.costMicros).toBe(100);
    const [anomaly] = ledger.anomalies();
    expect(anomaly).toMatchObject({ kind: "conflict", event_id: "w1" });
    expect(anomaly!.reason).toContain("cost_micros: stored 100, incoming 999");
  });

  test("rows are append-only; a batch over the limit is refused; sums past 2^53 raise instead of rounding", () => {
    const { path, ledger } = tempLedger();
    ledger.applyBatch([winEvent("w1", CAMPAIGNS[0], 2 ** 52, T), winEvent("w2", CAMPAIGNS[0], 2 ** 52, T)]);
    const raw = new Database(path);
    expect(() => raw.exec("UPDATE billable_events SET cost_micros = 0")).toThrow(/append-only/);
    expect(() => raw.exec("DELETE FROM billable_events")).toThrow(/append-only/);
    raw.close();
    expect(() => ledger.applyBatch(new Array(LEDGER_LIMITS.maxBatchEvents + 1).fill(noBidEvent("x", T)))).toThrow(RangeError);
    expect(() => ledger.campaignCosts("2025-03-01")).toThrow(/2\^53/);
  });

  test("reopening keeps everything; a newer schema version is refused", () => {
    const { path, ledger } = tempLedger();
    ledger.applyBatch(eventStream(50, 3));
    const count = ledger.eventCount();
    const again = Ledger.open(path);
    expect(again.eventCount()).toBe(count);
    again.close();
    const raw = new Database(path);
    raw.exec("PRAGMA user_version = 99");
    raw.close();
    expect(() => Ledger.open(path)).toThrow(/newer/);
    expect(() => Ledger.open(join(dirs[0]!, "missing.sqlite"), { create: false })).toThrow();
  });

  test("four processes write one ledger file at once, overlapping: every event once, totals exact", async () => {
    const { path, ledger } = tempLedger();
    const WRITERS = 4;
    const EVENTS = 2_000;
    const BATCH = 50;
    const events = eventStream(EVENTS, 11);
    const want = expectedBooks(events);
    const script = `
      import { Ledger } from ${JSON.stringify(join(ROOT, "src/audit/ledger/index.ts"))};
      import { eventStream } from ${JSON.stringify(join(ROOT, "src/audit/ledger/fixtures.ts"))};
      const [writer] = process.argv.slice(2).map(Number);
      const events = eventStream(${EVENTS}, 11);
      const order = events.map((_, i) => i).sort((a, b) => ((a * 7919 + writer * 104729) % ${EVENTS}) - ((b * 7919 + writer * 104729) % ${EVENTS}));
      const ledger = Ledger.open(${JSON.stringify(path)});
      let inserted = 0;
      for (let i = 0; i < order.length; i += ${BATCH}) inserted += ledger.applyBatch(order.slice(i, i + ${BATCH}).map((k) => events[k])).inserted;
      ledger.close();
      console.log(JSON.stringify({ inserted }));`;
    const scriptPath = join(dirs[0]!, "writer.ts");
    await Bun.write(scriptPath, script);
    const t0 = performance.now();
    const procs = Array.from({ length: WRITERS }, (_, w) => Bun.spawn([BUN, scriptPath, String(w)], { stdout: "pipe", stderr: "pipe" }));
    const outs = await Promise.all(procs.map(async (p) => ({ code: await p.exited, out: await new Response(p.stdout).text(), err: await new Response(p.stderr).text() })));
    for (const o of outs) expect(o).toMatchObject({ code: 0, err: "" });
    const insertedByWriters = outs.reduce((sum, o) => sum + (JSON.parse(o.out) as { inserted: number }).inserted, 0);
    console.log(`ledger: ${WRITERS} writers x ${EVENTS} events in batches of ${BATCH}: ${Math.round(performance.now() - t0)} ms`);
    expect(insertedByWriters).toBe(want.billable);
    expect(ledger.eventCount()).toBe(want.billable);
    const { table, fromRows } = ledger.totals();
    expect(table).toEqual(fromRows);
    expect(wonCost(ledger, [...want.wonCost.keys()])).toEqual(want.wonCost);
  });
});
