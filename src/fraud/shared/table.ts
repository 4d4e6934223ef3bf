// A fixed-size hash table of i32 words in a SharedArrayBuffer, shared by every worker thread: each
// entry is `entryWords` words, word 0 and 1 the 64-bit key (0 = empty), word 2 the last time it was
// touched (seconds on the table's clock). Lookups probe at most `probeLimit` entries from the key's
// home; a new key claims an empty entry with a compare-and-swap, else evicts the least recently
// touched one in its probe window. No allocation, no locks.
//
// The counts it holds are estimates by design: two workers evicting the same entry at once, or a key
// moved between a lookup and an update, can lose a few increments. Fraud signals tolerate that;
// nothing here is money.
export const KEY_A = 0;
export const KEY_B = 1;
export const LAST_SEC = 2;

export class SharedTable {
  readonly words: Int32Array;
  private readonly mask: number;

  /** `entries` must be a power of two; the table uses entries * entryWords words of `buffer` from `byteOffset`. */
  constructor(buffer: SharedArrayBuffer, byteOffset: number, readonly entries: number, readonly entryWords: number, readonly probeLimit: number) {
    if ((entries & (entries - 1)) !== 0) throw new RangeError(`shared table entries ${entries} is not a power of two`);
    this.words = new Int32Array(buffer, byteOffset, entries * entryWords);
    this.mask = entries - 1;
  }

  static bytes(entries: number, entryWords: number): number {
    return entries * entryWords * 4;
  }

  /** Word index of the key's entry, or -1. */
  find(keyA: number, keyB: number): number {
    const w = this.words;
    for (let p = 0; p < this.probeLimit; p++) {
      const at = ((keyA + p) & this.mask) * this.entryWords;
      const a = Atomics.load(w, at + KEY_A);
      if (a === 0) return -1;
      if (a === keyA && w[at + KEY_B] === keyB) return at;
    }
    return -1;
  }

  /**
   * Word index of the key's entry, created if needed (payload zeroed, `fresh` then true via the
   * return of isFresh). Touches it at `nowSec`.
   */
  upsert(keyA: number, keyB: number, nowSec: number): number {
    const w = this.words;
    let oldest = -1;
    let oldestSec = 0x7fffffff;
    for (let p = 0; p < this.probeLimit; p++) {
      const at = ((keyA + p) & this.mask) * this.entryWords;
      const a = Atomics.load(w, at + KEY_A);
      if (a === keyA && w[at + KEY_B] === keyB) {
        Atomics.store(w, at + LAST_SEC, nowSec);
        return at;
      }
      if (a === 0) {
        if (Atomics.compareExchange(w, at + KEY_A, 0, keyA) === 0) return this.claim(at, keyB, nowSec);
        if (w[at + KEY_A] === keyA && w[at + KEY_B] === keyB) return at; // another worker claimed it for this key
        continue;
      }
      const last = w[at + LAST_SEC]!;
      if (last < oldestSec) {
        oldestSec = last;
        oldest = at;
      }
    }
    Atomics.store(w, oldest + KEY_A, keyA);
    return this.claim(oldest, keyB, nowSec);
  }

  private claim(at: number, keyB: number, nowSec: number): number {
    const w = this.words;
    w.fill(0, at + LAST_SEC + 1, at + this.entryWords);
    w[at + KEY_B] = keyB;
    Atomics.store(w, at + LAST_SEC, nowSec);
    return at;
  }
}
