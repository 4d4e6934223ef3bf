// Load that remembers what was answered: request loops that send fresh request ids until told to
// stop and record every win whose answer the client received in full, as `${request_id}|${imp_id}`.
// The audit proofs compare these with what the ledger and the outbox hold.
export interface ClientCounts { sent: number; ok: number; nobid: number; other: number; errors: number; mismatched: number }

export const winKey = (requestId: string, impId: string) => `${requestId}|${impId}`;

export class AnsweredWins {
  readonly answered = new Set<string>();
  readonly counts: ClientCounts = { sent: 0, ok: 0, nobid: 0, other: 0, errors: 0, mismatched: 0 };

  constructor(private readonly requestTimeoutMs: number, private readonly bodyFor: (id: string, imps: number) => string = bidRequestBody) {}

  /** One request loop until `stop.now`; every request id is new (a failed request is never retried). */
  async loop(url: string, idPrefix: string, stop: { now: boolean }): Promise<void> {
    for (let n = 0; !stop.now; n++) await this.send(url, `${idPrefix}-${n}`);
  }

  private async send(url: string, id: string): Promise<void> {
    this.counts.sent++;
    try {
      const res = await fetch(`${url}/openrtb2/auction`, {
        method: "POST", headers: { "content-type": "application/json" }, body: this.bodyFor(id, 1 + Math.floor(Math.random() * 2)),
        signal: AbortSignal.timeout(this.requestTimeoutMs),
      });
      const text = await res.text();
      if (res.status === 200) this.recordWins(id, text);
      else if (res.status === 204) this.counts.nobid++;
      else this.counts.other++;
    } catch {
      this.counts.errors++; // killed mid-request (reset, refused, or cut off in the body): not answered
    }
  }

  private recordWins(id: string, text: string): void {
    const json = JSON.parse(text) as { id: string; seatbid: Array<{ bid: Array<{ impid: string }> }> };
    if (json.id !== id) this.counts.mismatched++;
    for (const seat of json.seatbid) for (const bid of seat.bid) this.answered.add(winKey(id, bid.impid));
    this.counts.ok++;
  }
}

/** A small valid request with `imps` banner imps and a user of its own. */
export function bidRequestBody(id: string, imps: number): string {
  return JSON.stringify({
    id,
    imp: Array.from({ length: imps }, (_, i) => ({ id: String(i + 1), banner: { w: 300, h: 250 }, bidfloor: 0.1 })),
    site: { domain: "news.example", publisher: { id: "pub-1" } },
    device: { ua: "Mozilla/5.0", ip: "203.0.113.7" },
    user: { id: `u-${id}` },
    at: 2,
    tmax: 200,
  });
}
