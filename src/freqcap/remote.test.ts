// The Redis cap store against a real redis-server (scripts/services/redis.ts): two pods adding up,
// fixed-window roll-over, expiry, write-behind batching, and Redis killed or hung under it.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import Redis from "ioredis";
import { useRedis, withRedis } from "../../tests/support/redis.ts";
import { capKey, createRedisCapStore, DEFAULT_KEY_PREFIX, type CapWindow, type RedisCapStore } from "./remote.ts";

const redis = useRedis();
const HOUR: CapWindow = { max: 3, windowSec: 3600 };
const DAY: CapWindow = { max: 10, windowSec: 86_400 };
const MINUTE: CapWindow = { max: 2, windowSec: 60 };
const READY_MS = 5_000;
const T0 = 1_700_000_000;

const opened: RedisCapStore[] = [];
const clients: Redis[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  for (const c of clients.splice(0)) c.disconnect();
});

async function store(opts: { url?: string; flushMs?: number; maxBatch?: number; timeoutMs?: number } = {}): Promise<RedisCapStore> {
  const s = createRedisCapStore({ url: redis().url, ...opts });
  opened.push(s);
  expect(await s.waitReady(READY_MS)).toBe(true);
  return s;
}

function admin(url = redis().url): Redis {
  const c = new Redis(url);
  clients.push(c);
  return c;
}

let users = 0;
const freshUser = () => `user-${++users}-${crypto.randomUUID()}`;

/** cmdstat_<name> calls from INFO commandstats. */
async function commandCalls(client: Redis, name: string): Promise<number> {
  const info = await client.info("commandstats");
  return Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

async function until<T>(probe: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = READY_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!ok(value) && Date.now() < deadline) {
    await Bun.sleep(20);
    value = await probe();
  }
  return value;
}

describe("redis cap store", () => {
  test("impressions from two pods add up in one count", async () => {
    const [podA, podB] = [await store(), await store()];
    const user = freshUser();
    for (let i = 0; i < 2; i++) podA.recordImpression(user, "c1", [HOUR, DAY], T0);
    for (let i = 0; i < 3; i++) podB.recordImpression(user, "c1", [HOUR, DAY], T0 + 1);
    podB.recordImpression(user, "c2", [HOUR], T0 + 1);
    await Promise.all([podA.flush(), podB.flush()]);
    const got = await podA.fetch(user, [{ campaignId: "c1", windows: [HOUR, DAY] }, { campaignId: "c2", windows: [HOUR] }, { campaignId: "c3", windows: [HOUR] }], T0 + 2);
    expect(got.get("c1")).toEqual({ counts: [5, 5], windowStartsSec: [T0, T0] });
    expect(got.get("c2")).toEqual({ counts: [1], windowStartsSec: [T0 + 1] });
    expect(got.has("c3")).toBe(false); // unknown: absent
  });

  test("a fixed window restarts at the first impression after it ends; the longer one keeps counting", async () => {
    const s = await store();
    const user = freshUser();
    const windows = [MINUTE, HOUR];
    for (const at of [T0, T0 + 30, T0 + 59]) s.recordImpression(user, "c", windows, at);
    await s.flush();
    expect((await s.fetch(user, [{ campaignId: "c", windows }], T0 + 59)).get("c")).toEqual({ counts: [3, 3], windowStartsSec: [T0, T0] });
    s.recordImpression(user, "c", windows, T0 + 60);
    await s.flush();
    expect((await s.fetch(user, [{ campaignId: "c", windows }], T0 + 61)).get("c")).toEqual({ counts: [1, 4], windowStartsSec: [T0 + 60, T0] });
    // Read after the minute window ended: it reads as no open window.
    expect((await s.fetch(user, [{ campaignId: "c", windows }], T0 + 120)).get("c")).toEqual({ counts: [0, 4], windowStartsSec: [0, T0] });
  });

  test("a window ending between two coalesced impressions: both count in a new window (stricter, never looser)", async () => {
    const s = await store({ flushMs: 60_000 });
    const user = freshUser();
    s.recordImpression(user, "c", [MINUTE], T0);
    await s.flush();
    s.recordImpression(user, "c", [MINUTE], T0 + 50); // exact: old window 2, new window 1 from T0 + 70
    s.recordImpression(user, "c", [MINUTE], T0 + 70);
    await s.flush();
    expect((await s.fetch(user, [{ campaignId: "c", windows: [MINUTE] }], T0 + 71)).get("c")).toEqual({ counts: [2], windowStartsSec: [T0 + 70] });
  });

  test("the queue is bounded by distinct keys: repeat impressions always fit, new keys past the bound are dropped and counted", async () => {
    const s = createRedisCapStore({ url: redis().url, flushMs: 60_000, maxPendingKeys: 3 });
    opened.push(s);
    const user = freshUser();
    for (let i = 0; i < 5; i++) s.recordImpression(user, `c${i}`, [HOUR], T0);
    for (let i = 0; i < 10; i++) s.recordImpression(user, "c0", [HOUR], T0);
    expect(s.stats()).toMatchObject({ pendingKeys: 3, droppedImpressions: 2, recordedImpressions: 15 });
  });

  test("the key expires after the longest window", async () => {
    const s = await store();
    const [user, shortUser] = [freshUser(), freshUser()];
    const nowSec = Math.floor(Date.now() / 1000);
    s.recordImpression(user, "c", [MINUTE, DAY], nowSec);
    s.recordImpression(shortUser, "c", [{ max: 1, windowSec: 1 }], nowSec);
    await s.flush();
    const ttlSec = await admin().ttl(capKey(DEFAULT_KEY_PREFIX, user, "c"));
    expect(ttlSec).toBeGreaterThan(DAY.windowSec - 5);
    expect(ttlSec).toBeLessThanOrEqual(DAY.windowSec);
    const shortKey = capKey(DEFAULT_KEY_PREFIX, shortUser, "c");
    expect(await until(() => admin().exists(shortKey), (n) => n === 0, 3_000)).toBe(0);
  });

  test("write-behind: 1,000 impressions on 5 keys are one pipeline of 5 script calls", async () => {
    const s = await store({ flushMs: 60_000 });
    const client = admin();
    const user = freshUser();
    await client.config("RESETSTAT");
    for (let i = 0; i < 1_000; i++) s.recordImpression(user, `c${i % 5}`, [HOUR], T0);
    expect(s.stats().pendingKeys).toBe(5);
    await s.flush();
    const calls = (await commandCalls(client, "eval")) + (await commandCalls(client, "evalsha"));
    expect(calls).toBe(5);
    expect(s.stats().flushes).toBe(1);
    const campaigns = [0, 1, 2, 3, 4].map((i) => ({ campaignId: `c${i}`, windows: [HOUR] }));
    const got = await s.fetch(user, campaigns, T0);
    expect([...got.values()].map((c) => c.counts[0])).toEqual([200, 200, 200, 200, 200]);
    expect(await commandCalls(client, "hmget")).toBe(5);
  });

  test("a full batch flushes by itself, without waiting for flushMs", async () => {
    const s = await store({ flushMs: 60_000, maxBatch: 4 });
    const user = freshUser();
    for (let i = 0; i < 8; i++) s.recordImpression(user, `c${i}`, [HOUR], T0);
    const stats = await until(async () => s.stats(), (st) => st.flushedImpressions === 8);
    expect(stats.flushedImpressions).toBe(8);
    expect(stats.flushes).toBe(2);
  });

  test("the timer flushes what waits every flushMs", async () => {
    const s = await store({ flushMs: 20 });
    const user = freshUser();
    s.recordImpression(user, "c", [HOUR], T0);
    const got = await until(() => s.fetch(user, [{ campaignId: "c", windows: [HOUR] }], T0), (m) => m.size === 1);
    expect(got.get("c")?.counts).toEqual([1]);
  });

  test("Redis killed: nothing throws, fetch answers empty at once, and after a restart it all works again", async () => {
    await withRedis(async (server) => {
      const s = createRedisCapStore({ url: server.url, flushMs: 20, timeoutMs: 20 });
      opened.push(s);
      expect(await s.waitReady(READY_MS)).toBe(true);
      const user = freshUser();
      server.kill("SIGKILL");
      await server.exited;
      for (let i = 0; i < 4; i++) expect(() => s.recordImpression(user, "c", [HOUR], T0)).not.toThrow();
      const started = performance.now();
      const got = await s.fetch(user, [{ campaignId: "c", windows: [HOUR] }], T0);
      expect(performance.now() - started).toBeLessThan(100);
      expect(got.size).toBe(0);
      expect(s.stats().fetchErrors + s.stats().fetchTimeouts).toBeGreaterThan(0);
      await expect(s.flush()).rejects.toThrow();
      expect(s.stats().pendingKeys).toBe(1);
      await server.restart(); // empty (no appendonly): what shows up is what waited in the queue
      expect(await s.waitReady(READY_MS)).toBe(true);
      const back = await until(() => s.fetch(user, [{ campaignId: "c", windows: [HOUR] }], T0), (m) => m.size === 1);
      expect(back.get("c")?.counts).toEqual([4]);
    });
  });

  test("Redis hung (SIGSTOP): fetch gives up after timeoutMs; writes go through once it resumes", async () => {
    await withRedis(async (server) => {
      const s = createRedisCapStore({ url: server.url, flushMs: 20, timeoutMs: 20 });
      opened.push(s);
      expect(await s.waitReady(READY_MS)).toBe(true);
      const user = freshUser();
      server.kill("SIGSTOP");
      s.recordImpression(user, "c", [HOUR], T0);
      const started = performance.now();
      expect((await s.fetch(user, [{ campaignId: "c", windows: [HOUR] }], T0)).size).toBe(0);
      expect(performance.now() - started).toBeLessThan(100);
      expect(s.stats().fetchTimeouts).toBe(1);
      // Past the socket timeout the connection is dropped (a counted error) and redialled.
      expect((await until(async () => s.stats(), (st) => st.connectionErrors > 0)).connectionErrors).toBeGreaterThan(0);
      server.kill("SIGCONT");
      const back = await until(() => s.fetch(user, [{ campaignId: "c", windows: [HOUR] }], T0), (m) => m.size === 1);
      expect(back.get("c")?.counts[0]).toBeGreaterThanOrEqual(1); // at least once: never fewer
    });
  });

  test("CI=true with redis-server missing fails the run (no skip)", async () => {
    const self = join(import.meta.dir, "remote.test.ts");
    const proc = Bun.spawn([process.execPath, "test", self, "-t", "two pods"], {
      env: { ...process.env, CI: "true", TMAX_REDIS_SERVER: "/nonexistent/redis-server" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect(code).not.toBe(0);
    expect(out + err).toContain("redis-server not found");
    expect(out + err).toContain("CI=true");
    expect(out + err).toContain("apt-get install -y redis-server");
  });
});
