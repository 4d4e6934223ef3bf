// Wires a worker's overload guard into its context (called once from src/server/worker.ts): the
// pipeline reads ctx.overload, the fan-out asks it which DSPs to call and tells it how they did,
// and every internal-processing duration the histograms record also feeds its sliding p99.
import { OverloadGuard, type OverloadShared } from "./guard.ts";
import type { WorkerContext } from "../pipeline/context.ts";
import type { YieldSignal } from "../audit/consumers/yield-gate.ts";

export function installOverloadGuard(
  ctx: WorkerContext, shared: OverloadShared, audit: { outbox: { readonly pendingBytes: number }; consumersYield: YieldSignal },
): OverloadGuard {
  const guard = new OverloadGuard(ctx.config, shared, ctx.workerIndex, {
    inFlight: () => ctx.drain?.inFlight ?? 0,
    outboxPendingBytes: () => audit.outbox.pendingBytes,
    atCapacity: (busy) => audit.consumersYield.busy(busy),
  }).start();
  ctx.overload = guard;
  ctx.fanout.observer = guard;
  const histograms = ctx.counters.histograms;
  const internal = histograms.internal.bind(histograms);
  histograms.internal = (ms: number) => {
    internal(ms);
    guard.recordInternal(ms);
  };
  return guard;
}
