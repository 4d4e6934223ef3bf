// Day windows from time zones, across daylight-saving changes.
import { expect, test } from "bun:test";
import { dayWindowMs } from "./day-window.ts";

const HOUR_MS = 3_600_000;

test("UTC: midnight to midnight", () => {
  const now = Date.parse("2026-12-04T18:30:00Z");
  expect(dayWindowMs(now, "UTC")).toEqual({ startMs: Date.parse("2026-12-04T00:00:00Z"), endMs: Date.parse("2026-12-05T00:00:00Z") });
});

test("a half-hour zone, and a time just before and after local midnight", () => {
  expect(dayWindowMs(Date.parse("2026-12-04T18:29:59Z"), "Asia/Kolkata").startMs).toBe(Date.parse("2026-12-03T18:30:00Z"));
  expect(dayWindowMs(Date.parse("2026-12-04T18:30:00Z"), "Asia/Kolkata").startMs).toBe(Date.parse("2026-12-04T18:30:00Z"));
});

test("New York: a 23-hour day in March, a 25-hour day in November, 24 otherwise", () => {
  const spring = dayWindowMs(Date.parse("2026-03-08T15:00:00Z"), "America/New_York");
  expect(spring.startMs).toBe(Date.parse("2026-03-08T05:00:00Z"));
  expect(spring.endMs - spring.startMs).toBe(23 * HOUR_MS);
  const fall = dayWindowMs(Date.parse("2026-11-01T15:00:00Z"), "America/New_York");
  expect(fall.startMs).toBe(Date.parse("2026-11-01T04:00:00Z"));
  expect(fall.endMs - fall.startMs).toBe(25 * HOUR_MS);
  const plain = dayWindowMs(Date.parse("2026-12-04T03:00:00Z"), "America/New_York");
  expect(plain).toEqual({ startMs: Date.parse("2026-12-03T05:00:00Z"), endMs: Date.parse("2026-12-04T05:00:00Z") });
});

test("an unknown zone is refused", () => {
  expect(() => dayWindowMs(0, "Mars/Olympus")).toThrow(RangeError);
});
