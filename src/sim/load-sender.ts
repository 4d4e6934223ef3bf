// The load generator's HTTP client, behind one tiny interface so the transport is swappable.
// Default: HttpPool from src/dsp/http-pool.ts (bounded keep-alive sockets). TMAX_LOAD_CLIENT=fetch
// selects global fetch, which opens fresh sockets beyond ~64 in flight (TIME-WAIT pile-up, distorted p99).
import { HttpPool } from "../dsp/http-pool.ts";

export type Outcome = "ok" | "timeout" | "error" | "queue_full";
export type SendCb = (outcome: Outcome, status: number, detail: string) => void;

export interface Sender {
  kind: "http-pool" | "fetch";
  post(body: string, deadlineAt: number, cb: SendCb): void;
  close(): void;
}

const HEADERS = { "content-type": "application/json", "x-openrtb-version": "2.6" };
const EXTRA_HEADERS = "x-openrtb-version: 2.6\r\n"; // HttpPool already sends Content-Type

function errName(e: unknown): string {
  const x = e as { code?: string; name?: string } | undefined;
  return x?.code || x?.name || "error";
}

export function makeFetchSender(url: string): Sender {
  return {
    kind: "fetch",
    post(body, deadlineAt, cb) {
      const ms = Math.max(1, deadlineAt - performance.now());
      fetch(url, { method: "POST", body, headers: HEADERS, signal: AbortSignal.timeout(ms) }).then(
        async (r) => {
          try { await r.arrayBuffer(); } catch (e) { cb("error", r.status, errName(e)); return; }
          cb("ok", r.status, "");
        },
        (e: unknown) => cb(errName(e) === "TimeoutError" ? "timeout" : "error", 0, errName(e)),
      );
    },
    close() {},
  };
}

export function makePoolSender(url: string, sockets: number, maxQueued: number): Sender {
  const pool = new HttpPool({ url, maxSockets: sockets, maxQueued, connectTimeoutMs: 1000 });
  return {
    kind: "http-pool",
    post: (body, deadlineAt, cb) => pool.post(body, EXTRA_HEADERS, deadlineAt, (o, status, _body, detail) => cb(o, status, detail)),
    close: () => pool.close(),
  };
}

export type ClientKind = Sender["kind"];

/** HttpPool unless TMAX_LOAD_CLIENT=fetch (or kind = "fetch"). */
export function makeSender(url: string, sockets: number, maxQueued: number, kind?: ClientKind): Sender {
  const k = kind ?? (process.env.TMAX_LOAD_CLIENT === "fetch" ? "fetch" : "http-pool");
  return k === "fetch" ? makeFetchSender(url) : makePoolSender(url, sockets, maxQueued);
}
