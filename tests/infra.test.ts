// infra/ stays true to tmax: every alert has a runbook that names it and says what it means, what to
// check and what to do; every metric the alert rules, the Grafana dashboards and the built-in
// /dashboard use is exposed by a real tmax's /metrics (with Redis configured, so its gauges show),
// or is listed in src/observe/expected-metrics.ts as coming from a feature not merged yet; and the
// Grafana JSON is what scripts/infra/grafana.ts generates.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BOARDS, dashboardJson, GRAFANA_DIR } from "../scripts/infra/grafana.ts";
import { EXPECTED_METRICS } from "../src/observe/expected-metrics.ts";
import { ROOT, startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { useRedis } from "./support/redis.ts";
import { parser as promql } from "@prometheus-io/lezer-promql";

interface Rule { alert?: string; record?: string; expr: string; annotations?: Record<string, string>; labels?: Record<string, string> }
const rules: Rule[] = (Bun.YAML.parse(readFileSync(join(ROOT, "infra/prometheus/alerts.yml"), "utf8")) as { groups: Array<{ rules: Rule[] }> }).groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert !== undefined);
const RUNBOOKS = join(ROOT, "infra/runbooks");

const redis = useRedis();
let dsp: Proc, tmax: Proc & { auditDir: string };
beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "1", "--bid-rate", "1", "--fixed-price", "1", "--campaigns", "c1"]);
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }],
    frequencyCapStore: { redisUrl: redis().url },
  }, 1);
});
afterAll(async () => { await Promise.all([tmax?.kill(), dsp?.kill()]); });

/** Sample names /metrics can show: every `# TYPE` name, and a histogram's _bucket, _sum and _count. */
async function exposedNames(): Promise<Set<string>> {
  const text = await (await fetch(`${tmax.url}/metrics`)).text();
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === "histogram") for (const s of ["_bucket", "_sum", "_count"]) names.add(name + s);
  }
  return names;
}
const metricNames = (text: string) => [...new Set(text.match(/\b(?:tmax|process)_[a-z0-9_]+/g) ?? [])];

test("every alert has a severity, a summary and a runbook that names it and says what to do", () => {
  expect(alerts.length).toBeGreaterThanOrEqual(14);
  const used = new Set<string>();
  for (const a of alerts) {
    expect({ alert: a.alert, severity: typeof a.labels?.severity, summary: typeof a.annotations?.summary }).toEqual({ alert: a.alert, severity: "string", summary: "string" });
    const url = a.annotations?.runbook_url ?? "";
    expect({ alert: a.alert, url }).toEqual({ alert: a.alert, url: expect.stringMatching(/^infra\/runbooks\/[a-z0-9-]+\.md$/) });
    const file = join(ROOT, url);
    expect({ alert: a.alert, exists: existsSync(file) }).toEqual({ alert: a.alert, exists: true });
    const text = readFileSync(file, "utf8");
    expect(text).toContain(a.alert!);
    for (const section of ["## What it means", "## What to check", "## What to do"]) expect(text).toContain(section);
    used.add(url.split("/").pop()!);
  }
  // No orphan runbook.
  expect(readdirSync(RUNBOOKS).filter((f) => f.endsWith(".md")).sort()).toEqual([...used].sort());
});

test("each SLO has a multi-window burn-rate alert; the named ones exist", () => {
  const names = new Set(alerts.map((a) => a.alert));
  for (const slo of ["Latency", "Availability", "BidRate"]) {
    for (const speed of ["Fast", "Slow"]) {
      const a = alerts.find((x) => x.alert === `Tmax${slo}BudgetBurn${speed}`)!;
      expect(a).toBeDefined();
      expect(a.expr.match(/:rate\d+[mh]/g)!.length).toBe(2); // a long and a short window
    }
  }
  for (const name of ["TmaxBudgetAccuracyBreach", "TmaxBreakerStorm", "TmaxFlashCrash", "TmaxAuditRelayLag"]) expect(names.has(name)).toBe(true);
});

/** Syntax errors in a PromQL expression, per Prometheus's own lezer grammar. */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  promql.parse(expr).iterate({ enter: (n) => { if (n.type.isError) errors.push(`at ${n.from}: ...${expr.slice(Math.max(0, n.from - 20), n.to + 20)}...`); } });
  return errors;
}

test("every rule and Grafana query is valid PromQL", () => {
  expect(promqlErrors("sum by (job (rate(x[5m]))").length).toBeGreaterThan(0); // the check can fail
  for (const r of rules) expect({ rule: r.alert ?? r.record, errors: promqlErrors(r.expr) }).toEqual({ rule: r.alert ?? r.record, errors: [] });
  for (const b of BOARDS) {
    for (const p of b.panels) {
      for (const [expr] of p.targets) {
        const concrete = expr.replaceAll("$__rate_interval", "5m"); // Grafana's variable; $job sits inside a string
        expect({ panel: `${b.file}: ${p.title}`, errors: promqlErrors(concrete) }).toEqual({ panel: `${b.file}: ${p.title}`, errors: [] });
      }
    }
  }
});

test("recording rules used by alerts and Grafana are defined", () => {
  const records = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
  const grafana = BOARDS.flatMap((b) => b.panels.flatMap((p) => p.targets.map(([e]) => e))).join("\n");
  const used = [...new Set((alerts.map((a) => a.expr).join("\n") + grafana).match(/tmax:[a-z0-9_:]+/g) ?? [])];
  expect(used.length).toBeGreaterThan(3);
  for (const r of used) expect({ r, defined: records.has(r) }).toEqual({ r, defined: true });
});

test("the Grafana JSON files are what scripts/infra/grafana.ts generates", () => {
  expect(readdirSync(GRAFANA_DIR).filter((f) => f.endsWith(".json")).sort()).toEqual(BOARDS.map((b) => b.file).sort());
  for (const b of BOARDS) {
    expect(JSON.parse(readFileSync(join(GRAFANA_DIR, b.file), "utf8"))).toEqual(JSON.parse(JSON.stringify(dashboardJson(b))));
  }
});

test("every metric used by the rules and dashboards is exposed, or expected from another feature (and then not yet exposed)", async () => {
  const exposed = await exposedNames();
  const sources: Record<string, string> = {
    "infra/prometheus/alerts.yml": rules.map((r) => r.expr).join("\n"),
    "infra/grafana/*.json": readdirSync(GRAFANA_DIR).map((f) => readFileSync(join(GRAFANA_DIR, f), "utf8")).join("\n"),
    "src/observe/dashboard/app.js": readFileSync(join(ROOT, "src/observe/dashboard/app.js"), "utf8"),
  };
  for (const [source, text] of Object.entries(sources)) {
    const names = metricNames(text);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) {
      const known = exposed.has(name) || name in EXPECTED_METRICS;
      expect({ source, name, known }).toEqual({ source, name, known: true });
    }
  }
  for (const name of Object.keys(EXPECTED_METRICS)) {
    // Exposed now: remove it from src/observe/expected-metrics.ts so this test checks it for real.
    expect({ name, exposedAlready: exposed.has(name) }).toEqual({ name, exposedAlready: false });
  }
  for (const name of ["tmax_redis_connected", "tmax_slo_sli_ratio", "process_cpu_seconds_total", "tmax_campaign_budget_micros"]) expect(exposed.has(name)).toBe(true);
});
