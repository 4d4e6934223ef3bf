// The user a frequency cap counts for: `user.id`, else `device.ifa` (an all-zero IFA means "limit
// ad tracking" and is no key), else `device.ip` (or ipv6) together with `device.ua`. The key is
// hashed at once (wyhash, fixed seed: the same on every machine, so a remote store can share it);
// raw ids never reach the table, the logs or a remote store.
import type { BidRequest } from "../openrtb/request.ts";

/** "No usable key": the request then follows auction.frequencyCapNoKey. */
export const NO_USER_KEY = 0n;
const HASH_SEED = 0x746d6178n; // "tmax"
const ZERO_IFA = /^[0-]*$/;

/** The key's source text, or null when the request carries no usable key. */
export function userKeyText(req: Pick<BidRequest, "user" | "device">): string | null {
  const id = req.user?.id;
  if (id !== undefined && id !== "") return `u:${id}`;
  const ifa = req.device?.ifa;
  if (ifa !== undefined && !ZERO_IFA.test(ifa)) return `ifa:${ifa}`;
  const ip = req.device?.ip || req.device?.ipv6;
  const ua = req.device?.ua;
  if (ip && ua) return `ipua:${ip}|${ua}`;
  return null;
}

/** A signed 64-bit hash, never NO_USER_KEY. */
export function hashUserKey(text: string): bigint {
  const hash = BigInt.asIntN(64, BigInt(Bun.hash.wyhash(text, HASH_SEED)));
  return hash === NO_USER_KEY ? 1n : hash;
}

export function userKeyOf(req: Pick<BidRequest, "user" | "device">): bigint {
  const text = userKeyText(req);
  return text === null ? NO_USER_KEY : hashUserKey(text);
}

/** 16 hex digits: the key's name outside the process (remote store keys). */
export function userKeyHex(userKey: bigint): string {
  return BigInt.asUintN(64, userKey).toString(16).padStart(16, "0");
}
