// A set of CIDR ranges (IPv4 and IPv6) for per-request lookups: ranges are merged into sorted,
// disjoint [start, end] intervals held in typed arrays, and a lookup is one binary search (no
// allocation for IPv4). IPv6 ranges are kept at /64 granularity (a longer prefix is widened to its /64).
import ipaddr from "ipaddr.js";
import { parseIpv4, parseIpv6Prefix } from "./address.ts";

export class CidrError extends Error {
  constructor(readonly line: number, message: string) {
    super(message);
  }
}

export class CidrSet {
  private constructor(
    private readonly v4Start: Uint32Array, private readonly v4End: Uint32Array,
    // IPv6 /64 prefixes as float64 pairs (hi * 2^32 + lo would lose bits): compared hi first, then lo.
    private readonly v6StartHi: Uint32Array, private readonly v6StartLo: Uint32Array,
    private readonly v6EndHi: Uint32Array, private readonly v6EndLo: Uint32Array,
  ) {}

  static empty(): CidrSet {
    return CidrSet.fromCidrs([]);
  }

  /** One CIDR (or bare address) per line; blank lines and `#` comments ignored. A bad line throws CidrError naming it. */
  static parse(text: string): CidrSet {
    const cidrs: string[] = [];
    const lineNumbers: number[] = [];
    text.split("\n").forEach((raw, i) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      cidrs.push(line);
      lineNumbers.push(i + 1);
    });
    try {
      return CidrSet.fromCidrs(cidrs);
    } catch (err) {
      const index = (err as { index?: number }).index ?? 0;
      throw new CidrError(lineNumbers[index] ?? 0, (err as Error).message);
    }
  }

  static fromCidrs(cidrs: readonly string[]): CidrSet {
    const v4: Array<[number, number]> = [];
    const v6: Array<[bigint, bigint]> = [];
    cidrs.forEach((cidr, index) => {
      const withMask = cidr.includes("/") ? cidr : `${cidr}/${cidr.includes(":") ? 128 : 32}`;
      let parsed: [ipaddr.IPv4 | ipaddr.IPv6, number];
      try {
        parsed = ipaddr.parseCIDR(withMask);
      } catch {
        throw Object.assign(new Error(`not a CIDR range: "${cidr}"`), { index });
      }
      const [addr, bits] = parsed;
      if (addr.kind() === "ipv4") {
        const start = addr.toByteArray().reduce((acc, b) => acc * 256 + b, 0);
        const size = 2 ** (32 - bits);
        const base = start - (start % size);
        v4.push([base, base + size - 1]);
      } else {
        const bytes = addr.toByteArray().slice(0, 8);
        const prefix = bytes.reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
        const keep = Math.min(bits, 64);
        const mask = keep === 0 ? 0n : ((1n << 64n) - 1n) ^ ((1n << BigInt(64 - keep)) - 1n);
        const base = prefix & mask;
        v6.push([base, base | (((1n << 64n) - 1n) ^ mask)]);
      }
    });
    const m4 = merge(v4.map(([a, b]) => [BigInt(a), BigInt(b)]));
    const m6 = merge(v6);
    const hi = (x: bigint) => Number(x >> 32n);
    const lo = (x: bigint) => Number(x & 0xffffffffn);
    return new CidrSet(
      Uint32Array.from(m4, ([a]) => Number(a)), Uint32Array.from(m4, ([, b]) => Number(b)),
      Uint32Array.from(m6, ([a]) => hi(a)), Uint32Array.from(m6, ([a]) => lo(a)),
      Uint32Array.from(m6, ([, b]) => hi(b)), Uint32Array.from(m6, ([, b]) => lo(b)),
    );
  }

  /** Disjoint ranges held (after merging overlaps and neighbours): for messages and tests. */
  get size(): { v4: number; v6: number } {
    return { v4: this.v4Start.length, v6: this.v6StartHi.length };
  }

  /** Whether the unsigned 32-bit IPv4 address is in a range. */
  hasV4(ip: number): boolean {
    let lo = 0, hi = this.v4Start.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.v4Start[mid]! > ip) hi = mid - 1;
      else if (this.v4End[mid]! < ip) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Whether the IPv6 address whose first 64 bits are (hi, lo) is in a range. */
  hasV6(prefixHi: number, prefixLo: number): boolean {
    let lo = 0, hi = this.v6StartHi.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.v6StartHi[mid]!, this.v6StartLo[mid]!, prefixHi, prefixLo) > 0) hi = mid - 1;
      else if (compare(this.v6EndHi[mid]!, this.v6EndLo[mid]!, prefixHi, prefixLo) < 0) lo = mid + 1;
      else return true;
    }
    return false;
  }

  /** Whether an address written as text (IPv4 or IPv6) is in a range; false for anything unparsable. */
  has(text: string): boolean {
    const v4 = parseIpv4(text);
    if (v4 >= 0) return this.hasV4(v4);
    const v6 = parseIpv6Prefix(text);
    return v6 !== null && this.hasV6(v6[0], v6[1]);
  }
}

function compare(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return aHi !== bHi ? aHi - bHi : aLo - bLo;
}

/** Sorts and merges overlapping or adjacent intervals. */
function merge(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [start, end] of ranges) {
    const last = out[out.length - 1];
    if (last !== undefined && start <= last[1] + 1n) {
      if (end > last[1]) last[1] = end;
    } else {
      out.push([start, end]);
    }
  }
  return out;
}
