// A bounded wait on a promise that may never settle (a client library's stop() or disconnect() on a
// broken connection): shutdown paths use it so a dead peer cannot hold a process forever.

/** Waits for `promise` at most `timeoutMs`: true if it settled (resolved or rejected) in time, false if the wait ran out. Its rejection, then or later, is swallowed. */
export async function settledWithin(promise: Promise<unknown>, timeoutMs: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ranOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
  try {
    return await Promise.race([promise.then(() => true, () => true), ranOut]);
  } finally {
    clearTimeout(timer);
  }
}
