// /metrics in Prometheus text format through prom-client; values come from the shared counters
// (summed over workers) and the shared budget slots at scrape time, so any worker can answer.
import { Counter, Gauge, Registry } from "prom-client";
import { BID_BLOCKS, BID_REJECTIONS, DSP_OUTCOMES, REQUEST_OUTCOMES, type CounterReader } from "./counters.ts";
import { NO_BID_REASONS } from "../openrtb/nbr.ts";
import { registerHistograms } from "./histograms.ts";
import type { SharedBudget } from "../budget/shared-budget.ts";
import { BOARD_COMMITTED, BOARD_LEASES, BOARD_RELEASED, type BudgetBoard } from "../budget/board.ts";
import type { TmaxConfig } from "../config/load.ts";

type Sample = [labels: Record<string, string>, value: number];

export function buildRegistry(config: TmaxConfig, counters: CounterReader, budget: SharedBudget, board?: BudgetBoard): Registry {
  const registry = new Registry();
  const counter = (name: string, help: string, labelNames: string[], samples: () => Sample[]) =>
    new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.inc(l, v); } });
  const gauge = (name: string, help: string, labelNames: string[], samples: () => Sample[]) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.set(l, v); } });
  const dsps = config.dsps.map((d, i) => [d.id, i] as const);

  counter("tmax_requests_total", "Bid requests answered, by outcome.", ["outcome"],
    () => REQUEST_OUTCOMES.map((o) => [{ outcome: o }, counters.requests(o)]));
  counter("tmax_no_bids_total", "No-bid answers by tmax's reason.", ["reason"],
    () => NO_BID_REASONS.map((r) => [{ reason: r }, counters.noBids(r)]));
  counter("tmax_bids_blocked_total", "DSP bids blocked by brand safety (badv, bcat).", ["reason"],
    () => BID_BLOCKS.map((r) => [{ reason: r }, counters.bidsBlocked(r)]));
  counter("tmax_dsp_requests_total", "DSP calls by outcome.", ["dsp", "outcome"],
    () => dsps.flatMap(([id, i]) => DSP_OUTCOMES.map((o): Sample => [{ dsp: id, outcome: o }, counters.dsp(i, o)])));
  counter("tmax_dsp_bids_rejected_total", "DSP bids rejected when checking the answer, by reason.", ["dsp", "reason"],
    () => dsps.flatMap(([id, i]) => BID_REJECTIONS.map((r): Sample => [{ dsp: id, reason: r }, counters.bidsRejected(i, r)])));
  gauge("tmax_dsp_breaker_state", "Circuit breaker per DSP: 0 closed, 1 open (in any worker), 2 half-open.", ["dsp"],
    () => dsps.map(([id, i]) => [{ dsp: id }, counters.breakerState(i)]));
  counter("tmax_auction_wins_total", "Imps won and answered with a bid.", [], () => [[{}, counters.wins()]]);
  counter("tmax_budget_reserved_micros_total", "Micros reserved against campaign budgets by wins.", [], () => [[{}, counters.reservedMicros()]]);
  counter("tmax_budget_refusals_total", "Winning bids skipped because their campaign could not afford them.", [], () => [[{}, counters.budgetSkips()]]);
  counter("tmax_bids_paced_total", "Bids left out of the auction by their campaign's even pacing (participation probability below 1).", [], () => [[{}, counters.bidsPaced()]]);
  counter("tmax_bids_capped_total", "Bids not eligible because their campaign's frequency cap was reached for the user.", [], () => [[{}, counters.bidsCapped()]]);
  counter("tmax_freqcap_table_full_total", "Capped bids refused because the frequency-cap table had no room for the user (stricter, never looser).", [], () => [[{}, counters.capNoRoom()]]);
  gauge("tmax_campaign_budget_remaining_micros", "Spendable budget left per campaign.", ["campaign"],
    () => config.campaigns.map((c) => [{ campaign: c.id }, budget.books(c.slot).remainingMicros]));
  gauge("tmax_campaign_budget_reserved_micros", "Reserved (counted as spent) per campaign.", ["campaign"],
    () => config.campaigns.map((c) => [{ campaign: c.id }, budget.books(c.slot).reservedMicros]));
  if (board !== undefined) {
    gauge("tmax_campaign_budget_committed_micros", "Committed by billing notices per campaign, this pod, campaign day.", ["campaign"],
      () => config.campaigns.map((c) => [{ campaign: c.id }, board.get(c.slot, BOARD_COMMITTED)]));
    gauge("tmax_campaign_budget_released_micros", "Released by loss notices per campaign, this pod, campaign day.", ["campaign"],
      () => config.campaigns.map((c) => [{ campaign: c.id }, board.get(c.slot, BOARD_RELEASED)]));
    gauge("tmax_campaign_budget_leases", "Budget leases this pod holds per campaign.", ["campaign"],
      () => config.campaigns.map((c) => [{ campaign: c.id }, board.get(c.slot, BOARD_LEASES)]));
  }
  gauge("tmax_workers_ready", "Workers serving.", [], () => [[{}, counters.workersReady()]]);
  gauge("tmax_audit_outbox_pending_bytes", "Audit bytes waiting for their group commit, all workers.", [], () => [[{}, counters.outboxPendingBytes()]]);
  gauge("tmax_audit_outboxes_unhealthy", "Workers whose outbox sheds requests (disk failed, slow or overloaded).", [], () => [[{}, counters.outboxesUnhealthy()]]);
  counter("tmax_audit_commits_total", "Audit group commits (one durable write each), by where the write ran: the event loop (audit.commitWrites loop) or the thread pool.", ["where"],
    () => [[{ where: "loop" }, counters.auditCommits("loop")], [{ where: "pool" }, counters.auditCommits("pool")]]);
  counter("tmax_audit_slow_loop_writes_total", "In-loop audit writes that blocked the event loop too long (each moved commits to the thread pool for a while): a slow disk.", [],
    () => [[{}, counters.auditSlowLoopWrites()]]);
  gauge("tmax_audit_consumers_yielding", "Archive and ledger consumers pausing now because their worker is at capacity (audit.consumerYieldMaxMs).", [],
    () => [[{}, counters.consumersYielding()]]);
  counter("tmax_audit_consumer_yield_seconds_total", "Time archive and ledger consumers spent pausing for auctions, summed over consumers.", [],
    () => [[{}, counters.consumerYieldSeconds()]]);
  counter("tmax_audit_consumer_forced_catchups_total", "Pauses that reached audit.consumerYieldMaxMs: the consumer caught up while its worker was still at capacity.", [],
    () => [[{}, counters.consumerForcedCatchUps()]]);
  gauge("tmax_audit_consumer_lag_bytes", "Committed audit bytes the archive / the embedded billing ledger have not acknowledged yet, all workers (the archive acks a batch every few seconds).", ["consumer"],
    () => [[{ consumer: "archive" }, counters.consumerLagBytes("archive")], [{ consumer: "ledger" }, counters.consumerLagBytes("ledger")]]);
  gauge("tmax_audit_relay_lag_records", "Committed audit records not yet acknowledged by Kafka, all workers.", [], () => [[{}, counters.relayLagRecords()]]);
  gauge("tmax_audit_relay_lag_bytes", "Committed audit bytes not yet acknowledged by Kafka, all workers.", [], () => [[{}, counters.relayLagBytes()]]);
  gauge("tmax_audit_relays_disconnected", "Workers whose Kafka relay is not connected.", [], () => [[{}, counters.relaysDisconnected()]]);
  registerHistograms(registry, counters.histograms, config.dsps.map((d) => d.id));
  return registry;
}
