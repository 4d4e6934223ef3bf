// Metrics beyond the counters (exposition.ts): the four SLOs per window, business gauges the
// dashboards need (budget per campaign, spend per advertiser, campaigns over budget) and the
// process's CPU and memory (process-wide: any worker reads the same figures).
import { Counter, Gauge, type Registry } from "prom-client";
import type { SharedBudget } from "../budget/shared-budget.ts";
import type { TmaxConfig } from "../config/load.ts";
import { overBudget } from "../slo/sample.ts";
import type { SloTracker } from "../slo/tracker.ts";
import packageJson from "../../package.json" with { type: "json" };

type Labels = Record<string, string>;

/** package.json's version, inlined at build time. */
const TMAX_VERSION: string = packageJson.version;
type Sample = [labels: Labels, value: number];

export function registerObservability(registry: Registry, config: TmaxConfig, budget: SharedBudget, tracker: SloTracker): void {
  const gauge = (name: string, help: string, labelNames: string[], samples: () => Sample[]) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.set(l, v); } });
  const sloSeries = (pick: "ratio" | "errorBudgetRemaining" | "burnRate") => () => {
    const out: Sample[] = [];
    for (const slo of tracker.snapshot().slos) {
      for (const [window, w] of Object.entries(slo.windows)) {
        const v = w[pick];
        if (v !== null) out.push([{ slo: slo.name, window }, v]); // no data: no series
      }
    }
    return out;
  };
  gauge("tmax_slo_target_ratio", "Each SLO's target share of good events.", ["slo"],
    () => tracker.snapshot().slos.map((s) => [{ slo: s.name }, s.target]));
  gauge("tmax_slo_sli_ratio", "Each SLO's indicator over a sliding window (good / total).", ["slo", "window"], sloSeries("ratio"));
  gauge("tmax_slo_error_budget_remaining_ratio", "Share of the window's error budget left (1 - burn rate; negative once overspent).", ["slo", "window"], sloSeries("errorBudgetRemaining"));
  gauge("tmax_slo_burn_rate", "How fast the window spends its error budget (1 = as fast as the target allows).", ["slo", "window"], sloSeries("burnRate"));
  gauge("tmax_budget_worst_overspend_micros", "The largest spend above its daily budget of any campaign, micros (0 when none).", [],
    () => [[{}, tracker.snapshot().worstOverspendMicros]]);

  gauge("tmax_campaign_budget_micros", "Each campaign's daily budget, micros.", ["campaign", "advertiser"],
    () => config.campaigns.map((c) => [{ campaign: c.id, advertiser: c.advertiserId }, c.dailyBudgetMicros]));
  gauge("tmax_campaigns_over_budget", "Campaigns whose spend exceeds their budget by more than 0.1%.", [],
    () => [[{}, config.campaigns.filter((c) => overBudget(budget.books(c.slot).reservedMicros, c.dailyBudgetMicros)).length]]);
  gauge("tmax_advertiser_spend_micros", "Spend (reserved by wins) per advertiser today, micros.", ["advertiser"], () => {
    const byAdvertiser = new Map<string, number>();
    for (const c of config.campaigns) byAdvertiser.set(c.advertiserId, (byAdvertiser.get(c.advertiserId) ?? 0) + budget.books(c.slot).reservedMicros);
    return [...byAdvertiser].map(([advertiser, micros]) => [{ advertiser }, micros]);
  });

  gauge("tmax_info", "Always 1; labels say where this tmax runs (join on instance to split any metric by region).", ["region", "pod", "version"],
    () => [[{ region: config.server.region, pod: config.server.pod, version: TMAX_VERSION }, 1]]);
  new Counter({
    name: "process_cpu_seconds_total", help: "User and system CPU time of the tmax process (all threads), seconds.", registers: [registry],
    collect() { const u = process.cpuUsage(); this.reset(); this.inc((u.user + u.system) / 1e6); },
  });
  gauge("process_resident_memory_bytes", "Resident memory of the tmax process, bytes.", [], () => [[{}, process.memoryUsage.rss()]]);
  gauge("tmax_process_heap_used_bytes", "JavaScript heap in use by the answering worker, bytes.", [], () => [[{}, process.memoryUsage().heapUsed]]);
  gauge("tmax_process_uptime_seconds", "Seconds since the tmax process started.", [], () => [[{}, process.uptime()]]);
}
