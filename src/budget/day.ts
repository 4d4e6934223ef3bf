// A campaign's budget day: the calendar date in its IANA time zone (Intl, no time-zone library).
// Budgets reset when it changes: a new day is a new set of books (store keys carry the day).
const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" });
    formats.set(timeZone, f);
  }
  return f;
}

/** YYYY-MM-DD of `nowMs` in `timeZone`. */
export function campaignDay(nowMs: number, timeZone: string): string {
  const parts = format(timeZone).formatToParts(nowMs);
  const get = (type: string) => parts.find((p) => p.type === type)!.value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** The day as a number (20261204), for shared memory. */
export function dayNumber(day: string): number {
  return Number(day.replaceAll("-", ""));
}

/** True when Intl knows the zone (config checks it once). */
export function isTimeZone(timeZone: string): boolean {
  try {
    format(timeZone);
    return true;
  } catch {
    return false;
  }
}
