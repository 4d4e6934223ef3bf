// Polling a condition that a real process or service makes true in its own time.

/** Resolves once `check` is true; throws naming `what` after `timeoutMs`. Polls every 50 ms. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await Bun.sleep(50);
  }
}
