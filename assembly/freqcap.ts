// Frequency caps: per (user, campaign) impression counts in one fixed-size table in the shared
// memory, so every worker sees every other worker's impressions at once, with no network call.
//
// Windows are fixed and start at the first impression: the first impression of a closed window
// opens one ending windowSec later; each later impression is counted while now < end; at most
// `max` are counted per window. Each window is one i64 (count, end): check and increment are one
// compare-and-swap, so no interleaving of workers can count past `max`. A take over several
// windows reserves them one by one and releases what it reserved if a later one is full
// (reserve-then-release: a concurrent reader may see a transient extra count - stricter, never looser).
//
// Table full (no empty entry on the key's probe path): the first entry on the path whose windows
// have all expired is evicted (an expired entry holds no information), under one eviction lock,
// marking its key FREQCAP_KEY_BUSY while it checks. If none is expired the take reports
// CAP_NO_ROOM and the auction treats the bid as capped: a full table only makes caps stricter.
// A take that raced with the eviction of its own entry sees the key change, releases what it
// reserved there, and retries.
//
// Layout: see layout.ts. Times are u32 unix seconds; counts i32.

import {
  FREQCAP_WINDOWS, FREQCAP_RULE_BYTES, FREQCAP_RULE_MAX_OFF, FREQCAP_RULE_WINDOW_SEC_OFF, FREQCAP_RULES_BASE,
  FREQCAP_ENTRY_BYTES, FREQCAP_WINDOWS_OFF, FREQCAP_WINDOW_BYTES, FREQCAP_ENTRIES, FREQCAP_PROBE_LIMIT,
  FREQCAP_TABLE_BASE, FREQCAP_LOCK_BASE, FREQCAP_KEY_EMPTY, FREQCAP_KEY_BUSY, FREQCAP_SPIN_LIMIT,
  FREQCAP_RETRY_LIMIT, FREQCAP_MAX_COUNT, CAP_CAPPED, CAP_OK, CAP_NO_ROOM, MAX_CAMPAIGNS,
} from "./layout";

// @ts-ignore: decorator
@inline const KEY_MIX: i64 = <i64>0x9E3779B97F4A7C15; // 2^64 / golden ratio: spreads campaign slots

/** The table key of (user key, campaign slot); odd, so never FREQCAP_KEY_EMPTY or FREQCAP_KEY_BUSY. */
export function capEntryKey(userKey: i64, slot: i32): i64 {
  return (userKey ^ (<i64>(slot + 1) * KEY_MIX)) | 1;
}

// @ts-ignore: decorator
@inline function entryAt(index: i32): usize {
  return <usize>(FREQCAP_TABLE_BASE + (index & (FREQCAP_ENTRIES - 1)) * FREQCAP_ENTRY_BYTES);
}

// @ts-ignore: decorator
@inline function homeOf(key: i64): i32 {
  return <i32>(key >>> 32) & (FREQCAP_ENTRIES - 1);
}

// @ts-ignore: decorator
@inline function windowAt(entry: usize, w: i32): usize {
  return entry + <usize>(FREQCAP_WINDOWS_OFF + w * FREQCAP_WINDOW_BYTES);
}

// @ts-ignore: decorator
@inline function ruleAt(slot: i32, w: i32): usize {
  return <usize>(FREQCAP_RULES_BASE + (slot * FREQCAP_WINDOWS + w) * FREQCAP_RULE_BYTES);
}

// @ts-ignore: decorator
@inline function ruleMax(slot: i32, w: i32): i32 {
  return load<i32>(ruleAt(slot, w), FREQCAP_RULE_MAX_OFF);
}

// @ts-ignore: decorator
@inline function pack(count: i32, endSec: u32): i64 {
  return (<i64>endSec << 32) | <i64><u32>count;
}

// @ts-ignore: decorator
@inline function countOf(window: i64): i32 {
  return <i32>window;
}

// @ts-ignore: decorator
@inline function endOf(window: i64): u32 {
  return <u32>(window >>> 32);
}

/** True when campaign `slot` has at least one cap rule. */
export function capHasRules(slot: i32): bool {
  assert(slot >= 0 && slot < MAX_CAMPAIGNS, "campaign slot out of range");
  for (let w = 0; w < FREQCAP_WINDOWS; w++) if (ruleMax(slot, w) != 0) return true;
  return false;
}

/** Would a take succeed now? Read-only; the auction's eligibility filter (capTake decides). */
export function capCheck(userKey: i64, slot: i32, nowSec: u32): i32 {
  if (!capHasRules(slot)) return CAP_OK;
  const key = capEntryKey(userKey, slot);
  const at = findEntry(key);
  if (at != 0) return windowsAllow(at, slot, nowSec) ? CAP_OK : CAP_CAPPED;
  return hasRoom(key, nowSec) ? CAP_OK : CAP_NO_ROOM;
}

/** Counts one impression in every window of the campaign's caps, atomically w.r.t. each max. */
export function capTake(userKey: i64, slot: i32, nowSec: u32): i32 {
  if (!capHasRules(slot)) return CAP_OK;
  const key = capEntryKey(userKey, slot);
  for (let attempt = 0; attempt < FREQCAP_RETRY_LIMIT; attempt++) {
    const at = findOrClaim(key, nowSec);
    if (at == 0) return CAP_NO_ROOM;
    if (!windowsAllow(at, slot, nowSec)) return CAP_CAPPED;
    if (!reserveWindows(at, slot, nowSec, FREQCAP_WINDOWS)) return CAP_CAPPED;
    if (ownsEntry(at, key)) return CAP_OK;
    releaseWindows(at, slot, nowSec, FREQCAP_WINDOWS); // the entry was evicted under us: undo there, retry
  }
  return CAP_CAPPED;
}

/** Undoes one capTake of the same call (same nowSec), e.g. when the budget then refused the win. */
export function capRelease(userKey: i64, slot: i32, nowSec: u32): void {
  if (!capHasRules(slot)) return;
  const at = findEntry(capEntryKey(userKey, slot));
  if (at != 0) releaseWindows(at, slot, nowSec, FREQCAP_WINDOWS);
}

/** The live count of window `w` (0 when closed or absent). */
export function capCount(userKey: i64, slot: i32, w: i32, nowSec: u32): i32 {
  assert(w >= 0 && w < FREQCAP_WINDOWS, "window out of range");
  const at = findEntry(capEntryKey(userKey, slot));
  if (at == 0) return 0;
  const window = atomic.load<i64>(windowAt(at, w));
  return endOf(window) > nowSec ? countOf(window) : 0;
}

/** The end (unix s) of window `w`, 0 when closed or absent. */
export function capWindowEnd(userKey: i64, slot: i32, w: i32, nowSec: u32): u32 {
  assert(w >= 0 && w < FREQCAP_WINDOWS, "window out of range");
  const at = findEntry(capEntryKey(userKey, slot));
  if (at == 0) return 0;
  const end = endOf(atomic.load<i64>(windowAt(at, w)));
  return end > nowSec ? end : 0;
}

/** True when the table holds an entry for (user, campaign): a miss is when a remote store is asked. */
export function capHasEntry(userKey: i64, slot: i32): bool {
  return findEntry(capEntryKey(userKey, slot)) != 0;
}

/**
 * Merges a count from elsewhere (a remote store) into window `w`: the larger count and the later end
 * win, so seeding never loosens a cap. An open window is needed (endSec > nowSec, count > 0).
 */
export function capSeedWindow(userKey: i64, slot: i32, w: i32, count: i32, endSec: u32, nowSec: u32): i32 {
  assert(w >= 0 && w < FREQCAP_WINDOWS, "window out of range");
  if (ruleMax(slot, w) == 0 || count <= 0 || endSec <= nowSec) return CAP_OK;
  const key = capEntryKey(userKey, slot);
  const capped = count < FREQCAP_MAX_COUNT ? count : FREQCAP_MAX_COUNT;
  for (let attempt = 0; attempt < FREQCAP_RETRY_LIMIT; attempt++) {
    const at = findOrClaim(key, nowSec);
    if (at == 0) return CAP_NO_ROOM;
    mergeWindow(windowAt(at, w), capped, endSec, nowSec);
    if (ownsEntry(at, key)) return CAP_OK;
  }
  return CAP_CAPPED;
}

function windowsAllow(at: usize, slot: i32, nowSec: u32): bool {
  for (let w = 0; w < FREQCAP_WINDOWS; w++) {
    const max = ruleMax(slot, w);
    if (max == 0) continue;
    const window = atomic.load<i64>(windowAt(at, w));
    if (endOf(window) > nowSec && countOf(window) >= max) return false;
  }
  return true;
}

/** Reserves one impression in each ruled window below `upTo`; on a full one releases the rest, false. */
function reserveWindows(at: usize, slot: i32, nowSec: u32, upTo: i32): bool {
  for (let w = 0; w < upTo; w++) {
    const max = ruleMax(slot, w);
    if (max == 0) continue;
    const windowSec = load<i32>(ruleAt(slot, w), FREQCAP_RULE_WINDOW_SEC_OFF);
    if (!reserveWindow(windowAt(at, w), max, <u32>windowSec, nowSec)) {
      releaseWindows(at, slot, nowSec, w);
      return false;
    }
  }
  return true;
}

/** count + 1 if below max in the open window, or a new window (1, now + windowSec) if it has closed. */
function reserveWindow(at: usize, max: i32, windowSec: u32, nowSec: u32): bool {
  let seen = atomic.load<i64>(at);
  while (true) {
    let next: i64;
    if (endOf(seen) <= nowSec) next = pack(1, nowSec + windowSec);
    else if (countOf(seen) >= max) return false;
    else next = pack(countOf(seen) + 1, endOf(seen));
    const got = atomic.cmpxchg<i64>(at, seen, next);
    if (got == seen) return true;
    seen = got;
  }
}

function releaseWindows(at: usize, slot: i32, nowSec: u32, upTo: i32): void {
  for (let w = 0; w < upTo; w++) if (ruleMax(slot, w) != 0) releaseWindow(windowAt(at, w), nowSec);
}

/** count - 1 in an open window; a window left with no impression is closed (0), as if never opened. */
function releaseWindow(at: usize, nowSec: u32): void {
  let seen = atomic.load<i64>(at);
  while (endOf(seen) > nowSec && countOf(seen) > 0) {
    const next = countOf(seen) == 1 ? 0 : pack(countOf(seen) - 1, endOf(seen));
    const got = atomic.cmpxchg<i64>(at, seen, next);
    if (got == seen) return;
    seen = got;
  }
}

function mergeWindow(at: usize, count: i32, endSec: u32, nowSec: u32): void {
  let seen = atomic.load<i64>(at);
  while (true) {
    const open = endOf(seen) > nowSec;
    const mergedCount = open && countOf(seen) > count ? countOf(seen) : count;
    const mergedEnd = open && endOf(seen) > endSec ? endOf(seen) : endSec;
    const next = pack(mergedCount, mergedEnd);
    if (next == seen) return;
    const got = atomic.cmpxchg<i64>(at, seen, next);
    if (got == seen) return;
    seen = got;
  }
}

/** Entry of `key`, or 0; the probe stops at the first empty entry (entries never become empty again). */
function findEntry(key: i64): usize {
  const home = homeOf(key);
  for (let i = 0; i < FREQCAP_PROBE_LIMIT; i++) {
    const at = entryAt(home + i);
    const seen = atomic.load<i64>(at);
    if (seen == key) return at;
    if (seen == FREQCAP_KEY_EMPTY) return 0;
  }
  return 0;
}

/** Is there an empty or evictable entry on the key's path? (capCheck's view of capTake's findOrClaim.) */
function hasRoom(key: i64, nowSec: u32): bool {
  const home = homeOf(key);
  for (let i = 0; i < FREQCAP_PROBE_LIMIT; i++) {
    const at = entryAt(home + i);
    const seen = atomic.load<i64>(at);
    if (seen == FREQCAP_KEY_EMPTY || (seen != FREQCAP_KEY_BUSY && allExpired(at, nowSec))) return true;
  }
  return false;
}

/** Entry of `key`, claiming the first empty one on its path, else evicting an expired one; 0 if none. */
function findOrClaim(key: i64, nowSec: u32): usize {
  const home = homeOf(key);
  for (let i = 0; i < FREQCAP_PROBE_LIMIT; i++) {
    const at = entryAt(home + i);
    let seen = atomic.load<i64>(at);
    if (seen == FREQCAP_KEY_EMPTY) seen = atomic.cmpxchg<i64>(at, <i64>FREQCAP_KEY_EMPTY, key);
    if (seen == FREQCAP_KEY_EMPTY || seen == key) return at;
  }
  return evictFor(key, home, nowSec);
}

/** Under the eviction lock: the key if another worker placed it meanwhile, else the first expired entry. */
function evictFor(key: i64, home: i32, nowSec: u32): usize {
  if (!lockEvictions()) return 0;
  let found: usize = 0;
  for (let i = 0; i < FREQCAP_PROBE_LIMIT && found == 0; i++) {
    const at = entryAt(home + i);
    if (atomic.load<i64>(at) == key) found = at;
  }
  for (let i = 0; i < FREQCAP_PROBE_LIMIT && found == 0; i++) {
    const at = entryAt(home + i);
    if (tryEvict(at, key, nowSec)) found = at;
  }
  atomic.store<i32>(FREQCAP_LOCK_BASE, 0);
  return found;
}

/** Re-keys an entry whose windows have all expired; BUSY while re-checking so its owner notices. */
function tryEvict(at: usize, key: i64, nowSec: u32): bool {
  const seen = atomic.load<i64>(at);
  if (seen == FREQCAP_KEY_BUSY || !allExpired(at, nowSec)) return false;
  if (atomic.cmpxchg<i64>(at, seen, <i64>FREQCAP_KEY_BUSY) != seen) return false;
  if (!allExpired(at, nowSec)) {
    atomic.store<i64>(at, seen); // revived by its owner between the two looks: leave it
    return false;
  }
  atomic.store<i64>(at, key);
  return true;
}

function allExpired(at: usize, nowSec: u32): bool {
  for (let w = 0; w < FREQCAP_WINDOWS; w++) if (endOf(atomic.load<i64>(windowAt(at, w))) > nowSec) return false;
  return true;
}

/** Still our entry after our writes? Waits (bounded) while an eviction holds it BUSY. */
function ownsEntry(at: usize, key: i64): bool {
  for (let spin = 0; spin < FREQCAP_SPIN_LIMIT; spin++) {
    const seen = atomic.load<i64>(at);
    if (seen != FREQCAP_KEY_BUSY) return seen == key;
  }
  return false;
}

function lockEvictions(): bool {
  for (let spin = 0; spin < FREQCAP_SPIN_LIMIT; spin++) {
    if (atomic.cmpxchg<i32>(FREQCAP_LOCK_BASE, 0, 1) == 0) return true;
  }
  return false;
}
