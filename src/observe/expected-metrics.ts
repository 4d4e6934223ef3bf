// Metrics the dashboards (/dashboard, infra/grafana/) and alert rules (infra/prometheus/alerts.yml)
// already use but that come from features built in other branches. Until those merge, their panels
// say "no data" and their alerts stay silent; tests/infra.test.ts accepts exactly these as missing
// from /metrics. Delete a line once /metrics exposes it (the test then insists on the real thing).
export const EXPECTED_METRICS: Readonly<Record<string, string>> = {
  tmax_budget_committed_micros_total: "budget books: micros committed (won impressions billed), counter",
  tmax_budget_released_micros_total: "budget books: reservations given back, counter",
  tmax_fraud_blocked_total: "fraud: requests blocked, labels {tier, reason}, counter",
  tmax_fraud_flagged_total: "fraud: requests flagged by the ML tier, labels {tier}, counter",
  tmax_fraud_score_sum: "fraud: sum of model scores (histogram tmax_fraud_score), for drift",
  tmax_fraud_score_count: "fraud: scored requests (histogram tmax_fraud_score)",
  tmax_shed_total: "overload: requests shed, labels {reason}, counter",
};
