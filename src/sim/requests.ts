// Realistic OpenRTB 2.6 bid requests, reproducible from a seed.
// A fixed pool of publishers, apps, devices and sizes keeps the traffic looking like a real exchange's.

import { makeRng, type Rng } from "../util/rng.ts";

export { makeRng, type Rng };

export interface BidRequestOptions {
  imps?: number;
  tmaxMs?: number;
  floorCpm?: number;
  at?: 1 | 2;
}

const SITES = [
  { id: "pub-1001", name: "Daily Herald", domain: "dailyherald.example", sections: ["news", "politics", "world"] },
  { id: "pub-1002", name: "Recipe Hub", domain: "recipehub.example", sections: ["dinner", "baking", "vegan"] },
  { id: "pub-1003", name: "Sports Zone", domain: "sportszone.example", sections: ["football", "tennis", "scores"] },
  { id: "pub-1004", name: "Tech Review", domain: "techreview.example", sections: ["phones", "laptops", "ai"] },
  { id: "pub-1005", name: "Travel Notes", domain: "travelnotes.example", sections: ["europe", "asia", "deals"] },
  { id: "pub-1006", name: "Auto World", domain: "autoworld.example", sections: ["ev", "suv", "reviews"] },
] as const;

const APPS = [
  { id: "app-2001", name: "Puzzle Quest", bundle: "com.example.puzzlequest", storeid: "1234567890", pub: "pub-2001" },
  { id: "app-2002", name: "Weather Now", bundle: "com.example.weathernow", storeid: "2345678901", pub: "pub-2002" },
  { id: "app-2003", name: "Run Tracker", bundle: "com.example.runtracker", storeid: "3456789012", pub: "pub-2003" },
  { id: "app-2004", name: "News Flash", bundle: "com.example.newsflash", storeid: "4567890123", pub: "pub-1001" },
] as const;

const DESKTOP = [
  { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", os: "Windows", osv: "10" },
  { ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15", os: "macOS", osv: "14.4" },
  { ua: "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", os: "Linux", osv: "" },
] as const;

const MOBILE = [
  { ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1", os: "iOS", osv: "17.4", make: "Apple", model: "iPhone" },
  { ua: "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36", os: "Android", osv: "14", make: "Google", model: "Pixel 8" },
  { ua: "Mozilla/5.0 (Linux; Android 13; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Mobile Safari/537.36", os: "Android", osv: "13", make: "Samsung", model: "SM-S911B" },
] as const;

/** First octets of consumer ISP space, none in the shipped data-center list (src/fraud/lists/datacenter.txt): simulated humans are not hosted. */
export const RESIDENTIAL_FIRST_OCTETS = [24, 31, 67, 70, 71, 73, 75, 76, 77, 79, 80, 81, 82, 83, 84, 86, 87, 89, 90, 92, 93, 94, 98, 97, 100, 174, 177, 179, 181, 186, 187, 189, 190, 191, 200, 201] as const;

const COUNTRIES = ["USA", "USA", "USA", "GBR", "DEU", "FRA", "CAN", "ESP", "ITA", "BRA"] as const;
const DESKTOP_SIZES: ReadonlyArray<readonly [number, number]> = [[300, 250], [728, 90], [160, 600], [300, 600], [970, 250]];
const MOBILE_SIZES: ReadonlyArray<readonly [number, number]> = [[320, 50], [300, 250], [320, 100], [320, 480]];
const BADV = ["competitor.example", "gambling-ads.example", "c9-brand.example"] as const;
const BCAT = ["IAB25", "IAB26", "IAB7-39", "IAB8-18", "IAB9-9"] as const;

export function pick<T>(rng: Rng, arr: readonly T[]): T {
  return arr[Math.floor(rng() * arr.length)] as T;
}

function hex(rng: Rng, chars: number): string {
  let s = "";
  while (s.length < chars) s += Math.floor(rng() * 0x100000000).toString(16).padStart(8, "0");
  return s.slice(0, chars);
}

function uuid(rng: Rng): string {
  const h = hex(rng, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

function makeImp(rng: Rng, i: number, mobile: boolean, opts: BidRequestOptions, inApp: boolean): object {
  const sizes = mobile ? MOBILE_SIZES : DESKTOP_SIZES;
  const [w, h] = pick(rng, sizes);
  const banner: Record<string, unknown> = { w, h, pos: rng() < 0.5 ? 1 : 3, api: [3, 5] };
  if (rng() < 0.4) banner.format = [{ w, h }, ...sizes.filter((s) => s[0] !== w || s[1] !== h).slice(0, 2).map(([fw, fh]) => ({ w: fw, h: fh }))];
  const floor = opts.floorCpm ?? round2(0.1 + rng() * 1.4);
  const imp: Record<string, unknown> = {
    id: String(i + 1),
    banner,
    tagid: `slot-${w}x${h}-${i + 1}`,
    bidfloor: floor,
    bidfloorcur: "USD",
    secure: 1,
  };
  if (inApp) imp.instl = h >= 480 ? 1 : 0;
  return imp;
}

function makeSiteOrApp(rng: Rng): { site?: object; app?: object } {
  if (rng() < 0.65) {
    const s = pick(rng, SITES);
    const section = pick(rng, s.sections);
    return {
      site: {
        id: `site-${s.id}`, name: s.name, domain: s.domain, cat: ["IAB12"],
        page: `https://${s.domain}/${section}/article-${Math.floor(rng() * 90000) + 10000}.html`,
        ref: rng() < 0.5 ? "https://www.google.com/" : undefined,
        publisher: { id: s.id, name: s.name, domain: s.domain },
      },
    };
  }
  const a = pick(rng, APPS);
  return {
    app: {
      id: a.id, name: a.name, bundle: a.bundle, storeurl: `https://apps.example/app/id${a.storeid}`, ver: "3.2.1",
      publisher: { id: a.pub, name: a.name },
    },
  };
}

function makeDevice(rng: Rng, mobile: boolean, inApp: boolean): object {
  const ip = `${pick(rng, RESIDENTIAL_FIRST_OCTETS)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${Math.floor(rng() * 254) + 1}`;
  const geo = { country: pick(rng, COUNTRIES), type: 2 };
  if (!mobile) {
    const d = pick(rng, DESKTOP);
    return { ua: d.ua, ip, geo, devicetype: 2, os: d.os, osv: d.osv, language: "en", js: 1, dnt: 0 };
  }
  const m = pick(rng, MOBILE);
  const device: Record<string, unknown> = {
    ua: m.ua, ip, geo, devicetype: 4, make: m.make, model: m.model, os: m.os, osv: m.osv,
    language: "en", js: 1, dnt: 0, connectiontype: rng() < 0.6 ? 2 : 6,
  };
  if (inApp) device.ifa = uuid(rng);
  return device;
}

function makeUser(rng: Rng): object {
  const user: Record<string, unknown> = { id: `u-${hex(rng, 16)}` };
  if (rng() < 0.5) user.buyeruid = `b-${hex(rng, 12)}`;
  if (rng() < 0.6) user.eids = [{ source: "id5-sync.com", uids: [{ id: `ID5*${hex(rng, 24)}`, atype: 1 }] }];
  return user;
}

/** One valid OpenRTB 2.6 BidRequest (plain object, ~1-2 KB as JSON). */
export function makeBidRequest(rng: Rng, opts: BidRequestOptions = {}): Record<string, unknown> {
  const id = uuid(rng);
  const placement = makeSiteOrApp(rng);
  const inApp = placement.app !== undefined;
  const mobile = inApp || rng() < 0.45;
  const nImps = opts.imps ?? (rng() < 0.7 ? 1 : rng() < 0.7 ? 2 : 3);
  const imp = Array.from({ length: nImps }, (_, i) => makeImp(rng, i, mobile, opts, inApp));
  const req: Record<string, unknown> = {
    id,
    imp,
    ...placement,
    device: makeDevice(rng, mobile, inApp),
    user: makeUser(rng),
    at: opts.at ?? 2,
    tmax: opts.tmaxMs ?? 100,
    cur: ["USD"],
    source: {
      tid: uuid(rng), fd: 1,
      schain: { complete: 1, ver: "1.0", nodes: [{ asi: "exchange.example", sid: `seller-${hex(rng, 6)}`, hp: 1 }] },
    },
    regs: { coppa: 0, gdpr: rng() < 0.2 ? 1 : 0, us_privacy: "1YNN" },
  };
  if (rng() < 0.3) req.badv = BADV.slice(0, 1 + Math.floor(rng() * BADV.length));
  if (rng() < 0.3) req.bcat = BCAT.slice(0, 1 + Math.floor(rng() * BCAT.length));
  return req;
}
