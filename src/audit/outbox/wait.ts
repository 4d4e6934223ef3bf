// Waiting on new commits: a resolvable promise, and a wait that an AbortSignal ends early. Shared by
// the outbox and its read-only view in the consumer thread (src/audit/consumers/remote-outbox.ts).
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

/** Resolves when `promise` does or when `signal` aborts, whichever comes first. */
export function raceAbort(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return promise;
  return new Promise<void>((resolve) => {
    const onAbort = () => resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    void promise.then(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}
