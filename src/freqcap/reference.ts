// Plain-TypeScript reference of assembly/freqcap.ts, function for function, used by the differential
// tests (WASM debug and release must leave the same table and answer the same). It uses real
// Atomics on BigInt64Array, so it is also correct across threads, only slower (BigInt).
import { layout as L } from "../auction/memory.ts";

const KEY_MIX = BigInt.asIntN(64, 0x9e3779b97f4a7c15n);
const EMPTY = BigInt(L.FREQCAP_KEY_EMPTY);
const BUSY = BigInt(L.FREQCAP_KEY_BUSY);
const INDEX_MASK = BigInt(L.FREQCAP_ENTRIES - 1);

export function capEntryKeyReference(userKey: bigint, slot: number): bigint {
  return BigInt.asIntN(64, (userKey ^ BigInt.asIntN(64, BigInt(slot + 1) * KEY_MIX)) | 1n);
}

function homeOf(key: bigint): number {
  return Number((BigInt.asUintN(64, key) >> 32n) & INDEX_MASK);
}

/** Byte offset of entry `index` (wrapping around the table). */
function entryAt(index: number): number {
  return L.FREQCAP_TABLE_BASE + (index & (L.FREQCAP_ENTRIES - 1)) * L.FREQCAP_ENTRY_BYTES;
}

function windowAt(entry: number, w: number): number {
  return entry + L.FREQCAP_WINDOWS_OFF + w * L.FREQCAP_WINDOW_BYTES;
}

function pack(count: number, endSec: number): bigint {
  return BigInt.asIntN(64, (BigInt(endSec >>> 0) << 32n) | BigInt(count >>> 0));
}

function countOf(window: bigint): number {
  return Number(BigInt.asIntN(32, window));
}

function endOf(window: bigint): number {
  return Number(BigInt.asUintN(32, window >> 32n));
}

export class FreqCapReference {
  private readonly i32: Int32Array;
  private readonly i64: BigInt64Array;

  constructor(memory: WebAssembly.Memory) {
    this.i32 = new Int32Array(memory.buffer);
    this.i64 = new BigInt64Array(memory.buffer);
  }

  hasRules(slot: number): boolean {
    for (let w = 0; w < L.FREQCAP_WINDOWS; w++) if (this.ruleMax(slot, w) !== 0) return true;
    return false;
  }

  check(userKey: bigint, slot: number, nowSec: number): number {
    if (!this.hasRules(slot)) return L.CAP_OK;
    const key = capEntryKeyReference(userKey, slot);
    const at = this.findEntry(key);
    if (at !== 0) return this.windowsAllow(at, slot, nowSec) ? L.CAP_OK : L.CAP_CAPPED;
    return this.hasRoom(key, nowSec) ? L.CAP_OK : L.CAP_NO_ROOM;
  }

  take(userKey: bigint, slot: number, nowSec: number): number {
    if (!this.hasRules(slot)) return L.CAP_OK;
    const key = capEntryKeyReference(userKey, slot);
    for (let attempt = 0; attempt < L.FREQCAP_RETRY_LIMIT; attempt++) {
      const at = this.findOrClaim(key, nowSec);
      if (at === 0) return L.CAP_NO_ROOM;
      if (!this.windowsAllow(at, slot, nowSec)) return L.CAP_CAPPED;
      if (!this.reserveWindows(at, slot, nowSec, L.FREQCAP_WINDOWS)) return L.CAP_CAPPED;
      if (this.ownsEntry(at, key)) return L.CAP_OK;
      this.releaseWindows(at, slot, nowSec, L.FREQCAP_WINDOWS);
    }
    return L.CAP_CAPPED;
  }

  release(userKey: bigint, slot: number, nowSec: number): void {
    if (!this.hasRules(slot)) return;
    const at = this.findEntry(capEntryKeyReference(userKey, slot));
    if (at !== 0) this.releaseWindows(at, slot, nowSec, L.FREQCAP_WINDOWS);
  }

  count(userKey: bigint, slot: number, w: number, nowSec: number): number {
    const at = this.findEntry(capEntryKeyReference(userKey, slot));
    if (at === 0) return 0;
    const window = this.load(windowAt(at, w));
    return endOf(window) > nowSec ? countOf(window) : 0;
  }

  windowEnd(userKey: bigint, slot: number, w: number, nowSec: number): number {
    const at = this.findEntry(capEntryKeyReference(userKey, slot));
    if (at === 0) return 0;
    const end = endOf(this.load(windowAt(at, w)));
    return end > nowSec ? end : 0;
  }

  hasEntry(userKey: bigint, slot: number): boolean {
    return this.findEntry(capEntryKeyReference(userKey, slot)) !== 0;
  }

  seedWindow(userKey: bigint, slot: number, w: number, count: number, endSec: number, nowSec: number): number {
    if (this.ruleMax(slot, w) === 0 || count <= 0 || endSec <= nowSec) return L.CAP_OK;
    const key = capEntryKeyReference(userKey, slot);
    const capped = Math.min(count, L.FREQCAP_MAX_COUNT);
    for (let attempt = 0; attempt < L.FREQCAP_RETRY_LIMIT; attempt++) {
      const at = this.findOrClaim(key, nowSec);
      if (at === 0) return L.CAP_NO_ROOM;
      this.mergeWindow(windowAt(at, w), capped, endSec, nowSec);
      if (this.ownsEntry(at, key)) return L.CAP_OK;
    }
    return L.CAP_CAPPED;
  }

  private ruleMax(slot: number, w: number): number {
    return this.i32[(L.FREQCAP_RULES_BASE + (slot * L.FREQCAP_WINDOWS + w) * L.FREQCAP_RULE_BYTES + L.FREQCAP_RULE_MAX_OFF) >> 2]!;
  }

  private ruleWindowSec(slot: number, w: number): number {
    return this.i32[(L.FREQCAP_RULES_BASE + (slot * L.FREQCAP_WINDOWS + w) * L.FREQCAP_RULE_BYTES + L.FREQCAP_RULE_WINDOW_SEC_OFF) >> 2]!;
  }

  private load(at: number): bigint {
    return Atomics.load(this.i64, at >> 3);
  }

  private cas(at: number, expected: bigint, replacement: bigint): bigint {
    return Atomics.compareExchange(this.i64, at >> 3, expected, replacement);
  }

  private windowsAllow(at: number, slot: number, nowSec: number): boolean {
    for (let w = 0; w < L.FREQCAP_WINDOWS; w++) {
      const max = this.ruleMax(slot, w);
      if (max === 0) continue;
      const window = this.load(windowAt(at, w));
      if (endOf(window) > nowSec && countOf(window) >= max) return false;
    }
    return true;
  }

  private reserveWindows(at: number, slot: number, nowSec: number, upTo: number): boolean {
    for (let w = 0; w < upTo; w++) {
      const max = this.ruleMax(slot, w);
      if (max === 0) continue;
      if (!this.reserveWindow(windowAt(at, w), max, this.ruleWindowSec(slot, w), nowSec)) {
        this.releaseWindows(at, slot, nowSec, w);
        return false;
      }
    }
    return true;
  }

  private reserveWindow(at: number, max: number, windowSec: number, nowSec: number): boolean {
    let seen = this.load(at);
    for (;;) {
      let next: bigint;
      if (endOf(seen) <= nowSec) next = pack(1, nowSec + windowSec);
      else if (countOf(seen) >= max) return false;
      else next = pack(countOf(seen) + 1, endOf(seen));
      const got = this.cas(at, seen, next);
      if (got === seen) return true;
      seen = got;
    }
  }

  private releaseWindows(at: number, slot: number, nowSec: number, upTo: number): void {
    for (let w = 0; w < upTo; w++) if (this.ruleMax(slot, w) !== 0) this.releaseWindow(windowAt(at, w), nowSec);
  }

  private releaseWindow(at: number, nowSec: number): void {
    let seen = this.load(at);
    while (endOf(seen) > nowSec && countOf(seen) > 0) {
      const next = countOf(seen) === 1 ? 0n : pack(countOf(seen) - 1, endOf(seen));
      const got = this.cas(at, seen, next);
      if (got === seen) return;
      seen = got;
    }
  }

  private mergeWindow(at: number, count: number, endSec: number, nowSec: number): void {
    let seen = this.load(at);
    for (;;) {
      const open = endOf(seen) > nowSec;
      const next = pack(open ? Math.max(countOf(seen), count) : count, open ? Math.max(endOf(seen), endSec) : endSec);
      if (next === seen) return;
      const got = this.cas(at, seen, next);
      if (got === seen) return;
      seen = got;
    }
  }

  private findEntry(key: bigint): number {
    const home = homeOf(key);
    for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) {
      const at = entryAt(home + i);
      const seen = this.load(at);
      if (seen === key) return at;
      if (seen === EMPTY) return 0;
    }
    return 0;
  }

  private hasRoom(key: bigint, nowSec: number): boolean {
    const home = homeOf(key);
    for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) {
      const at = entryAt(home + i);
      const seen = this.load(at);
      if (seen === EMPTY || (seen !== BUSY && this.allExpired(at, nowSec))) return true;
    }
    return false;
  }

  private findOrClaim(key: bigint, nowSec: number): number {
    const home = homeOf(key);
    for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) {
      const at = entryAt(home + i);
      let seen = this.load(at);
      if (seen === EMPTY) seen = this.cas(at, EMPTY, key);
      if (seen === EMPTY || seen === key) return at;
    }
    return this.evictFor(key, home, nowSec);
  }

  private evictFor(key: bigint, home: number, nowSec: number): number {
    if (!this.lockEvictions()) return 0;
    let found = 0;
    for (let i = 0; i < L.FREQCAP_PROBE_LIMIT && found === 0; i++) {
      const at = entryAt(home + i);
      if (this.load(at) === key) found = at;
    }
    for (let i = 0; i < L.FREQCAP_PROBE_LIMIT && found === 0; i++) {
      const at = entryAt(home + i);
      if (this.tryEvict(at, key, nowSec)) found = at;
    }
    Atomics.store(this.i32, L.FREQCAP_LOCK_BASE >> 2, 0);
    return found;
  }

  private tryEvict(at: number, key: bigint, nowSec: number): boolean {
    const seen = this.load(at);
    if (seen === BUSY || !this.allExpired(at, nowSec)) return false;
    if (this.cas(at, seen, BUSY) !== seen) return false;
    if (!this.allExpired(at, nowSec)) {
      Atomics.store(this.i64, at >> 3, seen);
      return false;
    }
    Atomics.store(this.i64, at >> 3, key);
    return true;
  }

  private allExpired(at: number, nowSec: number): boolean {
    for (let w = 0; w < L.FREQCAP_WINDOWS; w++) if (endOf(this.load(windowAt(at, w))) > nowSec) return false;
    return true;
  }

  private ownsEntry(at: number, key: bigint): boolean {
    for (let spin = 0; spin < L.FREQCAP_SPIN_LIMIT; spin++) {
      const seen = this.load(at);
      if (seen !== BUSY) return seen === key;
    }
    return false;
  }

  private lockEvictions(): boolean {
    for (let spin = 0; spin < L.FREQCAP_SPIN_LIMIT; spin++) {
      if (Atomics.compareExchange(this.i32, L.FREQCAP_LOCK_BASE >> 2, 0, 1) === 0) return true;
    }
    return false;
  }
}
