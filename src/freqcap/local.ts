// A worker's handle on the machine-local frequency-cap table, for what sits beside the auction
// kernel: seeding an entry from a remote store's counts on a local miss, and finding those misses.
import { layout as L } from "../auction/memory.ts";
import type { FreqCapKernel } from "./kernel.ts";
import type { FreqCapTable } from "./table.ts";

export class LocalCaps {
  constructor(readonly kernel: FreqCapKernel, private readonly table: FreqCapTable) {}

  /**
   * Seeds (user, campaign) from remote counts, one per cap in config order, each with its window's
   * start (unix s; 0 or count 0 = no open window). Merged with what the table holds: the larger count
   * and the later end win, so seeding never loosens a cap. CAP_OK, or CAP_NO_ROOM when the table was full.
   */
  seedCounts(userKey: bigint, slot: number, counts: readonly number[], windowStartsSec: readonly number[], nowSec: number): number {
    const caps = this.table.rules(slot);
    let result: number = L.CAP_OK;
    caps.forEach((cap, w) => {
      const count = counts[w] ?? 0;
      const startSec = windowStartsSec[w] ?? 0;
      if (count <= 0 || startSec <= 0) return;
      const seeded = this.kernel.seedWindow(userKey, slot, w, count, startSec + cap.windowSec, nowSec);
      if (seeded !== L.CAP_OK) result = seeded;
    });
    return result;
  }

  /** The capped campaigns among `slots` the table knows nothing about for this user (to ask remotely). */
  missing(userKey: bigint, slots: readonly number[]): number[] {
    return slots.filter((slot) => this.table.rules(slot).length > 0 && !this.kernel.hasEntry(userKey, slot));
  }

  /** Live counts per cap, in config order. */
  counts(userKey: bigint, slot: number, nowSec: number): number[] {
    return this.table.rules(slot).map((_, w) => this.kernel.count(userKey, slot, w, nowSec));
  }
}
