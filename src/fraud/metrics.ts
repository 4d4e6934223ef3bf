// Fraud counters: one row per worker in the shared fraud state (each worker writes only its own
// row, readers sum), and their Prometheus families:
//   tmax_fraud_blocks_total{tier, reason}   requests blocked (answered 204 with the reason's nbr)
//   tmax_fraud_flagged_total                requests flagged by the model (sent to fewer DSPs)
//   tmax_fraud_screened_total{result}       every screened request: allowed / flagged / blocked
//   tmax_fraud_scored_total                 requests the model scored
//   tmax_fraud_score_sum_total              the sum of their scores (mean = rate(sum) / rate(scored): drift)
//   tmax_fraud_async_actions_total{action}  tier 3 actions (block_subnet, block_device, suspect_subnet, no_render_block, no_render_suspect)
import { Counter, type Registry } from "prom-client";
import { ACTION_NAMES, BLOCK, FLAG, FRAUD_REASONS, REASON_INDEX, type Verdict } from "./verdict.ts";
import { TIER3_ACTION_KINDS, type FraudState } from "./shared/state.ts";

const ALLOWED = FRAUD_REASONS.length;
const FLAGGED = ALLOWED + 1;
const SCORED = ALLOWED + 2;
const SCORE_SUM = ALLOWED + 3;
export const FRAUD_COUNTER_ROW = SCORE_SUM + 1;

export function countVerdict(state: FraudState, workerIndex: number, v: Verdict): void {
  const row = workerIndex * FRAUD_COUNTER_ROW;
  const c = state.counters;
  if (v.action === BLOCK) c[row + REASON_INDEX[v.reason!]]! += 1;
  else if (v.action === FLAG) c[row + FLAGGED]! += 1;
  else c[row + ALLOWED]! += 1;
  if (v.score === v.score) { // not NaN: the model scored it
    c[row + SCORED]! += 1;
    c[row + SCORE_SUM]! += v.score;
  }
}

export class FraudCounterReader {
  constructor(private readonly state: FraudState) {}

  private sum(cell: number): number {
    let total = 0;
    for (let w = 0; w < this.state.workerCount; w++) total += this.state.counters[w * FRAUD_COUNTER_ROW + cell]!;
    return total;
  }
  blocks(reason: keyof typeof REASON_INDEX): number { return this.sum(REASON_INDEX[reason]); }
  allowed(): number { return this.sum(ALLOWED); }
  flagged(): number { return this.sum(FLAGGED); }
  scored(): number { return this.sum(SCORED); }
  scoreSum(): number { return this.sum(SCORE_SUM); }
  tier3Actions(kind: (typeof TIER3_ACTION_KINDS)[number]): number { return this.state.tier3Actions(kind); }
  blocked(): number { return FRAUD_REASONS.reduce((n, r) => n + this.blocks(r.id), 0); }
}

export function registerFraudMetrics(registry: Registry, reader: FraudCounterReader): void {
  const family = (name: string, help: string, labelNames: string[], samples: () => Array<[Record<string, string>, number]>) =>
    new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.inc(l, v); } });
  family("tmax_fraud_blocks_total", "Requests blocked as invalid traffic, by tier and reason (answered 204 with the reason's nbr).", ["tier", "reason"],
    () => FRAUD_REASONS.map((r) => [{ tier: String(r.tier), reason: r.id }, reader.blocks(r.id)]));
  family("tmax_fraud_flagged_total", "Requests flagged by the tier 2 model (sent to fewer DSPs, ext.tmax.ivt set).", [], () => [[{}, reader.flagged()]]);
  family("tmax_fraud_screened_total", "Requests screened for invalid traffic, by result.", ["result"],
    () => [[{ result: ACTION_NAMES[0] }, reader.allowed()], [{ result: ACTION_NAMES[1] }, reader.flagged()], [{ result: ACTION_NAMES[2] }, reader.blocked()]]);
  family("tmax_fraud_scored_total", "Requests scored by the tier 2 model.", [], () => [[{}, reader.scored()]]);
  family("tmax_fraud_score_sum_total", "Sum of the tier 2 model's scores (mean score = rate of this / rate of tmax_fraud_scored_total: model drift).", [],
    () => [[{}, reader.scoreSum()]]);
  family("tmax_fraud_async_actions_total", "Tier 3 actions: subnets and devices blocked, subnets marked suspect; no_render_*: subnets whose wins are almost never billed (rendered).", ["action"],
    () => TIER3_ACTION_KINDS.map((k) => [{ action: k }, reader.tier3Actions(k)]));
}
