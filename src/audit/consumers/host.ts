// The writer side of a consumer thread: the request-serving worker keeps its outbox (appends,
// fsyncs, checkpoints, segment deletion) and moves the consumers that read it — the Parquet
// archiver, the embedded ledger feeder and the Kafka relay — to a thread of their own (thread.ts). The consumers are
// registered here, before the first request, so no segment is deleted before they have read it.
// After a group commit this side posts the committed end (and the segments) to the thread, which
// reads no further; at most every COMMIT_NOTICE_EVERY_MS (the first after a quiet spell at once); the thread's acks come back and are applied here with outbox.ack, so the
// checkpoint file and deletions stay in the one thread that owns the outbox. A thread that dies is
// started again from the checkpoints (its unacked batches replay: the ledger ignores replays by
// event_id, the archive replaces parts of the same batch).
import type { Outbox } from "../outbox/index.ts";
import { ARCHIVE_CONSUMER } from "../archive/archiver.ts";
import { OUTBOX_CONSUMER } from "../ledger/limits.ts";
import { CONSUMER_WORKER_URL } from "../../worker-url.ts";
import type { KafkaRelayStats } from "../relay/relay.ts";
import type { ConsumerThreadInit, HostToThread, RelayThreadOptions, ThreadToHost } from "./protocol.ts";
import { coalesced } from "../../util/coalesce.ts";
import { allocateYieldCells, clearYielding } from "./yield-gate.ts";

/** How long stop() waits for the thread to write and ack what it holds before terminating it. */
export const CONSUMER_STOP_TIMEOUT_MS = 30_000;
export const CONSUMER_RESTART_DELAY_MS = 1_000;
/**
 * The thread hears of new commits at most this often. A worker commits once per busy turn of its loop
 * (hundreds a second under load): a message each, a snapshot to clone, a wakeup and a small read on
 * the other side, for consumers that batch for 100 ms (ledger) and seconds (archive) anyway. Measured
 * in the overload chaos stack at 13,000 rps: the two consumer threads used 28.5% of a core before,
 * 26% after (the rest is their real work: parsing, Parquet, SQLite).
 */
export const COMMIT_NOTICE_EVERY_MS = 20;

export interface ConsumerThreadOptions {
  outbox: Outbox;
  workerIndex: number;
  archiveDir: string;
  archiveFlushEveryRecords?: number;
  archiveFlushEveryMs?: number;
  /** The embedded ledger fed from this outbox, or null. */
  ledger: { file: string; maxBatchRecords: number; lingerMs: number } | null;
  /** The Kafka relay, or null (embedded default). */
  relay?: RelayThreadOptions | null;
  /** The archive and ledger pause while the worker is at capacity (yield-gate.ts); default: never. */
  yield?: { cells: SharedArrayBuffer; maxYieldMs: number };
  /** The thread's entry (tests); default CONSUMER_WORKER_URL. */
  url?: string;
  restartDelayMs?: number;
  onError?: (error: unknown, context?: unknown) => void;
}

export interface ConsumerThread {
  /** How many times the thread died and was started again. */
  restarts(): number;
  /** The relay's latest figures as the thread reported them; null without a relay or before its first report. */
  relayStats(): KafkaRelayStats | null;
  /** Stops the consumers (they write and ack what they hold), then ends the thread. Call before closing the outbox. */
  stop(): Promise<void>;
}

export async function startConsumerThread(options: ConsumerThreadOptions): Promise<ConsumerThread> {
  const { outbox } = options;
  const relay = options.relay ?? null;
  const names = [ARCHIVE_CONSUMER, ...(options.ledger === null ? [] : [OUTBOX_CONSUMER]), ...(relay === null ? [] : [relay.consumerName])];
  for (const name of names) await outbox.registerConsumer(name);
  const url = options.url ?? CONSUMER_WORKER_URL;
  const yieldOptions = options.yield ?? { cells: allocateYieldCells(), maxYieldMs: 0 };
  let stopping = false;
  let restarts = 0;
  let restartTimer: ReturnType<typeof setTimeout> | null = null;
  let live: Live | null = null;

  const initFor = (): ConsumerThreadInit => ({
    workerIndex: options.workerIndex,
    outboxDir: outbox.dir,
    snapshot: outbox.segmentSnapshot(),
    positions: names.map((name) => [name, outbox.consumerPosition(name)!]),
    archive: { dir: options.archiveDir, consumerName: ARCHIVE_CONSUMER, flushEveryRecords: options.archiveFlushEveryRecords, flushEveryMs: options.archiveFlushEveryMs },
    ledger: options.ledger === null ? null : { ...options.ledger, consumerName: OUTBOX_CONSUMER },
    relay,
    yield: yieldOptions,
  });
  let relayStats: KafkaRelayStats | null = null;
  const onStats = (stats: KafkaRelayStats) => { relayStats = stats; };

  let spawning: Promise<unknown> | null = null;
  const restart = () => {
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (stopping) return;
      restarts++;
      clearYielding(yieldOptions.cells);
      spawning = spawn(outbox, url, initFor(), onExit, onStats).then(
        async (thread) => {
          if (stopping) await thread.stop();
          else live = thread;
        },
        (err) => {
          if (stopping) return;
          options.onError?.(err, { consumerThread: "restart failed; retrying" });
          restart();
        },
      ).finally(() => (spawning = null));
    }, options.restartDelayMs ?? CONSUMER_RESTART_DELAY_MS);
  };
  const onExit = (thread: Live, reason: unknown) => {
    if (live !== thread) return;
    live = null;
    thread.dispose();
    if (stopping) return;
    options.onError?.(reason, { consumerThread: "died; restarting from the checkpoints" });
    restart();
  };
  live = await spawn(outbox, url, initFor(), onExit, onStats);

  return {
    restarts: () => restarts,
    relayStats: () => relayStats,
    async stop() {
      stopping = true;
      if (restartTimer !== null) clearTimeout(restartTimer);
      await spawning;
      const thread = live;
      live = null;
      await thread?.stop();
    },
  };
}

interface Live {
  stop(): Promise<void>;
  dispose(): void;
}

/** Starts one thread; resolves once its consumers started (rejects, the thread ended, when they could not). */
function spawn(
  outbox: Outbox, url: string, init: ConsumerThreadInit, onExit: (thread: Live, reason: unknown) => void, onStats: (stats: KafkaRelayStats) => void,
): Promise<Live> {
  const worker = new Worker(url);
  const post = (message: HostToThread) => {
    if (!ended) worker.postMessage(message);
  };
  let ended = false;
  let ready = false;
  let stopped: (() => void) | null = null;
  const commitNotice = coalesced(() => post({ type: "commit", snapshot: outbox.segmentSnapshot() }), COMMIT_NOTICE_EVERY_MS);
  const unsubscribe = outbox.onCommit(() => commitNotice.notify());
  const end = () => {
    if (ended) return;
    ended = true;
    unsubscribe();
    commitNotice.cancel();
    worker.terminate();
    stopped?.();
  };
  const thread: Live = {
    dispose: end,
    stop: () =>
      new Promise<void>((resolve) => {
        if (ended) return resolve();
        const timer = setTimeout(end, CONSUMER_STOP_TIMEOUT_MS);
        stopped = () => {
          clearTimeout(timer);
          resolve();
        };
        commitNotice.flush(); // the thread takes what was committed until now before it stops
        post({ type: "stop" });
      }).then(end),
  };
  return new Promise<Live>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<ThreadToHost>) => {
      const message = event.data;
      switch (message.type) {
        case "ready":
          ready = true;
          resolve(thread);
          break;
        case "failed":
          end();
          reject(new Error(`audit consumer thread could not start: ${message.error}`));
          break;
        case "ack":
          outbox.ack(message.name, message.position).then(
            () => post({ type: "acked", id: message.id, snapshot: outbox.segmentSnapshot() }),
            (err) => post({ type: "acked", id: message.id, error: String((err as Error)?.message ?? err), snapshot: outbox.segmentSnapshot() }),
          );
          break;
        case "relay-stats":
          onStats(message.stats);
          break;
        case "stopped":
          stopped?.();
          break;
      }
    };
    const died = (reason: unknown) => {
      if (ended) return;
      if (!ready) {
        end();
        reject(reason instanceof Error ? reason : new Error(String(reason)));
      } else if (stopped !== null) {
        end(); // died while stopping: what it did not ack replays at the next start
      } else {
        onExit(thread, reason);
      }
    };
    worker.addEventListener("error", (event: ErrorEvent) => died(new Error(`audit consumer thread failed: ${event.message}`)));
    worker.addEventListener("close", () => died(new Error("audit consumer thread exited")));
    worker.postMessage({ type: "init", init } satisfies HostToThread);
  });
}
