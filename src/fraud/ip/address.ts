// IP addresses as numbers, for range lookups: IPv4 as an unsigned 32-bit integer, IPv6 as its first
// 64 bits (two unsigned 32-bit halves; hosting ranges are never longer than /64, so the rest is not
// needed). The IPv4 parser is hand-written and allocates nothing (it runs on every request);
// IPv6 goes through ipaddr.js (rarer in bid requests, and its grammar is not worth re-implementing).
import ipaddr from "ipaddr.js";

/** The address as an unsigned 32-bit integer, or -1 when `text` is not a dotted-quad IPv4 address. */
export function parseIpv4(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) { // "."
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return -1; // leading zero ("01"): refused, as inet_pton does
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** An IPv6 address's first 64 bits as [hi, lo] (unsigned), or null when `text` is not IPv6. */
export function parseIpv6Prefix(text: string): [number, number] | null {
  if (!ipaddr.IPv6.isValid(text)) return null;
  const parts = ipaddr.IPv6.parse(text).parts;
  return [((parts[0]! << 16) | parts[1]!) >>> 0, ((parts[2]! << 16) | parts[3]!) >>> 0];
}

/** Writes "a.b.c" (the /24 an IPv4 address is in) or the /48 of an IPv6 address: what tier 3 groups by. */
export function subnetOf(text: string): string | null {
  const v4 = parseIpv4(text);
  if (v4 >= 0) return `${v4 >>> 24}.${(v4 >>> 16) & 255}.${(v4 >>> 8) & 255}.0/24`;
  const v6 = parseIpv6Prefix(text);
  if (v6 === null) return null;
  const h = (x: number) => x.toString(16);
  return `${h(v6[0] >>> 16)}:${h(v6[0] & 0xffff)}:${h(v6[1] >>> 16)}::/48`;
}
