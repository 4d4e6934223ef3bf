// Generates infra/grafana/*.json: the spec's four dashboards (bidding health, business, fraud,
// infrastructure) over tmax's Prometheus metrics, the same views as the built-in /dashboard.
// Usage: bun scripts/infra/grafana.ts   (rewrites the files; tests/infra.test.ts checks they match)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

type PanelType = "timeseries" | "stat" | "table" | "bargauge";
interface Panel { title: string; type?: PanelType; unit?: string; w?: number; h?: number; targets: Array<[expr: string, legend?: string]>; description?: string; thresholds?: number[] }
interface Board { file: string; uid: string; title: string; panels: Panel[] }

/** `$J` in an expression: the job filter of the dashboard's variable. */
const J = 'job=~"$job"';
const rate = (selector: string) => `rate(${selector}[$__rate_interval])`;
const sel = (metric: string, labels = "") => `${metric}{${labels ? `${labels},` : ""}${J}}`;
const sloStat = (slo: string, title: string): Panel => ({
  title, type: "stat", unit: "percentunit", w: 6, h: 5,
  targets: [[`min(tmax_slo_sli_ratio{slo="${slo}",window="5m",${J}})`, "5m"], [`max(tmax_slo_burn_rate{slo="${slo}",window="1h",${J}})`, "1h burn"], [`min(tmax_slo_error_budget_remaining_ratio{slo="${slo}",window="1h",${J}})`, "1h budget left"]],
});

export const BOARDS: Board[] = [
  { file: "tmax-bidding-health.json", uid: "tmax-health", title: "tmax: real-time bidding health", panels: [
    sloStat("latency", "Latency SLO (99.9% < 100 ms)"), sloStat("availability", "Availability SLO (99.99%)"),
    sloStat("budget_accuracy", "Budget accuracy SLO (99.9%)"), sloStat("bid_rate", "Bid rate SLO (> 80%)"),
    { title: "Requests per second by outcome", unit: "reqps", targets: [[`sum by (outcome) (${rate(sel("tmax_requests_total"))})`, "{{outcome}}"]] },
    { title: "Requests per second by region", unit: "reqps", description: "server.region of each pod, joined from tmax_info.",
      targets: [[`sum by (region) (sum by (instance) (${rate(sel("tmax_requests_total"))}) * on (instance) group_left (region) max by (instance, region) (${sel("tmax_info")}))`, "{{region}}"]] },
    { title: "Bid rate (SLO > 80%)", unit: "percentunit", targets: [[`1 - tmax:slo_bid_rate_error_ratio:rate5m{${J}}`, "bid rate {{job}}"]] },
    { title: "Latency p50 / p99 (SLO < 100 ms)", unit: "s", targets: [
      [`histogram_quantile(0.5, sum by (le) (${rate(sel("tmax_request_duration_seconds_bucket"))}))`, "p50"],
      [`histogram_quantile(0.99, sum by (le) (${rate(sel("tmax_request_duration_seconds_bucket"))}))`, "p99"],
      [`histogram_quantile(0.99, sum by (le) (${rate(sel("tmax_auction_internal_seconds_bucket"))}))`, "internal p99"],
      [`histogram_quantile(0.99, sum by (le) (${rate(sel("tmax_audit_commit_wait_seconds_bucket"))}))`, "audit commit wait p99"]] },
    { title: "Error rate (SLO < 0.01%)", unit: "percentunit", targets: [[`tmax:slo_availability_error_ratio:rate5m{${J}}`, "errors {{job}}"]] },
    { title: "No-bid reasons", unit: "reqps", targets: [[`sum by (reason) (${rate(sel("tmax_no_bids_total"))})`, "{{reason}}"]] },
    { title: "DSP response time p99 per DSP", unit: "s", targets: [[`histogram_quantile(0.99, sum by (dsp, le) (${rate(sel("tmax_dsp_request_duration_seconds_bucket"))}))`, "{{dsp}}"]] },
    { title: "DSP calls by outcome", unit: "reqps", targets: [[`sum by (dsp, outcome) (${rate(sel("tmax_dsp_requests_total", 'outcome!="bid"'))})`, "{{dsp}} {{outcome}}"]] },
    { title: "Circuit breakers (0 closed, 1 open, 2 half-open)", type: "table", targets: [[`max by (dsp) (${sel("tmax_dsp_breaker_state")})`, "{{dsp}}"]] },
    { title: "Fan-out size (DSPs per auction, p50)", unit: "short", targets: [[`histogram_quantile(0.5, sum by (le) (${rate(sel("tmax_fanout_size_bucket"))}))`, "p50"]] },
  ] },
  { file: "tmax-business.json", uid: "tmax-business", title: "tmax: business", panels: [
    { title: "Revenue per second (USD)", unit: "currencyUSD", targets: [[`sum(${rate(sel("tmax_budget_reserved_micros_total"))}) / 1e6`, "reserved"], [`sum(deriv(${sel("tmax_campaign_budget_committed_micros")}[5m])) / 1e6`, "committed (billing notices)"]] },
    { title: "Spend rate vs even daily pacing (USD/s)", unit: "currencyUSD", targets: [[`sum(${rate(sel("tmax_budget_reserved_micros_total"))}) / 1e6`, "spend"], [`sum(${sel("tmax_campaign_budget_micros")}) / 1e6 / 86400`, "daily budget / 86400"]] },
    { title: "Spend vs budget per campaign", type: "bargauge", unit: "percentunit", targets: [[`max by (campaign) (${sel("tmax_campaign_budget_reserved_micros")}) / on (campaign) max by (campaign) (${sel("tmax_campaign_budget_micros")})`, "{{campaign}}"]] },
    { title: "Win rate (imps won / DSP answers with bids)", unit: "percentunit", targets: [[`sum(${rate(sel("tmax_auction_wins_total"))}) / sum(${rate(sel("tmax_dsp_requests_total", 'outcome="bid"'))})`, "win rate"]] },
    { title: "Average win price (CPM, USD)", unit: "currencyUSD", targets: [[`sum(${rate(sel("tmax_budget_reserved_micros_total"))}) / sum(${rate(sel("tmax_auction_wins_total"))}) * 1000 / 1e6`, "avg CPM"]] },
    { title: "Top advertisers by spend today (USD)", type: "bargauge", unit: "currencyUSD", targets: [[`topk(10, sum by (advertiser) (${sel("tmax_advertiser_spend_micros")}) / 1e6)`, "{{advertiser}}"]] },
    { title: "Budget refusals and campaigns over budget", unit: "short", targets: [[`sum(${rate(sel("tmax_budget_refusals_total"))})`, "refusals/s"], [`max(${sel("tmax_campaigns_over_budget")})`, "campaigns over budget"]] },
  ] },
  { file: "tmax-fraud.json", uid: "tmax-fraud", title: "tmax: fraud overview", panels: [
    { title: "Block rate by tier (Tier 1 rules)", unit: "percentunit", targets: [[`sum by (tier) (${rate(sel("tmax_fraud_blocks_total"))}) / ignoring (tier) group_left sum(${rate(sel("tmax_requests_total"))})`, "{{tier}}"]] },
    { title: "Flag rate (Tier 2 ML)", unit: "percentunit", targets: [[`sum(${rate(sel("tmax_fraud_flagged_total"))}) / sum(${rate(sel("tmax_requests_total"))})`, "flagged"]] },
    { title: "Top block reasons", type: "table", targets: [[`topk(10, sum by (reason) (increase(${sel("tmax_fraud_blocks_total")}[1h])))`, "{{reason}}"]] },
    { title: "Model drift: mean fraud score", unit: "short", targets: [[`sum(${rate(sel("tmax_fraud_score_sum_total"))}) / sum(${rate(sel("tmax_fraud_scored_total"))})`, "mean score"]] },
    { title: "False positive estimate: flagged requests that still won", unit: "percentunit", description: "Until labelled outcomes exist: the share of flagged traffic among wins; compare with the block rate.",
      targets: [[`sum(${rate(sel("tmax_fraud_flagged_total"))}) / sum(${rate(sel("tmax_auction_wins_total"))})`, "flagged / wins"]] },
    { title: "Brand safety blocks and rejected bids", unit: "short", targets: [[`sum by (reason) (${rate(sel("tmax_bids_blocked_total"))})`, "{{reason}}"], [`sum by (reason) (${rate(sel("tmax_dsp_bids_rejected_total"))})`, "rejected {{reason}}"]] },
  ] },
  { file: "tmax-infrastructure.json", uid: "tmax-infra", title: "tmax: infrastructure", panels: [
    { title: "CPU (cores used per pod)", unit: "short", targets: [[`${rate(sel("process_cpu_seconds_total"))}`, "{{instance}}"]] },
    { title: "Memory (resident)", unit: "bytes", targets: [[sel("process_resident_memory_bytes"), "{{instance}}"]] },
    { title: "Kafka relay lag (records)", unit: "short", targets: [[`sum by (instance) (${sel("tmax_audit_relay_lag_records")})`, "{{instance}}"]] },
    { title: "Audit outbox pending bytes", unit: "bytes", targets: [[`sum by (instance) (${sel("tmax_audit_outbox_pending_bytes")})`, "{{instance}}"]] },
    { title: "Audit group commits: event loop vs thread pool", unit: "ops", description: "Where the outbox's durable writes ran (audit.commitWrites). Slow in-loop writes (a slow disk) move commits to the pool for a while.",
      targets: [[`sum by (where) (${rate(sel("tmax_audit_commits_total"))})`, "{{where}}"], [`sum(${rate(sel("tmax_audit_slow_loop_writes_total"))})`, "slow in-loop writes"]] },
    { title: "Audit consumer lag (archive, billing ledger)", unit: "bytes", description: "Committed outbox bytes not yet acknowledged. The archive acks a batch every few seconds; both grow while they pause for auctions (audit.consumerYieldMaxMs).",
      targets: [[`sum by (consumer) (${sel("tmax_audit_consumer_lag_bytes")})`, "{{consumer}}"]] },
    { title: "Audit consumers pausing for auctions", unit: "short", description: "Archive and ledger consumers pausing while their worker is at capacity, and pauses cut short by audit.consumerYieldMaxMs (a long overload: they catch up while it lasts).",
      targets: [[`sum(${sel("tmax_audit_consumers_yielding")})`, "pausing now"], [`sum(${rate(sel("tmax_audit_consumer_forced_catchups_total"))})`, "cut short / s"]] },
    { title: "Kafka relays disconnected / outboxes unhealthy", type: "stat", unit: "short", targets: [[`sum(${sel("tmax_audit_relays_disconnected")})`, "relays disconnected"], [`sum(${sel("tmax_audit_outboxes_unhealthy")})`, "outboxes unhealthy"]] },
    { title: "Redis (frequency caps)", type: "stat", unit: "short", targets: [[`min(${sel("tmax_redis_connected")})`, "connected"], [`sum(${sel("tmax_freqcap_redis_pending_keys")})`, "pending keys"], [`sum(${sel("tmax_freqcap_redis_failures")})`, "failures"]] },
    { title: "Workers ready", type: "stat", unit: "short", targets: [[`sum by (instance) (${sel("tmax_workers_ready")})`, "{{instance}}"]] },
    { title: "Shed requests", unit: "reqps", targets: [[`sum(${rate(sel("tmax_overload_shed_total"))})`, "overload"], [`sum(${rate(sel("tmax_rate_limited_total"))})`, "rate limited"]] },
    { title: "Regional traffic distribution", type: "bargauge", unit: "percentunit", targets: [[`sum by (region) (sum by (instance) (${rate(sel("tmax_requests_total"))}) * on (instance) group_left (region) max by (instance, region) (${sel("tmax_info")})) / ignoring (region) group_left sum(${rate(sel("tmax_requests_total"))})`, "{{region}}"]] },
  ] },
];

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

function panelJson(p: Panel, id: number, x: number, y: number) {
  return {
    id, type: p.type ?? "timeseries", title: p.title, ...(p.description ? { description: p.description } : {}),
    gridPos: { x, y, w: p.w ?? 8, h: p.h ?? 8 }, datasource: DATASOURCE,
    fieldConfig: { defaults: { unit: p.unit ?? "short" }, overrides: [] },
    options: p.type === "table" ? { showHeader: true } : { legend: { displayMode: "list", placement: "bottom" } },
    targets: p.targets.map(([expr, legend], i) => ({ refId: String.fromCharCode(65 + i), datasource: DATASOURCE, expr, ...(legend ? { legendFormat: legend } : {}) })),
  };
}

export function dashboardJson(board: Board) {
  let x = 0, y = 0, rowHeight = 0;
  const panels = board.panels.map((p, i) => {
    const w = p.w ?? 8;
    if (x + w > 24) { x = 0; y += rowHeight; rowHeight = 0; }
    const json = panelJson(p, i + 1, x, y);
    x += w;
    rowHeight = Math.max(rowHeight, p.h ?? 8);
    return json;
  });
  return {
    uid: board.uid, title: board.title, tags: ["tmax"], timezone: "browser", schemaVersion: 39, version: 1, editable: true,
    refresh: "10s", time: { from: "now-1h", to: "now" },
    templating: { list: [
      { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus" },
      { name: "job", label: "job", type: "query", datasource: DATASOURCE, query: "label_values(tmax_requests_total, job)", refresh: 2, multi: true, includeAll: true, current: { text: "All", value: "$__all" } },
    ] },
    panels,
  };
}

export const GRAFANA_DIR = join(import.meta.dir, "..", "..", "infra", "grafana");

if (import.meta.main) {
  mkdirSync(GRAFANA_DIR, { recursive: true });
  for (const b of BOARDS) writeFileSync(join(GRAFANA_DIR, b.file), JSON.stringify(dashboardJson(b), null, 2) + "\n");
  console.log(`wrote ${BOARDS.length} dashboards to ${GRAFANA_DIR}`);
}
