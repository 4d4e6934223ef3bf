// Tier 1 and tier 2 user-agent signals. Crawlers come from isbot (5.x, Unlicense, one compiled
// pattern kept up to date with the community list); the rest are cheap string probes for the model:
// the operating system and form factor the UA claims, to compare with the request's device fields.
import { isbot } from "isbot";

export function isCrawler(ua: string): boolean {
  return isbot(ua);
}

export const OS_UNKNOWN = 0, OS_IOS = 1, OS_ANDROID = 2, OS_WINDOWS = 3, OS_MAC = 4, OS_LINUX = 5;

/** The OS a user agent claims. */
export function uaOs(ua: string): number {
  if (ua.includes("iPhone") || ua.includes("iPad")) return OS_IOS;
  if (ua.includes("Android")) return OS_ANDROID;
  if (ua.includes("Windows")) return OS_WINDOWS;
  if (ua.includes("Mac OS X") || ua.includes("Macintosh")) return OS_MAC;
  if (ua.includes("Linux") || ua.includes("X11")) return OS_LINUX;
  return OS_UNKNOWN;
}

/** The OS named by device.os. */
export function deviceOs(os: string | undefined): number {
  if (os === undefined) return OS_UNKNOWN;
  const o = os.toLowerCase();
  if (o === "ios" || o === "ipados") return OS_IOS;
  if (o === "android") return OS_ANDROID;
  if (o.startsWith("windows")) return OS_WINDOWS;
  if (o === "macos" || o === "mac os x" || o === "os x" || o === "mac os") return OS_MAC;
  if (o === "linux") return OS_LINUX;
  return OS_UNKNOWN;
}

export function uaIsMobile(ua: string): boolean {
  return ua.includes("Mobile") || ua.includes("iPhone") || ua.includes("Android");
}

/** The browser's major version (Chrome, Firefox, or Safari's Version/), or NaN. */
export function uaBrowserMajor(ua: string): number {
  let at = ua.indexOf("Chrome/");
  if (at >= 0) return digitsAt(ua, at + 7);
  at = ua.indexOf("Firefox/");
  if (at >= 0) return digitsAt(ua, at + 8);
  at = ua.indexOf("Version/");
  if (at >= 0) return digitsAt(ua, at + 8);
  return Number.NaN;
}

function digitsAt(text: string, at: number): number {
  let value = 0, n = 0;
  for (let i = at; i < text.length && n < 6; i++, n++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    value = value * 10 + (c - 48);
  }
  return n === 0 ? Number.NaN : value;
}
