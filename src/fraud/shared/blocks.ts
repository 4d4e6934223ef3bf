// The dynamic block table: IPs and subnets (IPv4 /24, IPv6 /48) blocked until a time, written by
// tier 3 or an operator at run time and read by every worker on every request (shared memory: live
// without a restart). Keys are hashes of the address or of the subnet's prefix.
import { parseIpv4, parseIpv6Prefix, subnetOf } from "../ip/address.ts";
import { fnv1a, mix32, SEED_A, SEED_B } from "./hash.ts";
import { B, type FraudState } from "./state.ts";

const SUBNET_TAG = 0x5b; // keeps subnet keys apart from address keys
const DEVICE_TAG = 0x3d; // device blocks (key: the device key's first hash word)
const SUSPECT_TAG = 0x71; // subnets marked suspect by tier 3 (their requests are flagged)

/** Blocks `subnet` ("a.b.c.0/24" or an IPv6 "/48" as subnetOf writes it) or a single address until unix ms `untilMs`. */
export function blockUntil(state: FraudState, target: string, nowMs: number, untilMs: number): boolean {
  let keyA: number, keyB: number;
  if (target.endsWith("/24")) {
    const v4 = parseIpv4(target.slice(0, -3));
    if (v4 < 0) return false;
    keyA = mix32(v4 >>> 8, SEED_A ^ SUBNET_TAG);
    keyB = mix32(v4 >>> 8, SEED_B ^ SUBNET_TAG);
  } else if (target.endsWith("/48")) {
    keyA = fnv1a(target, SEED_A ^ SUBNET_TAG);
    keyB = fnv1a(target, SEED_B ^ SUBNET_TAG);
  } else {
    if (parseIpv4(target) < 0 && parseIpv6Prefix(target) === null) return false;
    keyA = fnv1a(target, SEED_A);
    keyB = fnv1a(target, SEED_B);
  }
  const at = state.blocks.upsert(keyA, keyB, state.clockSec(nowMs));
  Atomics.store(state.blocks.words, at + B.UNTIL_SEC, state.clockSec(untilMs));
  return true;
}

/** Whether the address or its subnet is blocked now. No allocation for IPv4. */
export function isBlocked(state: FraudState, ip: string, nowMs: number): boolean {
  const nowSec = state.clockSec(nowMs);
  if (activeBlock(state, fnv1a(ip, SEED_A), fnv1a(ip, SEED_B), nowSec)) return true;
  const v4 = parseIpv4(ip);
  if (v4 >= 0) return activeBlock(state, mix32(v4 >>> 8, SEED_A ^ SUBNET_TAG), mix32(v4 >>> 8, SEED_B ^ SUBNET_TAG), nowSec);
  const subnet = subnetOf(ip);
  return subnet !== null && activeBlock(state, fnv1a(subnet, SEED_A ^ SUBNET_TAG), fnv1a(subnet, SEED_B ^ SUBNET_TAG), nowSec);
}

function activeBlock(state: FraudState, keyA: number, keyB: number, nowSec: number): boolean {
  const at = state.blocks.find(keyA === 0 ? 1 : keyA, keyB);
  return at >= 0 && Atomics.load(state.blocks.words, at + B.UNTIL_SEC) > nowSec;
}

/** Blocks a device (its key's first hash word, as the audit's device_key hex) until unix ms `untilMs`. */
export function blockDevice(state: FraudState, deviceKeyHex: string, nowMs: number, untilMs: number): boolean {
  const key = Number.parseInt(deviceKeyHex, 16);
  if (!/^[0-9a-f]{8}$/.test(deviceKeyHex)) return false;
  setUntil(state, key | 0, mix32(key, SEED_B ^ DEVICE_TAG), nowMs, untilMs);
  return true;
}

export function isDeviceBlocked(state: FraudState, deviceKeyA: number, nowMs: number): boolean {
  return activeBlock(state, deviceKeyA, mix32(deviceKeyA >>> 0, SEED_B ^ DEVICE_TAG), state.clockSec(nowMs));
}

/** Marks an IPv4 /24 ("a.b.c.0/24") suspect until unix ms `untilMs`: its requests are flagged at least. */
export function markSubnetSuspect(state: FraudState, subnet: string, nowMs: number, untilMs: number): boolean {
  const v4 = subnet.endsWith("/24") ? parseIpv4(subnet.slice(0, -3)) : -1;
  if (v4 < 0) return false;
  setUntil(state, mix32(v4 >>> 8, SEED_A ^ SUSPECT_TAG), mix32(v4 >>> 8, SEED_B ^ SUSPECT_TAG), nowMs, untilMs);
  return true;
}

export function isSubnetSuspect(state: FraudState, ip: string, nowMs: number): boolean {
  const v4 = parseIpv4(ip);
  return v4 >= 0 && activeBlock(state, mix32(v4 >>> 8, SEED_A ^ SUSPECT_TAG), mix32(v4 >>> 8, SEED_B ^ SUSPECT_TAG), state.clockSec(nowMs));
}

function setUntil(state: FraudState, keyA: number, keyB: number, nowMs: number, untilMs: number): void {
  const at = state.blocks.upsert(keyA === 0 ? 1 : keyA, keyB, state.clockSec(nowMs));
  Atomics.store(state.blocks.words, at + B.UNTIL_SEC, state.clockSec(untilMs));
}
