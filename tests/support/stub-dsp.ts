// A scriptable DSP over real HTTP inside the test process: each test sets `reply` to decide what
// the next requests get. Counts calls so tests can prove a DSP was (not) called.
export type StubReply = (req: any) => { status: number; body?: string; delayMs?: number };

export interface StubDsp {
  url: string;
  calls: number;
  reply: StubReply;
  stop(): void;
}

export function bidFor(req: any, bid: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: req.id,
    seatbid: [{ seat: "stub", bid: [{ id: `stub-${req.id}`, impid: req.imp[0].id, price: 1.5, cid: "c1", crid: "cr1", adm: "<div/>", adomain: ["stub.example"], ...bid }] }],
    ...extra,
  });
}

export function startStubDsp(reply: StubReply = (req) => ({ status: 200, body: bidFor(req) })): StubDsp {
  const stub: StubDsp = { url: "", calls: 0, reply, stop: () => server.stop(true) };
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      stub.calls++;
      const req = await request.json();
      const { status, body, delayMs } = stub.reply(req);
      if (delayMs) await Bun.sleep(delayMs);
      return new Response(status === 204 ? null : body ?? "", { status, headers: { "content-type": "application/json" } });
    },
  });
  stub.url = `http://127.0.0.1:${server.port}/bid`;
  return stub;
}
