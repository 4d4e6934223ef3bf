// Frequency caps in the config file: the fields, their defaults, and errors that name the field.
import { describe, expect, test } from "bun:test";
import { parseConfig } from "../src/config/load.ts";
import { configErrorOf as errorOf } from "./support/config.ts";
import { layout as L } from "../src/auction/memory.ts";

function config(campaign: Record<string, unknown> = {}, auction: Record<string, unknown> = {}): unknown {
  return {
    auction,
    dsps: [{ id: "d0", endpoint: "http://127.0.0.1:9/bid" }],
    campaigns: [
      { id: "c0", advertiserId: "a", dailyBudget: 1, currency: "USD" },
      { id: "c1", advertiserId: "a", dailyBudget: 1, currency: "USD", ...campaign },
    ],
  };
}


describe("frequency caps in config", () => {
  test("caps are kept in config order; no caps means uncapped; the no-key policy defaults to deny", () => {
    const caps = [{ max: 3, windowSec: 3600 }, { max: 10, windowSec: 86_400 }];
    const parsed = parseConfig(config({ frequencyCaps: caps }));
    expect(parsed.campaigns[1]!.frequencyCaps).toEqual(caps);
    expect(parsed.campaigns[0]!.frequencyCaps).toEqual([]);
    expect(parsed.auction.frequencyCapNoKey).toBe("deny");
    expect(parseConfig(config({}, { frequencyCapNoKey: "allow" })).auction.frequencyCapNoKey).toBe("allow");
  });

  const CASES: Array<[string, unknown, string]> = [
    ["too many caps", config({ frequencyCaps: Array.from({ length: L.FREQCAP_WINDOWS + 1 }, (_, i) => ({ max: 1, windowSec: 60 * (i + 1) })) }),
      `config error: campaigns[1].frequencyCaps: expected array length to be less or equal to ${L.FREQCAP_WINDOWS}`],
    ["max 0", config({ frequencyCaps: [{ max: 0, windowSec: 60 }] }), "config error: campaigns[1].frequencyCaps[0].max: expected integer to be greater or equal to 1"],
    ["fractional window", config({ frequencyCaps: [{ max: 1, windowSec: 1.5 }] }), "config error: campaigns[1].frequencyCaps[0].windowSec: expected integer"],
    ["window too long", config({ frequencyCaps: [{ max: 1, windowSec: L.FREQCAP_MAX_WINDOW_SEC + 1 }] }),
      `config error: campaigns[1].frequencyCaps[0].windowSec: expected integer to be less or equal to ${L.FREQCAP_MAX_WINDOW_SEC}`],
    ["unknown field", config({ frequencyCaps: [{ max: 1, windowSec: 60, per: "user" }] }), "config error: campaigns[1].frequencyCaps[0].per: is not a known field"],
    ["missing max", config({ frequencyCaps: [{ windowSec: 60 }] }), "config error: campaigns[1].frequencyCaps[0].max: is required"],
    ["duplicate window", config({ frequencyCaps: [{ max: 1, windowSec: 60 }, { max: 5, windowSec: 60 }] }),
      "config error: campaigns[1].frequencyCaps[1].windowSec: duplicate window (60 s): one cap per window length"],
    ["bad no-key policy", config({}, { frequencyCapNoKey: "maybe" }), 'config error: auction.frequencyCapNoKey: must be "allow" or "deny"'],
  ];
  for (const [name, raw, message] of CASES) test(name, () => expect(errorOf(raw)).toBe(message));
});
