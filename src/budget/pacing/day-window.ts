// A campaign's day in its time zone as [startMs, endMs): local midnight to the next local midnight,
// so 23 or 25 hours long on a daylight-saving change. Intl is slow (microseconds), so callers ask
// once per day, not per tick (the Pacer caches the window until it ends).

export interface DayWindow {
  startMs: number;
  endMs: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The day containing `nowMs` in IANA zone `timeZone` (e.g. "America/New_York"); throws RangeError on an unknown zone. */
export function dayWindowMs(nowMs: number, timeZone: string): DayWindow {
  const { year, month, day } = partsOf(nowMs, timeZone);
  const startMs = localMidnightMs(year, month, day, timeZone);
  const endMs = localMidnightMs(year, month, day + 1, timeZone);
  if (!(startMs <= nowMs && nowMs < endMs)) throw new Error(`day window: ${timeZone} at ${nowMs} gave [${startMs}, ${endMs})`);
  return { startMs, endMs };
}

/** The UTC instant of 00:00 local time on a date (Date.UTC normalises day overflow). */
function localMidnightMs(year: number, month: number, day: number, timeZone: string): number {
  const wallMs = Date.UTC(year, month - 1, day);
  let guess = wallMs - offsetMs(wallMs, timeZone);
  guess = wallMs - offsetMs(guess, timeZone); // second pass: the offset at the instant itself (DST)
  return guess;
}

/** Local wall-clock time minus UTC at an instant. */
function offsetMs(atMs: number, timeZone: string): number {
  const parts = partsOf(atMs, timeZone);
  return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second) - Math.floor(atMs / 1000) * 1000;
}

function partsOf(atMs: number, timeZone: string) {
  let format = formatters.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric",
    });
    formatters.set(timeZone, format);
  }
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const part of format.formatToParts(atMs)) {
    if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
  }
  return out;
}
