// Where Parquet encoding runs. Encoding is synchronous CPU work (~25 us per event, measured: a
// 10,000-event flush blocks its thread ~250 ms), too long for a worker thread that answers
// auctions within ~100 ms. The thread encoder moves it to a helper thread: the caller only pays
// the structured clone of the events, and the bytes come back transferred (not copied).
import { encodeEvents, type EncodeOptions } from "./parquet.ts";
import type { ArchivableEvent } from "./columns.ts";

export type Encoder = (events: readonly ArchivableEvent[], options: EncodeOptions) => Promise<Uint8Array>;

/** Encodes on the calling thread (retention, tools, tests). */
export const inlineEncoder: Encoder = async (events, options) => encodeEvents(events, options);

const BUNFS_ROOT = "/$bunfs/root";
const IS_COMPILED = import.meta.url.startsWith(`file://${BUNFS_ROOT}/`);
/** The helper's entry; a compiled binary must embed src/audit/archive/encode-worker.ts as an entry point. */
export const ENCODE_WORKER_URL = IS_COMPILED
  ? `file://${BUNFS_ROOT}/src/audit/archive/encode-worker.js`
  : new URL("./encode-worker.ts", import.meta.url).href;

export interface EncodeRequest {
  id: number;
  events: readonly ArchivableEvent[];
  options: EncodeOptions;
}

export type EncodeReply = { id: number; bytes: Uint8Array } | { id: number; error: string };

export interface ThreadEncoder {
  encode: Encoder;
  /** Ends the helper thread; encodes still waiting reject. */
  close(): void;
}

/** One helper thread, started on first use, restarted after it dies; it does not keep the process alive. */
export function threadEncoder(url: string = ENCODE_WORKER_URL): ThreadEncoder {
  let worker: Worker | null = null;
  let nextId = 1;
  const waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
    worker?.terminate();
    worker = null;
  };
  const start = (): Worker => {
    const w = new Worker(url);
    w.unref();
    w.onmessage = (event: MessageEvent<EncodeReply>) => {
      const reply = event.data;
      const entry = waiting.get(reply.id);
      waiting.delete(reply.id);
      if ("error" in reply) entry?.reject(new Error(`parquet encode failed: ${reply.error}`));
      else entry?.resolve(reply.bytes);
    };
    w.onerror = (event: ErrorEvent) => failAll(new Error(`parquet encode thread died: ${event.message}`));
    return w;
  };
  return {
    encode: (events, options) =>
      new Promise<Uint8Array>((resolve, reject) => {
        const id = nextId++;
        worker ??= start();
        worker.postMessage({ id, events, options } satisfies EncodeRequest); // throws (rejects) if not cloneable
        waiting.set(id, { resolve, reject }); // the reply comes in a later turn of the event loop
      }),
    close: () => failAll(new Error("parquet encode thread closed")),
  };
}
