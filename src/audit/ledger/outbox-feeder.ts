// The embedded feeder: a registered outbox consumer ("billing-ledger") that reads committed
// records in order, applies each batch to the ledger in one SQLite transaction, and acks the
// batch's `next` only after that transaction committed. A crash between the commit and the ack
// replays the batch on the next start; the ledger ignores the replay by event_id.
//
// One feeder per worker outbox (an outbox is opened by one thread only; the feeder may run in another
// thread over a read-only view of it, see src/audit/consumers); all of them write to the same ledger file. Stop the feeder before closing its outbox.
import type { ConsumableOutbox, Position } from "../outbox/index.ts";
import type { ApplyResult } from "./ledger.ts";
import { LEDGER_LIMITS, OUTBOX_CONSUMER } from "./limits.ts";
import type { YieldGate } from "../consumers/yield-gate.ts";

/** What the feeder writes to: a Ledger, or a proxy applying the batch elsewhere (another thread). */
export interface LedgerSink {
  /** Applies the batch in one transaction; returns (or resolves) only once it committed. */
  applyPayloads(payloads: readonly Uint8Array[]): ApplyResult | Promise<ApplyResult>;
}

export interface OutboxLedgerFeederOptions {
  /** The outbox, or a read-only view of it in another thread (src/audit/consumers). */
  outbox: ConsumableOutbox;
  ledger: LedgerSink;
  /** Default "billing-ledger". */
  consumer?: string;
  /** Records per transaction; default LEDGER_LIMITS.outboxBatchRecords, at most LEDGER_LIMITS.maxBatchEvents. */
  maxBatchRecords?: number;
  /** After a read shorter than a batch, wait this long for more records; default LEDGER_LIMITS.lingerMs, 0 = none. */
  lingerMs?: number;
  /** Called with each failed batch attempt (it is retried with backoff) and with a fatal error. */
  onError?: (error: unknown) => void;
  /** Pauses reading while the request thread is at capacity (src/audit/consumers/yield-gate.ts). */
  gate?: YieldGate;
  /** Tests: runs after a batch committed, before its ack (a throw here is a crash before the ack). */
  afterCommit?: (result: ApplyResult) => void | Promise<void>;
}

export interface FeederStats extends ApplyResult {
  batches: number;
  retries: number;
  /** The position acked last (where a restart resumes). */
  acked: Position;
  lastError: string | null;
}

export interface OutboxLedgerFeeder {
  readonly consumer: string;
  stats(): FeederStats;
  /** Settles when the loop ends: resolves after stop() or the outbox closing; rejects on a fatal error. */
  readonly done: Promise<void>;
  /** Ends the loop after the batch in flight (committed and acked); resolves once it ended. */
  stop(): Promise<void>;
}

/** Registers the consumer (idempotent: resumes at its checkpoint) and starts following. */
export async function startOutboxLedgerFeeder(options: OutboxLedgerFeederOptions): Promise<OutboxLedgerFeeder> {
  const consumer = options.consumer ?? OUTBOX_CONSUMER;
  const maxBatch = options.maxBatchRecords ?? LEDGER_LIMITS.outboxBatchRecords;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > LEDGER_LIMITS.maxBatchEvents) {
    throw new RangeError(`maxBatchRecords must be 1..${LEDGER_LIMITS.maxBatchEvents}, got ${maxBatch}`);
  }
  const lingerMs = options.lingerMs ?? LEDGER_LIMITS.lingerMs;
  if (!Number.isFinite(lingerMs) || lingerMs < 0) throw new RangeError(`lingerMs must be >= 0, got ${lingerMs}`);
  const from = await options.outbox.registerConsumer(consumer);
  const stats: FeederStats = { inserted: 0, duplicates: 0, skipped: 0, invalid: 0, conflicts: 0, batches: 0, retries: 0, acked: from, lastError: null };
  const abort = new AbortController();
  const done = follow({ ...options, consumer, maxBatch, lingerMs, stats, signal: abort.signal }, from);
  done.catch((err) => options.onError?.(err));
  return {
    consumer,
    stats: () => ({ ...stats, acked: { ...stats.acked } }),
    done,
    async stop() {
      abort.abort();
      await done.catch(() => {});
    },
  };
}

interface Loop extends OutboxLedgerFeederOptions {
  consumer: string;
  maxBatch: number;
  lingerMs: number;
  stats: FeederStats;
  signal: AbortSignal;
}

async function follow(loop: Loop, from: Position): Promise<void> {
  const reader = loop.outbox.reader(from);
  try {
    while (!loop.signal.aborted) {
      if (loop.gate !== undefined && !(await loop.gate.pass(loop.signal))) return;
      const records = await reader.read(loop.maxBatch);
      if (records.length < loop.maxBatch) loop.gate?.caughtUp();
      if (records.length === 0) {
        if (outboxEnded(loop.outbox)) return;
        await loop.outbox.waitForCommit(reader.position, loop.signal);
        continue;
      }
      if (records.length < loop.maxBatch && loop.lingerMs > 0 && !(await sleepUnlessAborted(loop.lingerMs, loop.signal))) {
        records.push(...(await reader.read(loop.maxBatch - records.length)));
      }
      const result = await applyWithRetry(loop, records.map((r) => r.data));
      if (result === null) return; // stopped while retrying: nothing acked, the batch replays
      await loop.afterCommit?.(result);
      const next = records[records.length - 1]!.next;
      await loop.outbox.ack(loop.consumer, next);
      count(loop.stats, result, next);
    }
  } finally {
    await reader.close();
  }
}

/** Applies one batch; a failed transaction (busy, disk) is retried with backoff until stopped. */
async function applyWithRetry(loop: Loop, payloads: Uint8Array[]): Promise<ApplyResult | null> {
  let pauseMs: number = LEDGER_LIMITS.retryMinMs;
  for (;;) {
    try {
      return await loop.ledger.applyPayloads(payloads);
    } catch (err) {
      loop.stats.retries++;
      loop.stats.lastError = String((err as Error)?.message ?? err);
      loop.onError?.(err);
      if (await sleepUnlessAborted(pauseMs, loop.signal)) return null;
      pauseMs = Math.min(pauseMs * 2, LEDGER_LIMITS.retryMaxMs);
    }
  }
}

function count(stats: FeederStats, result: ApplyResult, acked: Position): void {
  stats.batches++;
  stats.inserted += result.inserted;
  stats.duplicates += result.duplicates;
  stats.skipped += result.skipped;
  stats.invalid += result.invalid;
  stats.conflicts += result.conflicts;
  stats.acked = acked;
}

/** Closed or failed: no record will commit any more (a failed outbox is reopened, with a new feeder). */
function outboxEnded(outbox: ConsumableOutbox): boolean {
  const state = outbox.state();
  return state === "closed" || state === "failed";
}

/** Sleeps `ms`; true when the signal aborted first. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
