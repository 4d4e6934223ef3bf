import { describe, expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { ConfigError } from "../config/errors.ts";
import { OVERLOAD_DEFAULTS } from "./config.ts";

const base = {
  dsps: [{ id: "d1", endpoint: "http://127.0.0.1:9/bid" }],
  campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1, currency: "USD" }],
};

function errorOf(extra: Record<string, unknown>): string {
  try {
    parseConfig({ ...base, ...extra });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("no config error");
}

describe("overload, rateLimits and houseAd config", () => {
  test("defaults: guard on, 70 -> 50 ms, top 3, no rate limits, no house ad", () => {
    const c = parseConfig(base);
    expect(c.overload).toEqual(OVERLOAD_DEFAULTS);
    expect(c.rateLimits).toBeNull();
    expect(c.houseAd).toBeNull();
  });

  test("a short dspTimeoutMs lowers the default pressured deadline with it", () => {
    expect(parseConfig({ ...base, auction: { dspTimeoutMs: 40 } }).overload.pressuredDspTimeoutMs).toBe(40);
  });

  test("values are taken, house ad price held in micros, rate-limit header lower-cased, burst defaults to one second", () => {
    const c = parseConfig({
      ...base,
      overload: { signals: { inFlight: { low: 10, high: 20 } }, topDsps: 2, knownPublishers: ["p1"] },
      rateLimits: { header: "X-Api-Key", exchanges: [{ id: "ex", ratePerSec: 250.5 }], unknown: { ratePerSec: 5, answer: 204 } },
      houseAd: { adm: "<a/>", price: "0.25" },
    });
    expect(c.overload.signals.inFlight).toEqual({ low: 10, high: 20 });
    expect(c.overload.signals.eventLoopLagMs).toEqual(OVERLOAD_DEFAULTS.signals.eventLoopLagMs);
    expect(c.overload.topDsps).toBe(2);
    expect(c.rateLimits).toEqual({ header: "x-api-key", exchanges: [{ id: "ex", ratePerSec: 250.5, burst: 251, answer: 429 }], unknown: { id: "(unknown)", ratePerSec: 5, burst: 5, answer: 204 } });
    expect(c.houseAd).toEqual({ adm: "<a/>", priceMicros: 250_000, crid: "house", adomain: [], seat: "house" });
  });

  test("each problem names its field", () => {
    expect(errorOf({ overload: { signals: { inFlight: { low: 50, high: 50 } } } })).toBe("config error: overload.signals.inFlight.high: must be above low (50)");
    expect(errorOf({ overload: { pressuredDspTimeoutMs: 90 } })).toBe("config error: overload.pressuredDspTimeoutMs: must not exceed auction.dspTimeoutMs (70)");
    expect(errorOf({ overload: { topDsps: 0 } })).toStartWith("config error: overload.topDsps: ");
    expect(errorOf({ overload: { targetPressure: 2 } })).toStartWith("config error: overload.targetPressure: ");
    expect(errorOf({ overload: { flashCrash: { windowSec: 10, baselineSec: 5 } } })).toBe("config error: overload.flashCrash.baselineSec: must be longer than windowSec (10)");
    expect(errorOf({ overload: { shed: true } })).toBe("config error: overload.shed: is not a known field");
    expect(errorOf({ rateLimits: { exchanges: [{ id: "a", ratePerSec: 1 }, { id: "a", ratePerSec: 2 }] } })).toBe('config error: rateLimits.exchanges[1].id: duplicate id "a"');
    expect(errorOf({ rateLimits: { exchanges: [{ id: "a", ratePerSec: 1, answer: 503 }] } })).toBe("config error: rateLimits.exchanges[0].answer: must be 429 or 204");
    expect(errorOf({ rateLimits: { exchanges: [{ id: "a", ratePerSec: 0 }] } })).toStartWith("config error: rateLimits.exchanges[0].ratePerSec: ");
    expect(errorOf({ houseAd: { adm: "<a/>", price: "1.2345678" } })).toBe("config error: houseAd.price: must be a positive decimal CPM with at most 6 decimal places");
    expect(errorOf({ houseAd: { price: 1 } })).toBe("config error: houseAd.adm: is required");
    expect(errorOf({ overload: { minInFlight: 20, maxInFlight: 10 } })).toBe("config error: overload.minInFlight: must not exceed maxInFlight (10)");
    expect(errorOf({ overload: { initialInFlight: 2000 } })).toBe("config error: overload.initialInFlight: must be within minInFlight..maxInFlight (8..1024)");
    expect(errorOf({ overload: { internalTargetMs: 0 } })).toStartWith("config error: overload.internalTargetMs: ");
  });

  test("the concurrency limit's start follows a low maxInFlight down (and minInFlight with it)", () => {
    expect(parseConfig({ ...base, overload: { maxInFlight: 6 } }).overload).toMatchObject({ maxInFlight: 6, minInFlight: 6, initialInFlight: 6 });
    expect(parseConfig({ ...base, overload: { minInFlight: 100 } }).overload).toMatchObject({ minInFlight: 100, initialInFlight: 100, maxInFlight: 1024 });
  });
});
