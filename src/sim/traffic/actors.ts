// The actors of the traffic model: humans and five kinds of bots, each a way of making bid
// requests and of spacing them in time. Every draw comes from the seeded rng: the same seed gives
// the same traffic. Requests start from makeBidRequest (realistic inventory and devices) and are
// then given the actor's identity (device, user, IP) and its tells.
import { makeBidRequest, pick, RESIDENTIAL_FIRST_OCTETS, type Rng } from "../requests.ts";

export const LABELS = ["human", "datacenter_bot", "crawler", "spoofed_ua", "residential_proxy", "click_farm"] as const;
export type Label = (typeof LABELS)[number];
export const BOT_LABELS = LABELS.filter((l) => l !== "human");

/** One actor: a fixed identity, and its request times (ms from the start of the run). */
export interface Actor {
  label: Label;
  times: number[];
  /** A request body for this actor's n-th request. */
  request(rng: Rng, n: number): Record<string, unknown>;
}

type Body = Record<string, unknown> & { device: Record<string, unknown>; user?: Record<string, unknown> };

export function residentialIp(rng: Rng): string {
  return `${pick(rng, RESIDENTIAL_FIRST_OCTETS)}.${int(rng, 256)}.${int(rng, 256)}.${1 + int(rng, 254)}`;
}

const DATACENTER_PREFIXES = ["3.80", "34.102", "35.190", "52.14", "104.131", "159.203", "51.75", "95.216", "45.79", "149.28", "20.50"];
const CRAWLER_UAS = [
  "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
  "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
  "python-requests/2.31.0",
  "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
  "curl/8.4.0",
  "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
];
const SPOOF_UAS = [
  "Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/74.0.3729.169 Safari/537.36",
  "Mozilla/5.0 (Linux; Android 8.0.0; SM-G960F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/69.0.3497.100 Mobile Safari/537.36",
];

const int = (rng: Rng, n: number) => Math.floor(rng() * n);
const uniform = (rng: Rng, a: number, b: number) => a + rng() * (b - a);
const hex = (rng: Rng, n: number) => Array.from({ length: n }, () => int(rng, 16).toString(16)).join("");

/** Poisson-like times: `count` uniform draws over [0, durationMs), sorted. */
function scattered(rng: Rng, count: number, durationMs: number): number[] {
  return Array.from({ length: count }, () => rng() * durationMs).sort((a, b) => a - b);
}

/** Machine-regular times: a start, then every `periodMs` with +-`jitter` (fraction) noise. */
function regular(rng: Rng, durationMs: number, periodMs: number, jitter: number): number[] {
  const times: number[] = [];
  for (let t = rng() * periodMs; t < durationMs; t += periodMs * (1 + uniform(rng, -jitter, jitter))) times.push(t);
  return times;
}

/** A human: one device and user, a few requests at irregular times; some behind a carrier NAT IP. */
export function human(rng: Rng, durationMs: number, natIps: string[]): Actor {
  const base = makeBidRequest(rng) as Body;
  const ip = rng() < 0.08 ? pick(rng, natIps) : residentialIp(rng);
  base.device.ip = ip;
  if (rng() < 0.1) delete base.user;
  const count = 1 + Math.min(12, Math.floor(-Math.log(1 - rng()) * 2.5));
  return { label: "human", times: scattered(rng, count, durationMs), request: (r) => withIdentity(makeBidRequest(r), base) };
}

/** A bot in a hosting provider's range with a browser UA. */
export function datacenterBot(rng: Rng, durationMs: number): Actor {
  const base = makeBidRequest(rng) as Body;
  base.device.ip = `${pick(rng, DATACENTER_PREFIXES)}.${int(rng, 256)}.${1 + int(rng, 254)}`;
  return { label: "datacenter_bot", times: regular(rng, durationMs, uniform(rng, 300, 1500), 0.3), request: (r) => withIdentity(makeBidRequest(r), base) };
}

/** A declared crawler / script user agent from residential or hosted IPs. */
export function crawler(rng: Rng, durationMs: number): Actor {
  const base = makeBidRequest(rng) as Body;
  base.device.ua = pick(rng, CRAWLER_UAS);
  base.device.ip = residentialIp(rng);
  delete base.user;
  return { label: "crawler", times: scattered(rng, 2 + int(rng, 6), durationMs), request: (r) => withIdentity(makeBidRequest(r), base) };
}

/** A bot whose UA lies: an old browser claiming an OS or form factor the device fields contradict. */
export function spoofedUa(rng: Rng, durationMs: number): Actor {
  const base = makeBidRequest(rng) as Body;
  base.device.ua = pick(rng, SPOOF_UAS);
  base.device.os = pick(rng, ["Windows", "Android", "iOS", "macOS"]);
  base.device.devicetype = pick(rng, [2, 4]);
  base.device.ip = residentialIp(rng);
  if (rng() < 0.5) delete base.device.language;
  if (rng() < 0.5) delete base.device.js;
  if (rng() < 0.6) delete base.user;
  return { label: "spoofed_ua", times: scattered(rng, 3 + int(rng, 8), durationMs), request: (r) => withIdentity(makeBidRequest(r), base) };
}

/** Human-looking headers through rotating residential proxies: a new IP per request, one device id reused fast and regularly. */
export function residentialProxy(rng: Rng, durationMs: number): Actor {
  const base = makeBidRequest(rng) as Body;
  const hop = rng() < 0.5;
  return {
    label: "residential_proxy",
    times: regular(rng, durationMs, uniform(rng, 150, 600), 0.1),
    request: (r) => {
      const body = withIdentity(makeBidRequest(r), base);
      body.device = { ...(body.device as object), ip: residentialIp(r) };
      if (hop) (body.device as Body["device"]).geo = { country: pick(r, ["USA", "GBR", "DEU", "BRA", "IND"]), type: 2 };
      return body;
    },
  };
}

/** A click farm: real phones, many on each of a few IPs, each device driven by a script at a steady pace. */
export function clickFarm(rng: Rng, durationMs: number, farmIps: string[]): Actor {
  const base = makeBidRequest(rng) as Body;
  base.device.ip = pick(rng, farmIps);
  base.device.ifa = `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
  base.user = { id: `farm-${hex(rng, 12)}` };
  return { label: "click_farm", times: regular(rng, durationMs, uniform(rng, 800, 2500), 0.05), request: (r) => withIdentity(makeBidRequest(r), base) };
}

/** The request `fresh` (new id, inventory) as made by the actor `base` (its device, user, source). */
function withIdentity(fresh: Record<string, unknown>, base: Body): Record<string, unknown> {
  const body: Record<string, unknown> = { ...fresh, device: { ...base.device } };
  if (base.user === undefined) delete body.user;
  else body.user = base.user;
  if ((base.device as { ifa?: string }).ifa === undefined) delete (body.device as Record<string, unknown>).ifa;
  return body;
}
