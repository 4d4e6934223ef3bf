// The frequency-cap regions of the shared memory (layout in assembly/layout.ts): the rules per
// campaign slot, written by the main thread before any worker runs, and the counter table, which
// only the kernels write once serving. Caps are written in config order: cap i is window i.
import { layout as L } from "../auction/memory.ts";
import type { CampaignSettings, FrequencyCapSettings } from "../config/load.ts";

export class FreqCapTable {
  private readonly i32: Int32Array;

  constructor(memory: WebAssembly.Memory) {
    this.i32 = new Int32Array(memory.buffer);
  }

  /** Sets (or with [] clears) the caps of campaign `slot`. */
  setRules(slot: number, caps: readonly FrequencyCapSettings[]): void {
    if (!(Number.isInteger(slot) && slot >= 0 && slot < L.MAX_CAMPAIGNS)) throw new RangeError(`campaign slot ${slot}`);
    if (caps.length > L.FREQCAP_WINDOWS) throw new RangeError(`at most ${L.FREQCAP_WINDOWS} caps per campaign, got ${caps.length}`);
    for (let w = 0; w < L.FREQCAP_WINDOWS; w++) {
      const cap = caps[w];
      if (cap !== undefined) checkCap(cap);
      this.i32[this.ruleIndex(slot, w, L.FREQCAP_RULE_MAX_OFF)] = cap?.max ?? 0;
      this.i32[this.ruleIndex(slot, w, L.FREQCAP_RULE_WINDOW_SEC_OFF)] = cap?.windowSec ?? 0;
    }
  }

  /** Every campaign's caps (main thread, at start). */
  setAllRules(campaigns: readonly CampaignSettings[]): void {
    for (const c of campaigns) this.setRules(c.slot, c.frequencyCaps);
  }

  rules(slot: number): FrequencyCapSettings[] {
    const caps: FrequencyCapSettings[] = [];
    for (let w = 0; w < L.FREQCAP_WINDOWS; w++) {
      const max = this.i32[this.ruleIndex(slot, w, L.FREQCAP_RULE_MAX_OFF)]!;
      if (max !== 0) caps.push({ max, windowSec: this.i32[this.ruleIndex(slot, w, L.FREQCAP_RULE_WINDOW_SEC_OFF)]! });
    }
    return caps;
  }

  /** Entries in use (a scan of the whole table: for tests and diagnostics, not the hot path). */
  entriesUsed(): number {
    let used = 0;
    for (let e = 0; e < L.FREQCAP_ENTRIES; e++) {
      const at = (L.FREQCAP_TABLE_BASE + e * L.FREQCAP_ENTRY_BYTES) >> 2;
      if (this.i32[at] !== 0 || this.i32[at + 1] !== 0) used++;
    }
    return used;
  }

  private ruleIndex(slot: number, w: number, off: number): number {
    return (L.FREQCAP_RULES_BASE + (slot * L.FREQCAP_WINDOWS + w) * L.FREQCAP_RULE_BYTES + off) >> 2;
  }
}

function checkCap(cap: FrequencyCapSettings): void {
  if (!(Number.isInteger(cap.max) && cap.max >= 1 && cap.max <= L.FREQCAP_MAX_COUNT)) throw new RangeError(`cap max ${cap.max}`);
  if (!(Number.isInteger(cap.windowSec) && cap.windowSec >= 1 && cap.windowSec <= L.FREQCAP_MAX_WINDOW_SEC)) {
    throw new RangeError(`cap windowSec ${cap.windowSec}`);
  }
}
