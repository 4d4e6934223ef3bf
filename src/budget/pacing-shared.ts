// Participation probabilities shared by the control plane (one writer, the main thread) and every
// worker (readers, in the hot path). One Uint32 per campaign slot holds p scaled to 0..2^32-1:
// 0 = never bid, 0xFFFFFFFF = always bid. A worker's check is one Atomics.load and one comparison
// with a random draw it brings: no allocation, no lock.
import { LIMITS } from "../config/limits.ts";

const ALWAYS = 0xffff_ffff;

/** A buffer for `slots` campaign slots, every slot at p = 1 (bid) until the controller writes. */
export function createPacingBuffer(slots: number = LIMITS.maxCampaigns): SharedArrayBuffer {
  if (!(Number.isInteger(slots) && slots >= 1 && slots <= LIMITS.maxCampaigns)) {
    throw new RangeError(`pacing buffer: slots must be 1..${LIMITS.maxCampaigns}, got ${slots}`);
  }
  const buffer = new SharedArrayBuffer(slots * 4);
  new Uint32Array(buffer).fill(ALWAYS);
  return buffer;
}

/** p in [0, 1] to its stored form (rounded; NaN is refused). */
export function scaleProbability(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`participation probability must be in [0, 1], got ${p}`);
  return Math.round(p * ALWAYS);
}

/** The control plane's side: stores each campaign's p. */
export class PacingWriter {
  private readonly u32: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.u32 = new Uint32Array(buffer);
  }

  get slots(): number {
    return this.u32.length;
  }

  set(slot: number, p: number): void {
    checkSlot(slot, this.u32.length);
    Atomics.store(this.u32, slot, scaleProbability(p));
  }
}

/** A worker's side: may this campaign bid on this request? */
export class PacingReader {
  private readonly u32: Uint32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.u32 = new Uint32Array(buffer);
  }

  /**
   * `random01` in [0, 1) (e.g. Math.random()). Exactly p = 1 always bids and p = 0 never does; in
   * between, the chance is the stored p. A slot outside the buffer throws (a programmer error).
   */
  shouldBid(slot: number, random01: number): boolean {
    const threshold = Atomics.load(this.u32, slot);
    return threshold === ALWAYS || random01 * ALWAYS < threshold;
  }

  /** The stored p as a number in [0, 1] (status pages, tests). */
  probability(slot: number): number {
    checkSlot(slot, this.u32.length);
    return Atomics.load(this.u32, slot) / ALWAYS;
  }
}

function checkSlot(slot: number, slots: number): void {
  if (!(Number.isInteger(slot) && slot >= 0 && slot < slots)) throw new RangeError(`pacing slot ${slot} outside 0..${slots - 1}`);
}
