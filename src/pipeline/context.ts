// Everything one worker needs to run auctions, built once at worker start (see src/server/worker.ts).
import type { TmaxConfig, CampaignSettings } from "../config/load.ts";
import type { AuctionKernel } from "../auction/kernel.ts";
import type { AuctionScratch } from "../auction/scratch.ts";
import type { DspFanout } from "../dsp/fanout.ts";
import type { WorkerCounters } from "../metrics/counters.ts";
import type { WorkerAudit } from "../audit/worker-audit.ts";
import type { CapIncrementSink } from "../freqcap/request.ts";
import type { LocalCaps } from "../freqcap/local.ts";
import type { RemoteCapStore } from "../freqcap/remote.ts";
import type { OverloadGuard } from "../overload/guard.ts";
import type { NoticeDeps } from "../budget/notice/handler.ts";
import type { PacingReader } from "../budget/pacing-shared.ts";
import type { FraudStage } from "../fraud/stage.ts";

export interface WorkerContext {
  config: TmaxConfig;
  workerIndex: number;
  kernel: AuctionKernel;
  scratch: AuctionScratch;
  fanout: DspFanout;
  counters: WorkerCounters;
  audit: Pick<WorkerAudit, "record" | "healthy">;
  campaignSlotById: Map<string, number>;
  campaignBySlot: CampaignSettings[];
  /** The machine-local frequency-cap table (seeding from a remote store, finding local misses). */
  localCaps: LocalCaps;
  /** Receives each auction's frequency-cap increments (a remote store's write-behind); none embedded. */
  capSink?: CapIncrementSink;
  /** Distributed caps: where other pods' counts are read before each auction; none embedded. */
  remoteCaps?: RemoteCapStore;
  /** The fraud stage (tier 1 rules, tier 2 model); none when fraud.enabled is false. */
  fraud?: FraudStage;
  /** Graceful shutdown: auctions in flight in this worker, and whether it is draining (see src/server/worker.ts). */
  drain?: DrainState;
  /** Overload guard: pressure, value-based shedding, adaptive DSP deadline, rate limits (src/overload). */
  overload?: OverloadGuard;
  /** Two-phase spend: signed billing/loss notice URLs in answers, and their endpoints (src/budget/notice/). */
  notices?: NoticeDeps;
  /** Even pacing: each campaign's participation probability, set by the control plane (src/budget/pacing/run.ts). */
  pacing?: PacingReader;
}

export interface DrainState {
  /** Auctions between arrival and their answer (DSP calls, decision, audit record included). */
  inFlight: number;
  /** Set on stop: the listener is closed, answers carry `Connection: close`. */
  stopping: boolean;
}

/** What the HTTP layer sends back: a status, an optional JSON body, optional headers. */
export interface Answer {
  status: number;
  body: string | null;
  headers?: Record<string, string>;
}
