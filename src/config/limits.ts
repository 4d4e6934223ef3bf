// Every bound tmax enforces, named once. Config may lower some of them, never raise past these.
import { layout } from "../auction/memory.ts";

export const LIMITS = {
  /** Imps per bid request (the WASM scratch holds MAX_IMPS). */
  maxImps: layout.MAX_IMPS,
  /** Bids considered per request across all DSPs (the WASM scratch holds MAX_BIDS). */
  maxBidsPerRequest: layout.MAX_BIDS,
  /** Campaigns (one shared budget slot each). */
  maxCampaigns: layout.MAX_CAMPAIGNS,
  /** Worker threads per process (one scratch area each). */
  maxWorkers: layout.MAX_WORKERS,
  /** DSPs in config. */
  maxDsps: 64,
  /** Keep-alive sockets per DSP per worker. */
  maxConnectionsPerDsp: 1024,
  /** Largest per-DSP deadline that may be configured. */
  maxDspTimeoutMs: 5_000,
  /** Request body size ceiling; server.maxBodyBytes defaults lower. */
  maxBodyBytesCeiling: 4 * 1024 * 1024,
  /** Default request body limit (after gzip decoding as well). */
  defaultMaxBodyBytes: 256 * 1024,
  /** Requests waiting for a free DSP socket, per DSP per worker. */
  maxQueuedPerDsp: 2048,
  /** Largest DSP answer read. */
  maxDspResponseBytes: 1024 * 1024,
  /** Budget steps (settles, transfers, releases) a pod keeps for retry while a store is unreachable. */
  maxPendingBudgetOps: 100_000,
} as const;
