// `tmax budget status` in Redis mode reads the hierarchy's books (global + every region); config
// errors in the budget section name their field path.
import { expect, test } from "bun:test";
import { runCli, writeConfig } from "./support/processes.ts";
import { useRedis } from "./support/redis.ts";
import { clearOfMidnight } from "./support/day.ts";
import { budgetRedis, RedisGlobalStore, RedisRegionStore } from "../src/budget/store/redis.ts";
import { parseConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/errors.ts";

const eu = useRedis();
const us = useRedis();
const global = useRedis();

const base = (budget: Record<string, unknown>, region = "eu") => ({
  server: { region },
  dsps: [],
  campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "2", currency: "USD", pacing: "asap" }, { id: "c2", advertiserId: "a1", dailyBudget: "1", currency: "USD", timeZone: "Asia/Tokyo" }],
  budget,
});

test("status shows per campaign budget, spent, stranded, in leases, remaining and pacing from the Redis books", async () => {
  await clearOfMidnight(30_000); // the books are keyed by today's date, and so is the CLI's read
  const day = new Date().toISOString().slice(0, 10);
  const key = { campaign: "c1", day };
  const g = new RedisGlobalStore(budgetRedis({ url: global().url, commandTimeoutMs: 2_000 }));
  const r = new RedisRegionStore(budgetRedis({ url: eu().url, commandTimeoutMs: 2_000 }));
  await Promise.all([g.ready(5_000), r.ready(5_000)]);
  await g.grant(key, "t1", "eu", 500_000, 2_000_000);
  await r.credit(key, "t1", 500_000);
  await r.claim(key, "l1", 100_000, 60_000);
  await r.claim(key, "l2", 100_000, 60_000);
  await r.settle(key, "l1", 40_000);
  await Promise.all([g.close(), r.close()]);
  const file = writeConfig(base({
    mode: "redis", globalRedisUrl: global().url, noticeSecret: "s".repeat(16),
    regions: [{ id: "eu", redisUrl: eu().url, trafficShare: 0.6 }, { id: "us", redisUrl: us().url, trafficShare: 0.4 }],
  }));
  const res = await runCli(["budget", "status", "--config", file, "--campaign", "c1", "--json"]);
  expect(res.stderr).toBe("");
  expect(res.code).toBe(0);
  expect(JSON.parse(res.stdout)).toEqual([{
    campaign: "c1", day, budgetMicros: 2_000_000, unallocatedMicros: 1_500_000, inLeasesMicros: 100_000, spentMicros: 60_000, strandedMicros: 0,
    regionAvailableMicros: 340_000, remainingMicros: 1_940_000, pacing: { mode: "asap", state: "n/a", participation: null },
  }]);
  const table = await runCli(["budget", "status", "--config", file]);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain("c2");
  expect(table.stdout).toMatch(/c1\s+\S+\s+2\.000000\s+0\.060000\s+0\.000000\s+0\.100000\s+1\.940000\s+asap \(n\/a\)/);
});

test("budget config errors name the field path", () => {
  const err = (raw: unknown) => {
    try {
      parseConfig(raw);
    } catch (e) {
      return `${(e as ConfigError).field}: ${(e as Error).message}`;
    }
    return "no error";
  };
  expect(err(base({ mode: "redis", noticeSecret: "s".repeat(16), regions: [{ id: "eu", redisUrl: "redis://x:1", trafficShare: 1 }] }))).toMatch(/^budget\.globalRedisUrl: /);
  expect(err(base({ mode: "redis", globalRedisUrl: "redis://g:1", noticeSecret: "s".repeat(16), regions: [{ id: "eu", redisUrl: "http://x", trafficShare: 1 }] }))).toMatch(/^budget\.regions\[0\]\.redisUrl: /);
  expect(err(base({ mode: "redis", globalRedisUrl: "redis://g:1", noticeSecret: "s".repeat(16), regions: [{ id: "us", redisUrl: "redis://x:1", trafficShare: 1 }] }))).toMatch(/^server\.region: /);
  expect(err(base({ mode: "redis", globalRedisUrl: "redis://g:1", noticeSecret: "s".repeat(16), regions: [{ id: "eu", redisUrl: "redis://x:1", trafficShare: 0.5 }] }))).toMatch(/^budget\.regions: .*add up to 1/);
  expect(err(base({ mode: "redis", globalRedisUrl: "redis://g:1", regions: [{ id: "eu", redisUrl: "redis://x:1", trafficShare: 1 }] }))).toMatch(/^budget\.noticeSecret: /);
  expect(err(base({ minLease: "0.0000001" }))).toMatch(/^budget\.minLease: /);
  expect(err(base({ leaseTtlMs: 10 }))).toMatch(/^budget\.leaseTtlMs/);
  expect(err({ ...base({}), campaigns: [{ id: "c1", advertiserId: "a", dailyBudget: 1, currency: "USD", timeZone: "Mars/Olympus" }] })).toMatch(/^campaigns\[0\]\.timeZone: .*unknown IANA/);
  expect(err({ ...base({}), campaigns: [{ id: "c1", advertiserId: "a", dailyBudget: 1, currency: "USD", pacing: "fast" }] })).toMatch(/^campaigns\[0\]\.pacing/);
  expect(err(base({}))).toBe("no error");
});
