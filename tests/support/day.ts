// Tests that read today's budget books by the real clock (servers, Redis) cannot simulate time: a run
// that straddles a campaign's midnight would see two days' budgets. They wait for the day to roll first
// when less than their span is left of it.
import { dayWindowMs } from "../../src/budget/pacing/day-window.ts";

/** Waits, if needed, until at least `spanMs` is left of the current day in every zone (UTC by default). */
export async function clearOfMidnight(spanMs: number, timeZones: string[] = ["UTC"]): Promise<void> {
  for (const zone of timeZones) {
    const leftMs = dayWindowMs(Date.now(), zone).endMs - Date.now();
    if (leftMs < spanMs) {
      console.log(`waiting ${Math.ceil(leftMs / 1_000)} s for midnight in ${zone}: this test spans ${spanMs / 1_000} s of one budget day`);
      await Bun.sleep(leftMs + 1_000);
    }
  }
}
