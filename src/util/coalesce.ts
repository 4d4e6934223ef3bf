// Rate-limits a notification without losing the last one: the first call after a quiet spell sends at
// once, calls within `everyMs` of a send fold into one trailing send at the end of that interval. The
// sender reads the latest state when it runs, so nothing the folded calls announced is missed.

export interface Coalesced {
  /** Sends now, or once the current interval ends (at most one pending send). */
  notify(): void;
  /** Sends a pending one now (before a stop message that must follow it). */
  flush(): void;
  /** Drops a pending one. */
  cancel(): void;
}

export function coalesced(send: () => void, everyMs: number): Coalesced {
  let lastAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const fire = () => {
    timer = null;
    lastAt = performance.now();
    send();
  };
  return {
    notify() {
      if (timer !== null) return;
      const waitMs = lastAt + everyMs - performance.now();
      if (waitMs <= 0) return fire();
      timer = setTimeout(fire, waitMs);
    },
    flush() {
      if (timer === null) return;
      clearTimeout(timer);
      fire();
    },
    cancel() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
