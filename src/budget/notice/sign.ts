// Signed notice URLs: the BidResponse's burl/lurl point at tmax (GET /notice/billing?..., /notice/loss?...)
// with the facts of the reservation (request, bid, imp, campaign, cost micros, campaign day, pod, the
// DSP's own notice URL) and an HMAC-SHA256 over them and the notice type, so nobody can forge a
// release, change an amount, or turn a billing URL into a loss URL. Parameters the exchange adds
// (e.g. `price=${AUCTION_PRICE}`, `reason=${AUCTION_LOSS}`) are outside the signature and only informative.
import { createHmac, timingSafeEqual } from "node:crypto";

export type NoticeType = "billing" | "loss";

export interface NoticeFacts {
  requestId: string;
  bidId: string;
  impId: string;
  campaignId: string;
  costMicros: number;
  /** The campaign day the reservation belongs to (YYYY-MM-DD). */
  day: string;
  pod: string;
  dspId: string;
  /** The DSP's own burl/lurl (macros substituted), called by tmax after the notice is applied; "" = none. */
  dspUrl: string;
}

const FIELDS = [["r", "requestId"], ["b", "bidId"], ["i", "impId"], ["c", "campaignId"], ["m", "costMicros"], ["d", "day"], ["p", "pod"], ["x", "dspId"], ["u", "dspUrl"]] as const;
/** Longest parameter value accepted (the DSP's URL is the long one). */
export const MAX_NOTICE_PARAM_CHARS = 4_096;

function signature(secret: string, type: NoticeType, facts: NoticeFacts): string {
  const mac = createHmac("sha256", secret).update(type);
  for (const [, name] of FIELDS) mac.update("\n").update(String(facts[name]));
  return mac.digest("base64url");
}

export function noticeUrl(baseUrl: string, secret: string, type: NoticeType, facts: NoticeFacts, extra: string): string {
  const q = new URLSearchParams();
  for (const [param, name] of FIELDS) q.set(param, String(facts[name]));
  q.set("s", signature(secret, type, facts));
  return `${baseUrl}/notice/${type}?${q.toString()}${extra}`;
}

export type Verified = { facts: NoticeFacts } | { status: 400 | 403; field: string; reason: string };

/** Reads and checks a notice's parameters; a missing/malformed one is 400, a wrong signature 403. */
export function verifyNotice(secret: string, type: NoticeType, q: URLSearchParams): Verified {
  const raw: Record<string, string> = {};
  for (const [param] of [...FIELDS, ["s"] as const]) {
    const v = q.get(param);
    if (v === null || (v === "" && param !== "u")) return { status: 400, field: param, reason: "missing" };
    if (v.length > MAX_NOTICE_PARAM_CHARS) return { status: 400, field: param, reason: `longer than ${MAX_NOTICE_PARAM_CHARS} characters` };
    raw[param] = v;
  }
  if (!/^\d{1,16}$/.test(raw.m!) || !Number.isSafeInteger(Number(raw.m))) return { status: 400, field: "m", reason: "must be integer micros" };
  if (!/^\d{4}-\d{2}-\d{2}$/.test(raw.d!)) return { status: 400, field: "d", reason: "must be a day YYYY-MM-DD" };
  const facts: NoticeFacts = {
    requestId: raw.r!, bidId: raw.b!, impId: raw.i!, campaignId: raw.c!, costMicros: Number(raw.m), day: raw.d!, pod: raw.p!, dspId: raw.x!, dspUrl: raw.u!,
  };
  const want = Buffer.from(signature(secret, type, facts));
  const got = Buffer.from(raw.s!);
  if (want.length !== got.length || !timingSafeEqual(want, got)) return { status: 403, field: "s", reason: "signature does not match" };
  return { facts };
}
