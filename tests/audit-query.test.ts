// Dispute queries: a request's events are found wherever they are (still in an outbox segment,
// archived warm, moved cold, booked in the ledger), once each, sorted by time; advertiser queries
// respect [from, to) and read only the partitions of that range; the CLI prints JSON lines + a summary.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox, outboxDir } from "../src/audit/outbox/index.ts";
import { Ledger, LEDGER_FILE } from "../src/audit/ledger/index.ts";
import { applyRetention, ArchiveWriter, partitionDir, type ArchivableEvent } from "../src/audit/archive/index.ts";
import { manyRequests, requestEvents } from "../src/audit/archive/fixtures.ts";
import { queryAudit, runAuditQueryCommand, type AuditQueryResult } from "../src/audit/query/index.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
let auditDir = "";
let outboxes: Outbox[] = [];

// Request R's six events, spread over every place (times 2024-05-10T10:00:00Z + 0..5 s):
//   bid_request, dsp_response, bid  -> archived, then moved cold
//   auction_result                  -> archived warm (after the move), booked in the ledger
//   win_notice                      -> still in outbox w0 AND archived warm AND in the ledger (copies)
//   billing_notice                  -> only in outbox w1 (not archived yet) and the ledger
const R = requestEvents({ requestId: "req-R", advertiserId: "adv-r", campaignId: "c-r", at: "2024-05-10T10:00:00Z" });
const [rRequest, rAnswer, rBid, rResult, rWin, rBilling] = R as unknown as [ArchivableEvent, ArchivableEvent, ArchivableEvent, ArchivableEvent, ArchivableEvent, ArchivableEvent];
// Advertiser A over six days (2024-05-08 .. 05-13), one request per day at 12:00, plus noise of adv-b.
const A = manyRequests("req-A", "adv-a", "2024-05-08T12:00:00Z", 6, DAY_MS);
const B = manyRequests("req-B", "adv-b", "2024-05-08T12:00:00Z", 6, DAY_MS);

beforeAll(async () => {
  auditDir = mkdtempSync(join(tmpdir(), "audit-query-"));
  const archiveDir = join(auditDir, "archive");
  const writer = new ArchiveWriter({ archiveDir, writerId: "w0" });
  await writer.writeBatch([rRequest, rAnswer, rBid], "cold-bound");
  await applyRetention({ archiveDir, now: new Date("2024-12-01T00:00:00Z") }); // 2024-05-10 -> cold
  await writer.writeBatch([rResult, rWin, ...A.slice(0, 24), ...B], "warm");
  const ledger = Ledger.open(join(auditDir, LEDGER_FILE));
  ledger.applyBatch([rResult, rWin, rBilling, ...A]);
  ledger.close();
  outboxes = [await Outbox.open({ dir: outboxDir(auditDir, 0) }), await Outbox.open({ dir: outboxDir(auditDir, 1) })];
  for (const e of [rWin, ...A.slice(24)]) await outboxes[0]!.append(JSON.stringify(e));
  for (const e of [rBilling, ...manyRequests("req-N", "adv-n", "2024-05-10T09:00:00Z", 3, 1_000)]) await outboxes[1]!.append(JSON.stringify(e));
  // the outboxes stay open: the query scans their files read-only while the writers live
});

afterAll(async () => {
  for (const outbox of outboxes) await outbox.close();
  rmSync(auditDir, { recursive: true, force: true });
});

const idsOf = (result: AuditQueryResult) => result.events.map((e) => e.event_id);

describe("queryAudit by request id", () => {
  test("finds the request's events in outbox, warm, cold and ledger; once each, sorted by time", async () => {
    const result = await queryAudit({ auditDir, requestId: "req-R" });
    expect(idsOf(result)).toEqual(R.map((e) => e.event_id));
    for (const [i, event] of result.events.entries()) expect(event).toEqual(R[i] as ArchivableEvent); // whole events, not ledger rows
    expect(Object.fromEntries(Object.entries(result.sources).map(([k, v]) => [k, v.found]))).toEqual({ outbox: 2, warm: 2, cold: 3, ledger: 3 });
    expect(result.duplicates).toBe(4);
    expect(result.foundIn.get(rWin.event_id)).toEqual(["outbox", "warm", "ledger"]);
    expect(result.foundIn.get(rBilling.event_id)).toEqual(["outbox", "ledger"]);
    expect(result.foundIn.get(rRequest.event_id)).toEqual(["cold"]);
    expect(result.warnings).toEqual([]);
  });

  test("event type and time narrowing; an unknown request finds nothing", async () => {
    const wins = await queryAudit({ auditDir, requestId: "req-R", eventType: "win_notice" });
    expect(idsOf(wins)).toEqual([rWin.event_id]);
    const late = await queryAudit({ auditDir, requestId: "req-R", from: "2024-05-10T10:00:03Z", to: "2024-05-10T10:00:05Z" });
    expect(idsOf(late)).toEqual([rResult.event_id, rWin.event_id]); // to is exclusive: billing_notice at :05 is out
    const none = await queryAudit({ auditDir, requestId: "req-nobody" });
    expect(none.events).toEqual([]);
    expect(none.duplicates).toBe(0);
  });

  test("an event only in the ledger is still returned (as its ledger row)", async () => {
    const extra = requestEvents({ requestId: "req-L", advertiserId: "adv-l", campaignId: "c-l", at: "2024-05-11T00:00:00Z" });
    const ledger = Ledger.open(join(auditDir, LEDGER_FILE));
    ledger.applyBatch(extra);
    ledger.close();
    const result = await queryAudit({ auditDir, requestId: "req-L" });
    expect(result.events.map((e) => e.event_type)).toEqual(["auction_result", "win_notice", "billing_notice"]);
    expect(result.events[0]).toMatchObject({ event_id: "req-L-win", cost_micros: 2_500, campaign_id: "c-l", advertiser_id: "adv-l" });
  });
});

describe("queryAudit by advertiser and time range", () => {
  test("respects [from, to): whole days and an exact cut, across warm, outbox and ledger", async () => {
    const result = await queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-09", to: "2024-05-12T12:00:03Z" });
    const [from, to] = [Date.parse("2024-05-09T00:00:00Z"), Date.parse("2024-05-12T12:00:03Z")];
    const want = A.filter((e) => Date.parse(e.event_time) >= from && Date.parse(e.event_time) < to && e.advertiser_id === "adv-a");
    expect(want.at(-1)!.event_id).toBe("req-A-4-bid"); // req-A-4-win is at 12:00:03 exactly: out
    expect(idsOf(result)).toEqual(want.map((e) => e.event_id));
    expect(result.events.every((e) => e.advertiser_id === "adv-a")).toBe(true);
    expect(result.sources.outbox!.found).toBeGreaterThan(0); // the 05-12 request is still in the outbox
    expect(result.sources.warm!.found).toBeGreaterThan(0);

    const results = await queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-01", to: "2024-06-01", eventType: "auction_result" });
    expect(results.events.map((e) => e.request_id)).toEqual(["req-A-0", "req-A-1", "req-A-2", "req-A-3", "req-A-4", "req-A-5"]);
  });

  test("reads only the partitions of the range: a broken file elsewhere is never opened", async () => {
    const archiveDir = join(auditDir, "archive");
    const otherDay = partitionDir(archiveDir, "warm", "2024-05-08", "adv-a");
    const otherAdvertiser = partitionDir(archiveDir, "warm", "2024-05-09", "adv-b");
    for (const dir of [otherDay, otherAdvertiser]) writeFileSync(join(dir, "part-w9-broken.parquet"), "garbage");
    try {
      const result = await queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-09", to: "2024-05-13" });
      expect(result.events.length).toBe(4 * 4); // 4 days x the 4 events of adv-a per request
      expect(result.sources.warm!.files).toBe(3); // 05-09, 05-10, 05-11 (05-12's request is in the outbox)
      await expect(queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-08", to: "2024-05-09" })).rejects.toThrow();
    } finally {
      for (const dir of [otherDay, otherAdvertiser]) rmSync(join(dir, "part-w9-broken.parquet"));
    }
  });

  test("bad queries are refused", async () => {
    await expect(queryAudit({ auditDir })).rejects.toThrow(/request id, or an advertiser/);
    await expect(queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-09" })).rejects.toThrow(/both from and to/);
    await expect(queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-09", to: "soon" })).rejects.toThrow(/to: not a date/);
    await expect(queryAudit({ auditDir, advertiserId: "adv-a", from: "2024-05-09", to: "2024-05-01" })).rejects.toThrow(/after/);
    await expect(queryAudit({ auditDir, requestId: "r", advertiserId: "a" })).rejects.toThrow(/not both/);
  });
});

describe("queries while events move", () => {
  test("a query during warm -> cold moves still sees every event exactly once", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-query-move-"));
    try {
      const events = manyRequests("m", "adv-m", "2024-02-01T06:00:00Z", 12, DAY_MS / 2); // 6 days, 2 requests a day
      const writer = new ArchiveWriter({ archiveDir: join(dir, "archive") });
      for (let i = 0; i < events.length; i += 6) await writer.writeBatch(events.slice(i, i + 6), `b${i}`);
      const want = events.filter((e) => e.advertiser_id === "adv-m").map((e) => e.event_id);
      const moving = applyRetention({ archiveDir: join(dir, "archive"), now: new Date("2024-12-01T00:00:00Z") });
      let settled = false;
      void moving.finally(() => (settled = true));
      let queries = 0;
      do {
        const result = await queryAudit({ auditDir: dir, advertiserId: "adv-m", from: "2024-02-01", to: "2024-02-08", ledger: null });
        expect(idsOf(result)).toEqual(want);
        queries += 1;
      } while (!settled);
      expect((await moving).compacted.length).toBe(12);
      expect(queries).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("sources that are missing or damaged", () => {
  test("no ledger file: skipped, not an error; no outbox or archive at all: empty", async () => {
    const empty = mkdtempSync(join(tmpdir(), "audit-query-empty-"));
    try {
      const result = await queryAudit({ auditDir: empty, requestId: "req-R" });
      expect(result.events).toEqual([]);
      expect(result.sources.ledger!.skipped).toContain("no ledger");
      expect(result.sources.outbox!.files).toBe(0);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test("a torn tail in the newest segment is ignored; the records before it are found", async () => {
    const dir = mkdtempSync(join(tmpdir(), "audit-query-torn-"));
    try {
      const outbox = await Outbox.open({ dir: outboxDir(dir, 2) });
      for (const e of R) await outbox.append(JSON.stringify(e));
      await outbox.close();
      const segment = readdirSync(outboxDir(dir, 2)).find((n) => n.endsWith(".seg"))!;
      appendFileSync(join(outboxDir(dir, 2), segment), Buffer.from([7, 7, 7, 7, 200, 0, 0, 0, 1, 2]));
      const result = await queryAudit({ auditDir: dir, requestId: "req-R", ledger: null });
      expect(idsOf(result)).toEqual(R.map((e) => e.event_id));
      expect(result.warnings).toEqual([]);
      expect(result.sources.ledger).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("tmax audit query", () => {
  function capture(): { out: string[]; err: string[]; io: { out(l: string): void; err(l: string): void } } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
  }

  test("--config FILE --request-id ID: one JSON event per line, then a summary with counts per source", async () => {
    const config = join(auditDir, "tmax.json");
    writeFileSync(config, JSON.stringify({
      dsps: [{ id: "dsp1", endpoint: "http://127.0.0.1:9/bid" }],
      campaigns: [{ id: "c1", advertiserId: "adv-a", dailyBudget: "10", currency: "USD" }],
      audit: { dir: auditDir },
    }));
    const c = capture();
    expect(await runAuditQueryCommand(["--config", config, "--request-id", "req-R"], c.io)).toBe(0);
    expect(c.out.length).toBe(R.length + 1);
    expect(c.out.slice(0, -1).map((l) => JSON.parse(l).event_id)).toEqual(R.map((e) => e.event_id));
    expect(c.out.at(-1)).toBe("# 6 events; found in: outbox 2, warm 2, cold 3, ledger 3; 4 duplicate copies");
    expect(c.err).toEqual([]);
  });

  test("--advertiser --from --to --type --json: the summary is JSON too", async () => {
    const c = capture();
    const argv = ["--audit-dir", auditDir, "--advertiser", "adv-a", "--from", "2024-05-09", "--to", "2024-05-11", "--type", "auction_result", "--json"];
    expect(await runAuditQueryCommand(argv, c.io)).toBe(0);
    const lines = c.out.map((l) => JSON.parse(l));
    expect(lines.slice(0, -1).map((e) => e.request_id)).toEqual(["req-A-1", "req-A-2"]);
    expect(lines.at(-1).summary).toMatchObject({ events: 2, duplicates: 2, sources: { warm: { found: 2 }, ledger: { found: 2 }, outbox: { found: 0 }, cold: { found: 0 } } });
  });

  test("usage and config errors exit 2", async () => {
    const c = capture();
    expect(await runAuditQueryCommand(["--request-id", "x"], c.io)).toBe(2);
    expect(c.err.join("\n")).toContain("--config FILE or --audit-dir DIR");
    expect(await runAuditQueryCommand(["--audit-dir", auditDir, "--advertiser", "adv-a", "--from", "2024-05-09"], c.io)).toBe(2);
    expect(await runAuditQueryCommand(["--config", join(auditDir, "missing.json"), "--request-id", "x"], c.io)).toBe(2);
    expect(c.err.at(-1)).toContain("config error");
    expect(await runAuditQueryCommand(["--audit-dir", auditDir, "--bogus"], c.io)).toBe(2);
  });
});
