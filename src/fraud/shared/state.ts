// The fraud state every worker shares, in one SharedArrayBuffer made by the main thread (start.ts)
// and handed to each worker: a clock base, the device and IP history tables (sliding-window rates,
// first/last seen, timing, country, devices per IP), the dynamic block table (tier 3 and admin
// blocks, live in every worker without a restart), and one row of counters per worker.
//
//  header (HEADER_WORDS i32)  device table  ip table  block table  counters (f64, one row per worker)
import { SharedTable } from "./table.ts";
import { FRAUD_LIMITS } from "../limits.ts";

/** Word indexes of a history entry (device and IP tables; words 0..2 are the table's key and last touch). */
export const H = {
  FIRST_SEC: 3, TOTAL: 4, EPOCH: 5, CUR: 6, PREV: 7,
  /** Device: the country last seen (3 letters packed); IP: a 32-bit bitmap of device hashes seen. */
  COUNTRY_OR_DEVICES: 8,
  LAST_MS: 9, GAP_MS: 10, JITTER_MS: 11,
  WORDS: 12,
} as const;

/** Block table entry: until when (table clock seconds) the key is blocked. */
export const B = { UNTIL_SEC: 3, WORDS: 4 } as const;

const HEADER_WORDS = 16;
const BASE_SEC_WORD = 0;
const GENERATION_WORD = 1;
/** Tier 3 actions taken (main thread), one word per kind (words 2..6): see countTier3Action. */
const TIER3_ACTIONS_WORD = 2;
/** Model sequence (a seqlock): odd while an admin reload rewrites the shared model region. */
const MODEL_SEQ_WORD = 8;
export const TIER3_ACTION_KINDS = ["block_subnet", "block_device", "suspect_subnet", "no_render_block", "no_render_suspect"] as const;

export class FraudState {
  readonly devices: SharedTable;
  readonly ips: SharedTable;
  readonly blocks: SharedTable;
  /** Per-worker counter rows (see metrics.ts). */
  readonly counters: Float64Array;
  private readonly header: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer, readonly workerCount: number, readonly counterRowLength: number) {
    const { historyEntries, blockEntries, probeLimit } = FRAUD_LIMITS;
    this.header = new Int32Array(buffer, 0, HEADER_WORDS);
    let at = HEADER_WORDS * 4;
    this.devices = new SharedTable(buffer, at, historyEntries, H.WORDS, probeLimit);
    at += SharedTable.bytes(historyEntries, H.WORDS);
    this.ips = new SharedTable(buffer, at, historyEntries, H.WORDS, probeLimit);
    at += SharedTable.bytes(historyEntries, H.WORDS);
    this.blocks = new SharedTable(buffer, at, blockEntries, B.WORDS, probeLimit);
    at += SharedTable.bytes(blockEntries, B.WORDS);
    at = Math.ceil(at / 8) * 8;
    this.counters = new Float64Array(buffer, at, workerCount * counterRowLength);
  }

  static bytes(workerCount: number, counterRowLength: number): number {
    const { historyEntries, blockEntries } = FRAUD_LIMITS;
    const tables = HEADER_WORDS * 4 + 2 * SharedTable.bytes(historyEntries, H.WORDS) + SharedTable.bytes(blockEntries, B.WORDS);
    return Math.ceil(tables / 8) * 8 + workerCount * counterRowLength * 8;
  }

  /** A new state; its clock starts now (`nowMs` is unix ms). */
  static create(workerCount: number, counterRowLength: number, nowMs = Date.now()): FraudState {
    const state = new FraudState(new SharedArrayBuffer(FraudState.bytes(workerCount, counterRowLength)), workerCount, counterRowLength);
    state.header[BASE_SEC_WORD] = Math.floor(nowMs / 1000) - 1; // table seconds start at 1 (0 = never)
    return state;
  }

  /** Milliseconds on the tables' clock (since its base), from unix ms. Fits an i32 for 24 days; gaps are taken modulo 2^32. */
  clockMs(nowMs: number): number {
    return (nowMs - this.header[BASE_SEC_WORD]! * 1000) | 0;
  }

  /** Bumped by an admin reload: each worker reloads its lists when it sees a new generation. */
  generation(): number {
    return Atomics.load(this.header, GENERATION_WORD);
  }

  bumpGeneration(): number {
    return Atomics.add(this.header, GENERATION_WORD, 1) + 1;
  }

  modelSeq(): number {
    return Atomics.load(this.header, MODEL_SEQ_WORD);
  }

  /** Runs `write` (the model region rewrite) with the sequence odd around it, so scorers can tell. */
  writingModel(write: () => void): void {
    Atomics.add(this.header, MODEL_SEQ_WORD, 1);
    try {
      write();
    } finally {
      Atomics.add(this.header, MODEL_SEQ_WORD, 1);
    }
  }

  countTier3Action(kind: (typeof TIER3_ACTION_KINDS)[number]): void {
    Atomics.add(this.header, TIER3_ACTIONS_WORD + TIER3_ACTION_KINDS.indexOf(kind), 1);
  }

  tier3Actions(kind: (typeof TIER3_ACTION_KINDS)[number]): number {
    return Atomics.load(this.header, TIER3_ACTIONS_WORD + TIER3_ACTION_KINDS.indexOf(kind));
  }

  /** Seconds on the tables' clock, from unix ms (>= 1). */
  clockSec(nowMs: number): number {
    return Math.floor(nowMs / 1000) - this.header[BASE_SEC_WORD]!;
  }
}
