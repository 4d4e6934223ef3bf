import { afterAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { HttpPool, type HttpPoolOptions, type HttpResult } from "./http-pool";

const toClose: { stop(force?: boolean): void }[] = [];
const pools: HttpPool[] = [];
afterAll(() => {
  for (const pool of pools) pool.close();
  for (const server of toClose) server.stop(true);
});

function newPool(url: string, opts: Partial<HttpPoolOptions> = {}): HttpPool {
  const pool = new HttpPool({ url, maxSockets: 4, maxQueued: 100, ...opts });
  pools.push(pool);
  return pool;
}

const inMs = (ms: number) => performance.now() + ms;

/** Bun.serve: /echo answers {len, ct, x, body}; /slow?ms=N waits N ms then echoes; /empty is a 204. */
function startEchoServer(): number {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = await req.text();
      if (url.pathname === "/empty") return new Response(null, { status: 204 });
      if (url.pathname === "/slow") await Bun.sleep(Number(url.searchParams.get("ms")));
      const h = req.headers;
      return Response.json({ len: h.get("content-length"), ct: h.get("content-type"), x: h.get("x-test"), body });
    },
  });
  toClose.push(server);
  return server.port!;
}

interface RawState {
  pending: string;
  served: number; // requests seen on this connection
}
type RawSocket = Socket<RawState>;

/** Bun.listen server that hands each complete request (head + Content-Length body) to onRequest. */
function startRawServer(onRequest: (socket: RawSocket, request: string) => void) {
  const counts = { connections: 0, requests: 0, closedByClient: 0 };
  const listener = Bun.listen<RawState>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { pending: "", served: 0 };
        counts.connections++;
      },
      data(socket, chunk) {
        socket.data.pending += chunk.toString("latin1");
        for (let request = takeRequest(socket.data); request !== ""; request = takeRequest(socket.data)) {
          counts.requests++;
          onRequest(socket, request);
          socket.data.served++;
        }
      },
      close() {
        counts.closedByClient++;
      },
    },
  });
  toClose.push(listener);
  return { port: listener.port, counts };
}

function takeRequest(state: RawState): string {
  const headEnd = state.pending.indexOf("\r\n\r\n");
  if (headEnd < 0) return "";
  const length = Number(/content-length: *(\d+)/i.exec(state.pending.slice(0, headEnd))?.[1] ?? 0);
  const end = headEnd + 4 + length;
  if (state.pending.length < end) return "";
  const request = state.pending.slice(0, end);
  state.pending = state.pending.slice(end);
  return request;
}

/** Writes the bytes of `raw` in pieces of the given sizes (cycled), a timer tick apart so they arrive as separate reads. */
async function dribble(socket: RawSocket, raw: string, pieceSizes: number[]): Promise<void> {
  const bytes = Buffer.from(raw);
  for (let pos = 0, i = 0; pos < bytes.length; i++) {
    const size = pieceSizes[i % pieceSizes.length]!;
    socket.write(bytes.subarray(pos, pos + size));
    pos += size;
    await Bun.sleep(1);
  }
}

/** A chunked response with one chunk per part, sizes in UTF-8 bytes. */
function chunkedResponse(parts: string[]): string {
  const chunks = parts.map((part, i) => `${Buffer.byteLength(part).toString(16)}${i % 2 ? ";ext=1" : ""}\r\n${part}\r\n`);
  return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks.join("") + "0\r\n\r\n";
}

function refusedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** A listener whose accept backlog is full, so new connects hang in SYN-SENT (python3: Bun.listen always accepts). */
async function startBlackholeListener(): Promise<{ port: number; kill(): void }> {
  const script = [
    "import socket, time",
    "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)",
    "fill = [socket.socket() for _ in range(3)]",
    "for c in fill: c.setblocking(False); c.connect_ex(s.getsockname())",
    "print(s.getsockname()[1], flush=True)",
    "time.sleep(30)",
  ].join("\n");
  const child = Bun.spawn(["python3", "-c", script], { stdout: "pipe" });
  const { value } = await child.stdout.getReader().read();
  return { port: Number(new TextDecoder().decode(value).trim()), kill: () => child.kill() };
}

const expectOk = (r: HttpResult) => expect([r.outcome, r.detail]).toEqual(["ok", ""]);

describe("HttpPool against Bun.serve", () => {
  const port = startEchoServer();
  const base = `http://127.0.0.1:${port}`;

  test("POST round trip: body, headers, UTF-8 byte length", async () => {
    const pool = newPool(`${base}/echo`);
    const body = JSON.stringify({ id: "é€😀", imp: [1, 2] });
    const r = await pool.postAsync(body, "X-Test: yes\r\n", inMs(1000));
    expectOk(r);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({
      len: String(Buffer.byteLength(body)),
      ct: "application/json",
      x: "yes",
      body,
    });
    expect(Buffer.byteLength(body)).toBeGreaterThan(body.length);
  });

  test("204 gives an empty body and the socket is reused", async () => {
    const pool = newPool(`${base}/empty`);
    for (let i = 0; i < 3; i++) {
      const r = await pool.postAsync("{}", "", inMs(1000));
      expect([r.outcome, r.status, r.body]).toEqual(["ok", 204, ""]);
    }
    expect(pool.stats().created).toBe(1);
  });

  test("a deadline noticed late because our own loop stalled is a timeout with detail 'stalled'", async () => {
    const pool = newPool(`${base}/slow?ms=150`);
    await pool.postAsync("{}", "", inMs(1000)); // connected and warm
    const late = pool.postAsync("{}", "", inMs(20));
    const blockUntil = performance.now() + 60;
    while (performance.now() < blockUntil); // the process is stalled past the deadline + STALLED_TIMER_MS
    const r = await late;
    expect([r.outcome, r.detail]).toEqual(["timeout", "stalled"]);
    const onTime = await pool.postAsync("{}", "", inMs(20));
    expect([onTime.outcome, onTime.detail]).toEqual(["timeout", "deadline"]);
  });

  test("keep-alive: 200 sequential requests use one socket", async () => {
    const pool = newPool(`${base}/echo`);
    for (let i = 0; i < 200; i++) {
      const r = await pool.postAsync(`{"i":${i}}`, "", inMs(1000));
      expect(JSON.parse(r.body).body).toBe(`{"i":${i}}`);
    }
    expect(pool.stats()).toMatchObject({ created: 1, open: 1, idle: 1, busy: 0, queued: 0 });
  });

  test("bound: 300 concurrent requests on at most 16 sockets all succeed", async () => {
    const pool = newPool(`${base}/slow?ms=20`, { maxSockets: 16, maxQueued: 1000 });
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => pool.postAsync(`{"i":${i}}`, "", inMs(10_000))),
    );
    results.forEach((r, i) => expect([r.outcome, JSON.parse(r.body).body]).toEqual(["ok", `{"i":${i}}`]));
    expect(pool.stats().created).toBeLessThanOrEqual(16);
    expect(pool.stats()).toMatchObject({ busy: 0, queued: 0 });
  });

  test("queue_full fails at once when maxQueued is exceeded", async () => {
    const pool = newPool(`${base}/slow?ms=50`, { maxSockets: 1, maxQueued: 2 });
    const pending = [1, 2, 3].map(() => pool.postAsync("{}", "", inMs(2000)));
    let rejected: string[] = [];
    pool.post("{}", "", inMs(2000), (outcome, status, body, detail) => (rejected = [outcome, String(status), body, detail]));
    expect(rejected).toEqual(["queue_full", "0", "", "queue_full"]);
    expect(pool.stats()).toMatchObject({ open: 1, queued: 2 });
    for (const r of await Promise.all(pending)) expectOk(r);
  });

  test("a queued request times out when no socket frees in time", async () => {
    const pool = newPool(`${base}/slow?ms=300`, { maxSockets: 1 });
    const first = pool.postAsync("{}", "", inMs(2000));
    const start = performance.now();
    const queued = await pool.postAsync("{}", "", inMs(50));
    const elapsedMs = performance.now() - start;
    expect([queued.outcome, queued.status, queued.body, queued.detail]).toEqual(["timeout", 0, "", "queued"]);
    expect(elapsedMs).toBeGreaterThanOrEqual(49);
    expect(elapsedMs).toBeLessThan(70);
    expectOk(await first);
    expect(pool.stats().queued).toBe(0);
  });

  test("timeout fires on time; the socket is reused after the late response", async () => {
    const pool = newPool(`${base}/slow?ms=500`);
    const start = performance.now();
    const r = await pool.postAsync("{}", "", inMs(50));
    const elapsedMs = performance.now() - start;
    expect([r.outcome, r.detail]).toEqual(["timeout", "deadline"]);
    expect(elapsedMs).toBeGreaterThanOrEqual(49);
    expect(elapsedMs).toBeLessThan(70);
    expect(pool.stats()).toMatchObject({ open: 1, busy: 1, idle: 0 }); // awaiting the late response
    await Bun.sleep(600);
    expect(pool.stats()).toMatchObject({ open: 1, busy: 0, idle: 1 });
    expectOk(await pool.postAsync("{}", "", inMs(2000)));
    expect(pool.stats().created).toBe(1);
  });

  test("a new request waits for (not reuses) a socket still owed a late response", async () => {
    const pool = newPool(`${base}/slow?ms=200`, { maxSockets: 1 });
    expect((await pool.postAsync("{}", "", inMs(30))).outcome).toBe("timeout");
    const start = performance.now();
    expectOk(await pool.postAsync("{}", "", inMs(2000)));
    expect(performance.now() - start).toBeGreaterThan(300); // ~170 ms left of the late one + its own 200
    expect(pool.stats().created).toBe(1);
  });

  test("https is rejected at construction", () => {
    expect(() => new HttpPool({ url: "https://127.0.0.1/bid", maxSockets: 1, maxQueued: 1 })).toThrow(
      "https DSP endpoints are not supported yet",
    );
  });

  test("close() fails in-flight and queued requests with pool_closed", async () => {
    const pool = newPool(`${base}/slow?ms=500`, { maxSockets: 1 });
    const inFlight = pool.postAsync("{}", "", inMs(2000));
    const queued = pool.postAsync("{}", "", inMs(2000));
    await Bun.sleep(20);
    pool.close();
    for (const r of await Promise.all([inFlight, queued])) expect([r.outcome, r.detail]).toEqual(["error", "pool_closed"]);
    expect((await pool.postAsync("{}", "", inMs(100))).detail).toBe("pool_closed");
    expect(pool.stats()).toMatchObject({ open: 0, queued: 0 });
  });
});

describe("HttpPool against raw servers", () => {
  const CHUNKED = chunkedResponse(['{"a"', ':"€', "uro", '"}']);

  test("chunked responses dribbled at awkward boundaries, several on one socket", async () => {
    // byte at a time; odd pieces (some cut inside "€" and inside CRLFs); the head cut inside its CRLFCRLF
    const splits = [[1], [2, 3], [5, 1, 7], [CHUNKED.indexOf("\r\n\r\n") + 2, 1, 1, 1]];
    const server = startRawServer((socket) => void dribble(socket, CHUNKED, splits[socket.data.served % splits.length]!));
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    for (let i = 0; i < splits.length; i++) {
      const r = await pool.postAsync("{}", "", inMs(5000));
      expect([r.outcome, r.status, r.body]).toEqual(["ok", 200, '{"a":"€uro"}']);
    }
    expect(server.counts.connections).toBe(1);
  });

  test("the request is sent exactly as specified", async () => {
    let seen = "";
    const server = startRawServer((socket, request) => {
      seen = request;
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    });
    const pool = newPool(`http://127.0.0.1:${server.port}/openrtb2/bid?x=1`);
    expectOk(await pool.postAsync('{"p":"£"}', "X-Openrtb-Version: 2.6\r\n", inMs(1000)));
    expect(seen).toBe(
      `POST /openrtb2/bid?x=1 HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: application/json\r\n` +
        'Connection: keep-alive\r\nContent-Length: 10\r\nX-Openrtb-Version: 2.6\r\n\r\n{"p":"\xc2\xa3"}',
    );
  });

  test("a request bigger than the socket buffer is finished on drain", async () => {
    const bodyBytes = 16 * 1024 * 1024;
    let receivedBytes = 0;
    const listener = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket, chunk) {
          receivedBytes += chunk.length;
          const reply = String(receivedBytes);
          if (receivedBytes > bodyBytes) socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${reply.length}\r\n\r\n${reply}`);
        },
      },
    });
    toClose.push(listener);
    const pool = newPool(`http://127.0.0.1:${listener.port}/bid`);
    const head = `POST /bid HTTP/1.1\r\nHost: 127.0.0.1:${listener.port}\r\nContent-Type: application/json\r\nConnection: keep-alive\r\nContent-Length: ${bodyBytes}\r\n\r\n`;
    const r = await pool.postAsync("é".repeat(bodyBytes / 2), "", inMs(10_000));
    expect([r.outcome, r.body]).toEqual(["ok", String(head.length + bodyBytes)]);
  });

  test("Connection: close from the server is honoured", async () => {
    const server = startRawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"); // and leaves it open
    });
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    for (let i = 0; i < 3; i++) expect((await pool.postAsync("{}", "", inMs(1000))).body).toBe("ok");
    await Bun.sleep(20);
    expect(server.counts).toMatchObject({ connections: 3, closedByClient: 3 });
    expect(pool.stats()).toMatchObject({ created: 3, open: 0, closed: 3 });
  });

  test("server closing an idle keep-alive socket: next request still succeeds", async () => {
    const server = startRawServer((socket) => {
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      setTimeout(() => socket.end(), 10); // keep-alive expiry
    });
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    expectOk(await pool.postAsync("{}", "", inMs(1000)));
    await Bun.sleep(50);
    expect(pool.stats()).toMatchObject({ open: 0, idle: 0 });
    expectOk(await pool.postAsync("{}", "", inMs(1000)));
    expect(pool.stats().created).toBe(2);
  });

  test("stale keep-alive race: closed before any response byte -> retried once on a fresh socket", async () => {
    const server = startRawServer((socket) => {
      if (socket.data.served > 0) return void socket.end(); // dies as the 2nd request arrives
      socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    });
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    expectOk(await pool.postAsync("{}", "", inMs(1000)));
    const r = await pool.postAsync("{}", "", inMs(1000));
    expect([r.outcome, r.body]).toEqual(["ok", "ok"]);
    expect(server.counts).toMatchObject({ connections: 2, requests: 3 });
  });

  test("a fresh socket closed without a response is an error, not retried", async () => {
    const server = startRawServer((socket) => void socket.end());
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    const r = await pool.postAsync("{}", "", inMs(1000));
    expect([r.outcome, r.status, r.detail]).toEqual(["error", 0, "socket_closed"]);
    expect(server.counts.requests).toBe(1);
  });

  test("connection refused -> error promptly, queued requests too", async () => {
    const pool = newPool(`http://127.0.0.1:${refusedPort()}/bid`, { maxSockets: 2 });
    const start = performance.now();
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => pool.postAsync("{}", "", inMs(1000))));
    for (const r of results) expect([r.outcome, r.detail]).toEqual(["error", "ECONNREFUSED"]);
    expect(performance.now() - start).toBeLessThan(100);
    expect(pool.stats()).toMatchObject({ open: 0, queued: 0, abandoned: 0 });
  });

  test.skipIf(!Bun.which("python3"))("connect timeout -> error; the pending connect is abandoned, not counted open", async () => {
    const blackhole = await startBlackholeListener();
    try {
      const pool = newPool(`http://127.0.0.1:${blackhole.port}/bid`, { maxSockets: 2, connectTimeoutMs: 100 });
      const start = performance.now();
      const r = await pool.postAsync("{}", "", inMs(1000));
      expect([r.outcome, r.detail]).toEqual(["error", "connect_timeout"]);
      expect(performance.now() - start).toBeLessThan(150);
      expect(pool.stats()).toMatchObject({ open: 0, connecting: 0, abandoned: 1 });
      const queued = await pool.postAsync("{}", "", inMs(30)); // a new connect may start: open < maxSockets
      expect([queued.outcome, queued.detail]).toEqual(["timeout", "connecting"]);
      expect(pool.stats()).toMatchObject({ open: 1, connecting: 1, abandoned: 1, created: 2 });
    } finally {
      blackhole.kill();
    }
  });

  test("malformed status line -> error, socket destroyed", async () => {
    const server = startRawServer((socket) => socket.write("HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n"));
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    const r = await pool.postAsync("{}", "", inMs(1000));
    expect([r.outcome, r.status, r.body, r.detail]).toEqual(["error", 0, "", "bad_status_line"]);
    expect(pool.stats()).toMatchObject({ open: 0, closed: 1 });
  });

  test("response_too_large closes the socket", async () => {
    const server = startRawServer((socket) => void dribble(socket, `HTTP/1.1 200 OK\r\n\r\n${"x".repeat(300)}`, [100]));
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`, { maxResponseBytes: 200 });
    const r = await pool.postAsync("{}", "", inMs(1000));
    expect([r.outcome, r.detail]).toEqual(["error", "response_too_large"]);
    expect(pool.stats()).toMatchObject({ open: 0, closed: 1 });
  });

  test("a late response that never comes: socket destroyed after the grace period", async () => {
    const server = startRawServer(() => {}); // never answers
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`, { lateResponseGraceMs: 100 });
    expect((await pool.postAsync("{}", "", inMs(20))).outcome).toBe("timeout");
    expect(pool.stats()).toMatchObject({ open: 1, busy: 1 });
    await Bun.sleep(150);
    expect(pool.stats()).toMatchObject({ open: 0, busy: 0, closed: 1 });
    expect(server.counts.closedByClient).toBe(1);
  });

  test("timeouts fire within ~2 ms of their deadlines across many pending requests", async () => {
    const server = startRawServer(() => {}); // never answers
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`, { maxSockets: 64, maxQueued: 1000 });
    const lateByMs: number[] = [];
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const deadlineAt = inMs(10 + (i % 50));
        return pool.postAsync("{}", "", deadlineAt).then((r) => {
          expect(r.outcome).toBe("timeout");
          lateByMs.push(performance.now() - deadlineAt);
        });
      }),
    );
    lateByMs.sort((a, b) => a - b);
    expect(lateByMs[0]).toBeGreaterThanOrEqual(0); // never early
    expect(lateByMs[Math.floor(lateByMs.length * 0.9)]).toBeLessThan(2.5); // ~1 ms timer granularity
    expect(lateByMs[lateByMs.length - 1]).toBeLessThan(10); // slack for a CPU-starved machine
  });

  test("a callback that throws does not break the pool", async () => {
    const server = startRawServer((socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    const pool = newPool(`http://127.0.0.1:${server.port}/bid`);
    const originalError = console.error;
    console.error = () => {};
    try {
      pool.post("{}", "", inMs(1000), () => {
        throw new Error("boom");
      });
      await Bun.sleep(20);
    } finally {
      console.error = originalError;
    }
    expectOk(await pool.postAsync("{}", "", inMs(1000)));
    expect(pool.stats().created).toBe(1);
  });
});
