// The Redis side of distributed frequency caps: the hot path enforces caps from the machine-local
// shared-memory table; this store keeps the counts in Redis so pods agree. Impressions are written
// behind in batches; a user missing from the local table is read back in one pipeline.
//
// Keys: one hash per (user, campaign), `${prefix}{${userKey}}:${campaignId}`; the braces are a Redis
// Cluster hash tag, so one user's keys share a slot (one pipeline, one node). Fields per cap window,
// named by its length (reordering caps is harmless): "<windowSec>:n" count, "<windowSec>:t" start (s).
// Fixed windows start at the first impression; one with start + windowSec <= now restarts. The key
// expires after the longest window, refreshed on every write.
//
// Write-behind: impressions coalesce per key (count, first and last second) until a flush, every
// flushMs or at once when maxBatch keys wait: one pipeline (one round trip) of one atomic Lua call per
// key (EVAL once per connection, EVALSHA after). Exact, except when a window ends between a key's
// first and last coalesced impression: then all of them count in a window starting at the last one.
// A failed flush re-queues its keys; an impression applied but whose reply was lost counts twice.
// Every inexactness over-counts: caps get stricter, never looser.
//
// Bounds: at most maxPendingKeys distinct keys wait (repeat impressions of a waiting key never grow
// the queue). When a long outage fills it, impressions of NEW keys are dropped and counted
// (stats().droppedImpressions, alert on it): memory stays bounded, and the local table still enforces
// those impressions on this pod; only the other pods miss them.
// Redis down or hung: recordImpression never blocks or throws; fetch resolves within timeoutMs with an
// empty map (counted); the client redials by itself and the queue follows.
import Redis, { type ChainableCommander } from "ioredis";

export interface CapWindow { max: number; windowSec: number }
/** One entry per window, in the campaign's cap order; a window with no open period reads count 0, start 0. */
export interface RemoteCounts { counts: number[]; windowStartsSec: number[] }

export interface RemoteCapStore {
  /** Queue an impression for (user key, campaign); flushed in batches (write-behind) every flushMs or when the batch is full; never blocks the caller. */
  recordImpression(userKey: string, campaignId: string, windows: CapWindow[], nowSec: number): void;
  /** Counts for a user across campaigns (one round trip, pipelined), absent for unknown; used on a local miss. */
  fetch(userKey: string, campaigns: Array<{ campaignId: string; windows: CapWindow[] }>, nowSec: number): Promise<Map<string, RemoteCounts>>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface RedisCapStoreOptions {
  url: string;
  keyPrefix?: string;
  flushMs?: number;
  /** Keys per flush pipeline; reaching it flushes at once. */
  maxBatch?: number;
  /** fetch gives up (empty map) after this long. */
  timeoutMs?: number;
  maxPendingKeys?: number;
}

const COUNTERS = [
  "recordedImpressions", "flushedImpressions", "droppedImpressions", "invalidKeys", "flushes", "flushErrors",
  "fetches", "fetchErrors", "fetchTimeouts", "connectionErrors",
] as const;
/** Counters since start, plus pendingKeys: distinct (user, campaign) keys waiting for a flush. */
export type CapStoreStats = Record<(typeof COUNTERS)[number] | "pendingKeys", number>;

export interface RedisCapStore extends RemoteCapStore {
  stats(): CapStoreStats;
  /** True while the Redis connection is ready (for the infrastructure dashboard and /metrics). */
  connected(): boolean;
  /** True once connected (false if not within timeoutMs). For startup probes and tests. */
  waitReady(timeoutMs: number): Promise<boolean>;
}

export const DEFAULT_KEY_PREFIX = "fc:";
export const DEFAULT_FLUSH_MS = 50;
export const DEFAULT_MAX_BATCH = 1_000;
export const DEFAULT_TIMEOUT_MS = 20;
export const DEFAULT_MAX_PENDING_KEYS = 100_000;
export const MAX_WINDOWS = 3;
export const MAX_USER_KEY_CHARS = 256;
/** A connection with a command outstanding and no byte back for this long is dropped and redialled. */
export const SOCKET_TIMEOUT_MS = 1_000;
export const CONNECT_TIMEOUT_MS = 1_000;
export const RECONNECT_STEP_MS = 50;
export const RECONNECT_MAX_MS = 1_000;
/** close() tries to flush what waits for at most this long. */
export const CLOSE_FLUSH_MS = 1_000;

// ARGV: firstSec, lastSec, count, windowSec... (count impressions seen between firstSec and lastSec)
const INCR_SCRIPT = `
local key = KEYS[1]
local first, last, incr = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local ttl = 0
for i = 4, #ARGV do
  local w = ARGV[i]
  local sec = tonumber(w)
  local start = tonumber(redis.call('HGET', key, w .. ':t'))
  if start ~= nil and start + sec > last then
    redis.call('HINCRBY', key, w .. ':n', incr)
  elseif (start == nil or start + sec <= first) and first + sec > last then
    redis.call('HSET', key, w .. ':t', first, w .. ':n', incr)
  else
    redis.call('HSET', key, w .. ':t', last, w .. ':n', incr)
  end
  if sec > ttl then ttl = sec end
end
redis.call('EXPIRE', key, ttl)
return ttl`;

interface CapPipeline { capIncr(key: string, firstSec: number, lastSec: number, count: number, ...windowsSec: number[]): unknown }

/** Impressions of one key waiting for a flush. */
interface Pending { count: number; firstSec: number; lastSec: number; windowsSec: number[] }

export function capKey(prefix: string, userKey: string, campaignId: string): string {
  return `${prefix}{${userKey}}:${campaignId}`;
}

function windowFields(windows: CapWindow[]): string[] {
  return windows.flatMap((w) => [`${w.windowSec}:n`, `${w.windowSec}:t`]);
}

function assertWindows(windows: CapWindow[]): void {
  if (windows.length === 0 || windows.length > MAX_WINDOWS) throw new Error(`freqcap: 1..${MAX_WINDOWS} windows, got ${windows.length}`);
  for (const w of windows) if (!Number.isInteger(w.windowSec) || w.windowSec <= 0) throw new Error(`freqcap: windowSec must be a positive integer, got ${w.windowSec}`);
}

/** Reads one HMGET reply; null when the key holds none of the windows. */
export function parseCounts(values: Array<string | null>, windows: CapWindow[], nowSec: number): RemoteCounts | null {
  if (values.every((v) => v === null)) return null;
  const counts: number[] = [];
  const windowStartsSec: number[] = [];
  windows.forEach((w, i) => {
    const start = Number(values[2 * i + 1] ?? NaN);
    const open = Number.isFinite(start) && start + w.windowSec > nowSec;
    counts.push(open ? Number(values[2 * i] ?? 0) : 0);
    windowStartsSec.push(open ? start : 0);
  });
  return { counts, windowStartsSec };
}

function timeout(ms: number): { promise: Promise<"timeout">; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const promise = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), ms)));
  return { promise, cancel: () => clearTimeout(timer) };
}

class RedisCapStoreImpl implements RedisCapStore {
  private readonly client: Redis;
  private readonly prefix: string;
  private readonly maxBatch: number;
  private readonly timeoutMs: number;
  private readonly maxPendingKeys: number;
  private pending = new Map<string, Pending>();
  private inflight: Map<string, Pending> | null = null;
  private inflightDone: Promise<void> = Promise.resolve();
  private readonly timer: ReturnType<typeof setInterval>;
  private closed = false;
  private kickScheduled = false;
  private readonly counters = Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<(typeof COUNTERS)[number], number>;

  constructor(opts: RedisCapStoreOptions) {
    this.prefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxPendingKeys = opts.maxPendingKeys ?? DEFAULT_MAX_PENDING_KEYS;
    this.client = new Redis(opts.url, {
      enableOfflineQueue: false, // not connected: fail at once, never queue inside the client
      maxRetriesPerRequest: 0, // a dropped connection rejects what was in flight; this store retries
      autoResendUnfulfilledCommands: false,
      socketTimeout: SOCKET_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      retryStrategy: (times) => Math.min(times * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
      disableClientInfo: true,
      maintNotifications: "disabled",
    });
    this.client.defineCommand("capIncr", { numberOfKeys: 1, lua: INCR_SCRIPT });
    this.client.on("error", () => this.counters.connectionErrors++);
    this.timer = setInterval(() => this.tick(), opts.flushMs ?? DEFAULT_FLUSH_MS);
    this.timer.unref();
  }

  recordImpression(userKey: string, campaignId: string, windows: CapWindow[], nowSec: number): void {
    assertWindows(windows);
    if (this.closed) return;
    if (userKey.length === 0 || userKey.length > MAX_USER_KEY_CHARS) {
      this.counters.invalidKeys++;
      return;
    }
    this.counters.recordedImpressions++;
    const key = capKey(this.prefix, userKey, campaignId);
    const sec = Math.floor(nowSec);
    if (!this.pending.has(key) && this.pending.size + (this.inflight?.size ?? 0) >= this.maxPendingKeys) {
      this.counters.droppedImpressions++;
      return;
    }
    this.merge(key, { count: 1, firstSec: sec, lastSec: sec, windowsSec: windows.map((w) => w.windowSec) });
    if (this.pending.size >= this.maxBatch) this.kickSoon();
  }

  /** Adds impressions to a key's waiting entry (windows united: a cap change never loses a count). */
  private merge(key: string, p: Pending): void {
    const waiting = this.pending.get(key);
    if (!waiting) return void this.pending.set(key, p);
    waiting.count += p.count;
    waiting.firstSec = Math.min(waiting.firstSec, p.firstSec);
    waiting.lastSec = Math.max(waiting.lastSec, p.lastSec);
    for (const w of p.windowsSec) if (!waiting.windowsSec.includes(w)) waiting.windowsSec.push(w);
  }

  async fetch(userKey: string, campaigns: Array<{ campaignId: string; windows: CapWindow[] }>, nowSec: number): Promise<Map<string, RemoteCounts>> {
    for (const c of campaigns) assertWindows(c.windows);
    const found = new Map<string, RemoteCounts>();
    if (campaigns.length === 0 || userKey.length === 0 || userKey.length > MAX_USER_KEY_CHARS) return found;
    this.counters.fetches++;
    if (this.client.status !== "ready") {
      this.counters.fetchErrors++;
      return found;
    }
    const pipeline = this.client.pipeline();
    for (const c of campaigns) pipeline.hmget(capKey(this.prefix, userKey, c.campaignId), ...windowFields(c.windows));
    const replies = await this.execWithin(pipeline);
    if (replies === null) return found;
    campaigns.forEach((c, i) => {
      const [error, values] = replies[i] ?? [new Error("no reply"), null];
      if (error) this.counters.fetchErrors++;
      const counts = error ? null : parseCounts(values as Array<string | null>, c.windows, Math.floor(nowSec));
      if (counts) found.set(c.campaignId, counts);
    });
    return found;
  }

  /** exec() bounded by timeoutMs; null (and a counted error) on failure or timeout. */
  private async execWithin(pipeline: ChainableCommander): Promise<Array<[Error | null, unknown]> | null> {
    const limit = timeout(this.timeoutMs);
    const exec = pipeline.exec().catch(() => null);
    const result = await Promise.race([exec, limit.promise]);
    limit.cancel();
    if (result === "timeout") this.counters.fetchTimeouts++;
    else if (result === null) this.counters.fetchErrors++;
    return result === "timeout" ? null : result;
  }

  /** Sends everything queued; rejects (keeping it queued) when Redis cannot take it. */
  async flush(): Promise<void> {
    while (this.inflight || this.pending.size > 0) {
      if (this.inflight) {
        await this.inflightDone;
        continue;
      }
      const failed = await this.startFlush();
      if (failed) throw failed;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const limit = timeout(CLOSE_FLUSH_MS);
    await Promise.race([this.flush().catch(() => undefined), limit.promise]);
    limit.cancel();
    this.client.disconnect();
  }

  stats(): CapStoreStats {
    return { ...this.counters, pendingKeys: this.pending.size + (this.inflight?.size ?? 0) };
  }

  connected(): boolean {
    return this.client.status === "ready";
  }

  async waitReady(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.client.status !== "ready" && Date.now() < deadline) await Bun.sleep(RECONNECT_STEP_MS);
    return this.client.status === "ready";
  }

  /** A full batch flushes on the next turn of the event loop, not inside the caller's stack. */
  private kickSoon(): void {
    if (this.kickScheduled) return;
    this.kickScheduled = true;
    setImmediate(() => {
      this.kickScheduled = false;
      this.tick();
    });
  }

  /** Background flush: one pipeline at a time, only while connected. */
  private tick(): void {
    if (this.inflight || this.pending.size === 0 || this.client.status !== "ready") return;
    void this.startFlush();
  }

  /** Sends up to maxBatch keys in one pipeline; resolves with the error when it failed (keys re-queued). */
  private startFlush(): Promise<Error | null> {
    const batch = new Map<string, Pending>();
    for (const [key, p] of this.pending) {
      if (batch.size >= this.maxBatch) break;
      batch.set(key, p);
      this.pending.delete(key);
    }
    this.inflight = batch;
    const done = this.send(batch).finally(() => {
      this.inflight = null;
      if (this.pending.size >= this.maxBatch) this.kickSoon();
    });
    this.inflightDone = done.then(() => undefined);
    return done;
  }

  private async send(batch: Map<string, Pending>): Promise<Error | null> {
    this.counters.flushes++;
    const pipeline = this.client.pipeline() as ChainableCommander & CapPipeline;
    for (const [key, p] of batch) pipeline.capIncr(key, p.firstSec, p.lastSec, p.count, ...p.windowsSec);
    const replies = await pipeline.exec().catch((error: Error) => error);
    let firstError: Error | null = replies instanceof Error ? replies : null;
    let i = 0;
    for (const [key, p] of batch) {
      const reply = replies instanceof Error ? undefined : replies?.[i++];
      const error = reply ? reply[0] : (firstError ?? new Error("no reply"));
      if (error === null) this.counters.flushedImpressions += p.count;
      else this.merge(key, p); // failed: back in the queue, retried by a later flush
      firstError ??= error;
    }
    if (firstError) this.counters.flushErrors++;
    return firstError;
  }
}

export function createRedisCapStore(opts: RedisCapStoreOptions): RedisCapStore {
  return new RedisCapStoreImpl(opts);
}
