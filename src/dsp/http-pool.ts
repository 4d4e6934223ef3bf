// Bounded keep-alive HTTP/1.1 client pool for one DSP origin, on Bun.connect callbacks.
// Hot path: no promise, no timer and no closure per request. All deadlines (requests, connects,
// late responses) live in one min-heap per pool, served by a single re-armed setTimeout.
import type { Socket, SocketHandler } from "bun";
import { PARSE_DONE, PARSE_ERROR, ResponseParser } from "./http-parse.ts";
import { DeadlineHeap } from "./deadline-heap.ts";
import { log } from "../log/logger.ts";

export const DEFAULT_CONNECT_TIMEOUT_MS = 1000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
/** A socket whose request timed out waits this long for the late response before it is destroyed. */
export const LATE_RESPONSE_GRACE_MS = 5000;
/** A request on a stale keep-alive socket is retried only if at least this much time is left. */
export const MIN_RETRY_BUDGET_MS = 1;
/**
 * A deadline noticed this late means our own event loop was stalled (GC, CPU starvation): the
 * answer may be sitting unread in the socket. Such timeouts carry the detail "stalled" so the
 * caller does not blame the DSP for them.
 */
export const STALLED_TIMER_MS = 10;

export interface HttpPoolOptions {
  url: string;
  maxSockets: number;
  maxQueued: number;
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  /** How long a timed-out request's socket waits for the late response; default LATE_RESPONSE_GRACE_MS. */
  lateResponseGraceMs?: number;
}
export type HttpOutcome = "ok" | "timeout" | "error" | "queue_full";
export type HttpCallback = (outcome: HttpOutcome, status: number, body: string, detail: string) => void;
export interface HttpResult {
  outcome: HttpOutcome;
  status: number;
  body: string;
  detail: string;
}
export interface HttpPoolStats {
  open: number; // connecting + busy + idle
  connecting: number;
  busy: number; // includes sockets awaiting a late response
  idle: number;
  queued: number;
  /** Connect attempts given up on (connect timeout or pool closed) that Bun cannot cancel yet. */
  abandoned: number;
  created: number;
  closed: number;
}

const CONNECTING = 0;
const IDLE = 1;
const BUSY = 2;
const LATE = 3; // request timed out, its response still expected
const CLOSED = 4;

// What destroy() does with the socket.
const SOCKET_END = 0; // graceful FIN
const SOCKET_TERMINATE = 1; // RST: broken or unwanted connection
const SOCKET_GONE = 2; // Bun already closed it
type SocketAction = typeof SOCKET_END | typeof SOCKET_TERMINATE | typeof SOCKET_GONE;

class Req {
  heapIndex = -1;
  conn: Conn | null = null;
  retried = false;
  constructor(
    readonly body: string,
    readonly extraHeaders: string,
    readonly deadlineAt: number,
    public cb: HttpCallback | null, // null once called
  ) {}
}

class Conn {
  heapIndex = -1;
  deadlineAt = Infinity; // connect timeout or late-response grace
  state = CONNECTING;
  socket: Socket<Conn> | null = null;
  req: Req | null = null;
  unsent: Uint8Array | null = null; // request bytes the kernel did not take yet
  requestsSent = 0;
  abandoned = false; // destroyed while Bun's connect was still pending
  readonly parser: ResponseParser;
  constructor(readonly pool: HttpPool, maxResponseBytes: number) {
    this.parser = new ResponseParser(maxResponseBytes);
  }
}

type Timed = Req | Conn;

const HANDLERS: SocketHandler<Conn> = {
  open: (socket) => socket.data.pool.onOpen(socket.data, socket),
  data: (socket, chunk) => socket.data.pool.onData(socket.data, chunk),
  drain: (socket) => socket.data.pool.onDrain(socket.data),
  close: (socket, err) => socket.data.pool.onLost(socket.data, errorCode(err, "socket_closed"), SOCKET_GONE),
  connectError: (socket, err) => socket.data.pool.onLost(socket.data, errorCode(err, "connect_failed"), SOCKET_GONE),
  error: (socket, err) => socket.data.pool.onHandlerError(socket.data, err),
};

export class HttpPool {
  private readonly hostname: string;
  private readonly port: number;
  private readonly headPrefix: string; // request head up to the Content-Length value
  private readonly maxSockets: number;
  private readonly maxQueued: number;
  private readonly connectTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly lateResponseGraceMs: number;
  private readonly idle: Conn[] = []; // LIFO
  private readonly conns = new Set<Conn>(); // every conn not CLOSED
  private readonly heap = new DeadlineHeap<Timed>();
  private queue: Req[] = []; // FIFO from queueHead; entries whose cb is null are dead
  private queueHead = 0;
  private queuedCount = 0;
  private openCount = 0;
  private abandonedCount = 0;
  private createdCount = 0;
  private closedCount = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAt = Infinity;
  private isClosed = false;

  constructor(opts: HttpPoolOptions) {
    const url = new URL(opts.url);
    if (url.protocol === "https:") throw new Error("https DSP endpoints are not supported yet");
    if (url.protocol !== "http:") throw new Error(`unsupported DSP endpoint protocol: ${url.protocol}`);
    if (!(opts.maxSockets >= 1) || !(opts.maxQueued >= 0)) throw new Error("maxSockets must be >= 1, maxQueued >= 0");
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = url.port === "" ? 80 : Number(url.port);
    this.maxSockets = opts.maxSockets;
    this.maxQueued = opts.maxQueued;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.maxResponseBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.lateResponseGraceMs = opts.lateResponseGraceMs ?? LATE_RESPONSE_GRACE_MS;
    const path = url.pathname + url.search;
    this.headPrefix =
      `POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\n` +
      "Connection: keep-alive\r\nContent-Length: ";
  }

  /**
   * POSTs `body` to the URL's path. `extraHeaders` is "" or "Name: value\r\n" lines; `deadlineAt` is in
   * performance.now() ms. `cb` runs exactly once, synchronously (inside post) only for queue_full,
   * pool_closed and an already-passed deadline. Never throws; a throwing cb is logged and ignored.
   */
  post(body: string, extraHeaders: string, deadlineAt: number, cb: HttpCallback): void {
    const req = new Req(body, extraHeaders, deadlineAt, cb);
    if (this.isClosed) return this.fail(req, "error", "pool_closed");
    if (deadlineAt <= performance.now()) return this.fail(req, "timeout", "expired_before_send");
    const conn = this.idle.pop();
    if (conn !== undefined) {
      this.schedule(req);
      return this.send(conn, req);
    }
    if (this.canConnect()) {
      this.schedule(req);
      return this.connect(req);
    }
    if (this.queuedCount >= this.maxQueued) return this.fail(req, "queue_full", "queue_full");
    this.schedule(req);
    this.queue.push(req);
    this.queuedCount++;
  }

  postAsync(body: string, extraHeaders: string, deadlineAt: number): Promise<HttpResult> {
    return new Promise((resolve) => {
      this.post(body, extraHeaders, deadlineAt, (outcome, status, responseBody, detail) =>
        resolve({ outcome, status, body: responseBody, detail }),
      );
    });
  }

  stats(): HttpPoolStats {
    let connecting = 0;
    let busy = 0;
    for (const conn of this.conns) {
      if (conn.state === CONNECTING) connecting++;
      else if (conn.state === BUSY || conn.state === LATE) busy++;
    }
    return {
      open: this.openCount,
      connecting,
      busy,
      idle: this.idle.length,
      queued: this.queuedCount,
      abandoned: this.abandonedCount,
      created: this.createdCount,
      closed: this.closedCount,
    };
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const conn of [...this.conns]) {
      const req = conn.req;
      this.destroy(conn, SOCKET_END);
      if (req !== null) this.fail(req, "error", "pool_closed");
    }
    for (let req = this.dequeue(); req !== null; req = this.dequeue()) this.fail(req, "error", "pool_closed");
    for (let entry = this.heap.pop(); entry !== undefined; entry = this.heap.pop()) {
      if (entry instanceof Req) this.fail(entry, "error", "pool_closed");
    }
  }

  // ---- socket events: called from HANDLERS only, not part of the API ----

  onOpen(conn: Conn, socket: Socket<Conn>): void {
    conn.socket = socket;
    if (conn.state === CLOSED) return this.dropAbandoned(conn, socket);
    this.heap.remove(conn);
    socket.setNoDelay(true);
    if (conn.req !== null) this.send(conn, conn.req);
    else this.release(conn);
  }

  onData(conn: Conn, chunk: Buffer): void {
    if (conn.state !== BUSY && conn.state !== LATE) {
      if (conn.state !== CLOSED) this.destroy(conn, SOCKET_TERMINATE); // bytes nobody asked for
      return;
    }
    const result = conn.parser.feed(chunk);
    if (result === PARSE_DONE) this.finishResponse(conn, false);
    else if (result === PARSE_ERROR) this.abortConn(conn, conn.parser.error);
  }

  onDrain(conn: Conn): void {
    const unsent = conn.unsent;
    if (unsent === null || conn.socket === null || conn.state === CLOSED) return;
    const written = conn.socket.write(unsent);
    if (written < 0) return this.onLost(conn, "write_failed", SOCKET_TERMINATE);
    conn.unsent = written < unsent.length ? unsent.subarray(written) : null;
  }

  /** The socket closed, failed to connect, or refused a write. */
  onLost(conn: Conn, detail: string, action: SocketAction): void {
    if (conn.state === CLOSED) return this.dropAbandoned(conn, null);
    const awaitingResponse = conn.state === BUSY || conn.state === LATE;
    if (awaitingResponse && conn.parser.finishOnEof()) return this.finishResponse(conn, true);
    const req = conn.req;
    const staleKeepAlive = conn.requestsSent > 1 && !conn.parser.started;
    this.destroy(conn, action);
    if (req !== null && !(staleKeepAlive && this.retry(req))) this.fail(req, "error", detail);
    this.pump();
  }

  onHandlerError(conn: Conn, err: Error): void {
    log.error("http-pool: socket handler threw", { error: err });
    if (conn.state !== CLOSED) this.abortConn(conn, "internal_error");
    else if (conn.socket !== null) conn.socket.terminate();
  }

  // ---- request flow ----

  private canConnect(): boolean {
    return !this.isClosed && this.openCount < this.maxSockets && this.abandonedCount < this.maxSockets;
  }

  private connect(req: Req | null): void {
    const conn = new Conn(this, this.maxResponseBytes);
    conn.req = req;
    if (req !== null) req.conn = conn;
    conn.deadlineAt = performance.now() + this.connectTimeoutMs;
    this.conns.add(conn);
    this.openCount++;
    this.createdCount++;
    this.schedule(conn);
    try {
      const opts = { hostname: this.hostname, port: this.port, data: conn, socket: HANDLERS };
      Bun.connect<Conn>(opts).catch(ignore); // failures arrive through connectError
    } catch (err) {
      this.onLost(conn, errorCode(err, "connect_failed"), SOCKET_GONE);
    }
  }

  private send(conn: Conn, req: Req): void {
    conn.state = BUSY;
    conn.req = req;
    conn.requestsSent++;
    conn.parser.reset();
    req.conn = conn;
    const bodyBytes = Buffer.byteLength(req.body);
    const head = this.headPrefix + bodyBytes + "\r\n" + req.extraHeaders + "\r\n";
    const request = head + req.body;
    const written = conn.socket!.write(request);
    if (written < 0) return this.onLost(conn, "write_failed", SOCKET_TERMINATE);
    if (written < Buffer.byteLength(head) + bodyBytes) conn.unsent = Buffer.from(request).subarray(written);
  }

  /** Gives a free conn the oldest queued request, or parks it idle. */
  private release(conn: Conn): void {
    conn.req = null;
    const next = this.dequeue();
    if (next !== null) return this.send(conn, next);
    conn.state = IDLE;
    this.idle.push(conn);
  }

  /** Opens sockets for queued requests while the bound allows. */
  private pump(): void {
    while (this.queuedCount > 0 && this.canConnect()) this.connect(this.dequeue());
  }

  private retry(req: Req): boolean {
    if (req.retried || req.deadlineAt - performance.now() < MIN_RETRY_BUDGET_MS || !this.canConnect()) return false;
    req.retried = true;
    this.connect(req); // a fresh socket: other idle ones may be just as stale
    return true;
  }

  private finishResponse(conn: Conn, socketGone: boolean): void {
    const req = conn.req;
    const { status, body, keepAlive, extraBytes } = conn.parser; // read before release() reuses the parser
    if (req !== null) this.heap.remove(req);
    this.heap.remove(conn);
    if (keepAlive && !extraBytes && conn.unsent === null && !socketGone) {
      this.release(conn);
    } else {
      this.destroy(conn, socketGone ? SOCKET_GONE : extraBytes ? SOCKET_TERMINATE : SOCKET_END);
      this.pump();
    }
    if (req !== null) this.deliver(req, "ok", status, body, "");
  }

  // ---- deadlines ----

  private schedule(entry: Timed): void {
    this.heap.push(entry);
    if (entry.deadlineAt < this.timerAt) this.armTimer(entry.deadlineAt);
  }

  private armTimer(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(at - performance.now())));
    this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = performance.now();
    for (let top = this.heap.peek(); top !== undefined && top.deadlineAt <= now; top = this.heap.peek()) {
      this.heap.pop();
      if (top instanceof Req) this.expireReq(top, now);
      else this.expireConn(top);
    }
    const next = this.heap.peek();
    if (next !== undefined && !this.isClosed) this.armTimer(next.deadlineAt);
  };

  private expireReq(req: Req, now: number): void {
    const conn = req.conn;
    if (conn === null) {
      this.queuedCount--; // its queue slot is skipped later
      return this.fail(req, "timeout", "queued");
    }
    conn.req = null;
    if (conn.state === BUSY) {
      conn.state = LATE;
      conn.deadlineAt = now + this.lateResponseGraceMs;
      this.schedule(conn);
    }
    const stalled = now - req.deadlineAt > STALLED_TIMER_MS;
    this.fail(req, "timeout", stalled ? "stalled" : conn.state === CONNECTING ? "connecting" : "deadline");
  }

  private expireConn(conn: Conn): void {
    if (conn.state === LATE) return this.abortConn(conn, "late_response_grace");
    const req = conn.req; // CONNECTING: give up on this connect
    this.destroy(conn, SOCKET_END);
    if (req !== null) this.fail(req, "error", "connect_timeout");
    this.pump();
  }

  // ---- teardown ----

  private abortConn(conn: Conn, detail: string): void {
    const req = conn.req;
    this.destroy(conn, SOCKET_TERMINATE);
    if (req !== null) this.fail(req, "error", detail);
    this.pump();
  }

  /** Marks conn CLOSED first, so the close callback that end()/terminate() fire synchronously is ignored. */
  private destroy(conn: Conn, action: SocketAction): void {
    if (conn.state === IDLE) this.idle.splice(this.idle.indexOf(conn), 1);
    if (conn.state === CONNECTING && action !== SOCKET_GONE) {
      conn.abandoned = true; // Bun cannot cancel a pending connect: dropAbandoned() ends it later
      this.abandonedCount++;
    }
    conn.state = CLOSED;
    conn.req = null;
    conn.unsent = null;
    this.heap.remove(conn);
    this.conns.delete(conn);
    this.openCount--;
    this.closedCount++;
    const socket = conn.socket;
    if (socket === null || action === SOCKET_GONE) return;
    if (action === SOCKET_TERMINATE) socket.terminate();
    else socket.end();
  }

  /** An abandoned connect finished: close it if it opened, and stop counting it. */
  private dropAbandoned(conn: Conn, socket: Socket<Conn> | null): void {
    if (!conn.abandoned) return;
    conn.abandoned = false;
    this.abandonedCount--;
    if (socket !== null) socket.terminate();
  }

  private dequeue(): Req | null {
    while (this.queueHead < this.queue.length) {
      const req = this.queue[this.queueHead++]!;
      if (req.cb !== null) {
        this.queuedCount--;
        return req;
      }
    }
    this.queue = [];
    this.queueHead = 0;
    return null;
  }

  private fail(req: Req, outcome: HttpOutcome, detail: string): void {
    this.heap.remove(req);
    this.deliver(req, outcome, 0, "", detail);
  }

  private deliver(req: Req, outcome: HttpOutcome, status: number, body: string, detail: string): void {
    const cb = req.cb;
    if (cb === null) return;
    req.cb = null;
    req.conn = null;
    try {
      cb(outcome, status, body, detail);
    } catch (err) {
      log.error("http-pool: callback threw", { error: err });
    }
  }
}

function errorCode(err: unknown, fallback: string): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && code !== "" ? code : fallback;
}

function ignore(): void {}
