// The tmax dashboard (browser code, served as-is by GET /dashboard/app.js). Polls /metrics (parsed
// here, like Prometheus would) and /slo every POLL_MS, keeps HISTORY_POINTS per chart and draws them
// with uPlot. Rates are taken over RATE_WINDOW_MS of scrapes. A panel whose metric tmax does not
// expose (yet) says so instead of drawing.
/* global uPlot */
import { byLabel, has, parseProm, quantile, rate, rateBy, ratio, total } from "./prom.js";

const params = new URLSearchParams(location.search);
const POLL_MS = Math.max(250, Number(params.get("intervalMs")) || 1000);
const HISTORY_POINTS = 300;
const RATE_WINDOW_MS = 5000;
const SCRAPES_KEPT = 16;

// ---- scrapes kept for rates ----
const scrapes = [];
function base(cur) {
  for (let i = scrapes.length - 2; i >= 0; i--) if (cur.t - scrapes[i].t >= RATE_WINDOW_MS) return scrapes[i];
  return scrapes.length > 1 ? scrapes[0] : null;
}
// ---- panels ----
const ms = (v) => (v === null ? null : v * 1000);
const pct = (v) => (v === null ? null : v * 100);
const usd = (micros) => (micros === null ? null : micros / 1e6);
const REASONS_NOBID = "tmax_no_bids_total";

/** section, title, unit, the metric it needs, series(cur, prev) -> {name: value|null}; zeroOk: a healthy value may be 0. */
const CHARTS = [
  { section: "health", id: "rps", title: "Requests per second", unit: "req/s", needs: "tmax_requests_total",
    series: (c, p) => rateBy(c, p, "tmax_requests_total", "outcome") },
  { section: "health", id: "bidrate", title: "Bid rate (SLO > 80%)", unit: "%", needs: "tmax_requests_total",
    series: (c, p) => {
      const bids = rate(c, p, "tmax_requests_total", { outcome: "bid" });
      const eligible = bids === null ? null : bids + rate(c, p, "tmax_requests_total", { outcome: "nobid" }) - rate(c, p, REASONS_NOBID, { reason: "no_budget" });
      return { "bid rate": pct(ratio(bids, eligible)), target: bids === null ? null : 80 };
    } },
  { section: "health", id: "latency", title: "Latency inside tmax (SLO 99.9% < 100 ms)", unit: "ms", needs: "tmax_request_duration_seconds_bucket",
    series: (c, p) => ({ p50: ms(quantile(c, p, "tmax_request_duration_seconds", 0.5)), p99: ms(quantile(c, p, "tmax_request_duration_seconds", 0.99)), "internal p99": ms(quantile(c, p, "tmax_auction_internal_seconds", 0.99)), "audit commit wait p99": ms(quantile(c, p, "tmax_audit_commit_wait_seconds", 0.99)) }) },
  { section: "health", id: "errors", title: "Errors and no-bid reasons", unit: "req/s", needs: REASONS_NOBID, zeroOk: true,
    series: (c, p) => {
      const out = { "5xx errors": rate(c, p, "tmax_requests_total", { outcome: "error" }), invalid: rate(c, p, "tmax_requests_total", { outcome: "invalid" }) };
      const seen = byLabel(c, REASONS_NOBID, "reason"); // only reasons that ever happened, so the legend stays short
      for (const [reason, v] of Object.entries(rateBy(c, p, REASONS_NOBID, "reason") ?? {})) if ((seen.get(reason) ?? 0) > 0) out[reason] = v;
      return out;
    } },
  { section: "health", id: "dsplatency", title: "DSP response time p50, per DSP", unit: "ms", needs: "tmax_dsp_request_duration_seconds_bucket",
    series: (c, p) => Object.fromEntries([...byLabel(c, "tmax_dsp_request_duration_seconds_count", "dsp").keys()].map((d) => [d, ms(quantile(c, p, "tmax_dsp_request_duration_seconds", 0.5, { dsp: d }))])) },
  { section: "business", id: "revenue", title: "Revenue per second", unit: "$/s", needs: "tmax_budget_reserved_micros_total",
    series: (c, p) => ({ revenue: usd(rate(c, p, "tmax_budget_reserved_micros_total")), committed: usd(rate(c, p, "tmax_campaign_budget_committed_micros")) }) },
  { section: "business", id: "spendrate", title: "Spend rate vs even daily pacing", unit: "$/s", needs: "tmax_campaign_budget_micros",
    series: (c, p) => ({ spend: usd(rate(c, p, "tmax_budget_reserved_micros_total")), "budget / 86400 s": usd(total(c, "tmax_campaign_budget_micros") / 86400) }) },
  { section: "business", id: "winrate", title: "Win rate (imps won / DSP answers with bids)", unit: "%", needs: "tmax_auction_wins_total",
    series: (c, p) => ({ "win rate": pct(ratio(rate(c, p, "tmax_auction_wins_total"), rate(c, p, "tmax_dsp_requests_total", { outcome: "bid" }))) }) },
  { section: "business", id: "winprice", title: "Average win price (CPM)", unit: "$ CPM", needs: "tmax_auction_wins_total",
    series: (c, p) => {
      const perImpUsd = ratio(usd(rate(c, p, "tmax_budget_reserved_micros_total")), rate(c, p, "tmax_auction_wins_total"));
      return { "avg CPM": perImpUsd === null ? null : perImpUsd * 1000 };
    } },
  { section: "fraud", id: "fraudblocks", title: "Fraud blocks per second by tier (Tier 1 rules)", unit: "req/s", needs: "tmax_fraud_blocks_total",
    series: (c, p) => rateBy(c, p, "tmax_fraud_blocks_total", "tier") },
  { section: "fraud", id: "fraudflags", title: "Fraud flags per second (Tier 2 ML)", unit: "req/s", needs: "tmax_fraud_flagged_total",
    series: (c, p) => ({ flagged: rate(c, p, "tmax_fraud_flagged_total") }) },
  { section: "fraud", id: "brandsafety", title: "Bids blocked by brand safety and rejected bids", unit: "bids/s", needs: "tmax_bids_blocked_total", zeroOk: true,
    series: (c, p) => ({ ...rateBy(c, p, "tmax_bids_blocked_total", "reason"), "rejected (malformed…)": rate(c, p, "tmax_dsp_bids_rejected_total"), invalid: rate(c, p, "tmax_requests_total", { outcome: "invalid" }) }) },
  { section: "fraud", id: "drift", title: "Model drift: mean fraud score", unit: "score", needs: "tmax_fraud_score_sum_total",
    series: (c, p) => ({ "mean score": ratio(rate(c, p, "tmax_fraud_score_sum_total"), rate(c, p, "tmax_fraud_scored_total")) }) },
  { section: "infra", id: "cpu", title: "CPU (all threads of the process)", unit: "% of one core", needs: "process_cpu_seconds_total",
    series: (c, p) => ({ cpu: pct(rate(c, p, "process_cpu_seconds_total")) }) },
  { section: "infra", id: "memory", title: "Memory", unit: "MB", needs: "process_resident_memory_bytes",
    series: (c) => ({ rss: total(c, "process_resident_memory_bytes") / 1e6, "heap (answering worker)": has(c, "tmax_process_heap_used_bytes") ? total(c, "tmax_process_heap_used_bytes") / 1e6 : null }) },
  { section: "infra", id: "outbox", title: "Audit outbox pending and Kafka relay lag", unit: "KB / records", needs: "tmax_audit_relay_lag_records", zeroOk: true,
    series: (c) => ({ "outbox pending KB": total(c, "tmax_audit_outbox_pending_bytes") / 1000, "relay lag records": total(c, "tmax_audit_relay_lag_records") }) },
  { section: "infra", id: "commits", title: "Audit group commits per second: event loop vs thread pool", unit: "commits/s", needs: "tmax_audit_commits_total", zeroOk: true,
    series: (c, p) => ({ ...rateBy(c, p, "tmax_audit_commits_total", "where"), "slow in-loop writes": rate(c, p, "tmax_audit_slow_loop_writes_total") }) },
  { section: "infra", id: "consumers", title: "Audit consumers: lag and pauses for auctions", unit: "KB / consumers", needs: "tmax_audit_consumer_lag_bytes", zeroOk: true,
    series: (c) => ({
      ...Object.fromEntries([...byLabel(c, "tmax_audit_consumer_lag_bytes", "consumer")].map(([name, bytes]) => [`${name} lag KB`, bytes / 1000])),
      "pausing now": total(c, "tmax_audit_consumers_yielding"),
    }) },
  { section: "infra", id: "shed", title: "Shed requests per second", unit: "req/s", needs: "tmax_overload_shed_total", zeroOk: true,
    series: (c, p) => ({ overload: rate(c, p, "tmax_overload_shed_total"), "rate limited": rate(c, p, "tmax_rate_limited_total") }) },
];

const TABLES = [
  { section: "health", id: "breakers", title: "Circuit breakers", render: (c, p) => {
    const states = byLabel(c, "tmax_dsp_breaker_state", "dsp");
    const name = ["closed", "open", "half-open"], cls = ["state-ok", "state-bad", "state-warn"];
    const rows = [...states].map(([d, s]) => {
      const q = quantile(c, p, "tmax_dsp_request_duration_seconds", 0.99, { dsp: d });
      const timeouts = rate(c, p, "tmax_dsp_requests_total", { dsp: d, outcome: "timeout" });
      return `<tr><td>${esc(d)}</td><td class="${cls[s] ?? ""}">${name[s] ?? s}</td><td>${fmt(q === null ? null : q * 1000, 1)}</td><td>${fmt(timeouts, 2)}</td></tr>`;
    });
    return rows.length ? `<table><tr><th>DSP</th><th>breaker</th><th>p99 ms</th><th>timeouts/s</th></tr>${rows.join("")}</table>` : null;
  } },
  { section: "business", id: "advertisers", title: "Top advertisers by spend today", render: (c) => {
    const spend = [...byLabel(c, "tmax_advertiser_spend_micros", "advertiser")].sort((a, b) => b[1] - a[1]).slice(0, 10);
    const budgets = byLabel(c, "tmax_campaign_budget_micros", "advertiser");
    const rows = spend.map(([a, m]) => `<tr><td>${esc(a)}</td><td>$${fmt(m / 1e6, 4)}</td><td>$${fmt((budgets.get(a) ?? 0) / 1e6, 2)}</td><td>${barHtml(m, budgets.get(a))}</td></tr>`);
    return rows.length ? `<table><tr><th>advertiser</th><th>spend</th><th>budget</th><th>used</th></tr>${rows.join("")}</table>` : null;
  } },
  { section: "business", id: "campaigns", title: "Spend vs budget per campaign", render: (c) => {
    const budgets = byLabel(c, "tmax_campaign_budget_micros", "campaign");
    const spent = byLabel(c, "tmax_campaign_budget_reserved_micros", "campaign");
    const rows = [...budgets].map(([id, b]) => `<tr><td>${esc(id)}</td><td>$${fmt((spent.get(id) ?? 0) / 1e6, 4)}</td><td>$${fmt(b / 1e6, 2)}</td><td>${barHtml(spent.get(id) ?? 0, b)}</td></tr>`);
    return rows.length ? `<table><tr><th>campaign</th><th>spent</th><th>budget</th><th>used</th></tr>${rows.join("")}</table>` : null;
  } },
  { section: "fraud", id: "fraudtop", title: "Top block reasons", render: (c) => {
    if (!has(c, "tmax_fraud_blocks_total")) return null;
    const rows = [...byLabel(c, "tmax_fraud_blocks_total", "reason")].sort((a, b) => b[1] - a[1]).slice(0, 10).map(([r, n]) => `<tr><td>${esc(r)}</td><td>${fmt(n, 0)}</td></tr>`);
    return `<table><tr><th>reason</th><th>blocked</th></tr>${rows.join("")}</table>`;
  } },
  { section: "infra", id: "state", title: "Workers, audit trail, Kafka and Redis", render: (c) => {
    const tile = (label, v, bad) => `<div class="tile"><div class="hint">${label}</div><div class="v ${v === null ? "" : bad ? "state-bad" : "state-ok"}">${v === null ? "n/a" : v}</div></div>`;
    const g = (n) => (has(c, n) ? total(c, n) : null);
    return `<div class="tiles">${[
      tile("workers ready", g("tmax_workers_ready"), g("tmax_workers_ready") === 0),
      tile("outboxes unhealthy", g("tmax_audit_outboxes_unhealthy"), g("tmax_audit_outboxes_unhealthy") > 0),
      tile("Kafka relays disconnected", g("tmax_audit_relays_disconnected"), g("tmax_audit_relays_disconnected") > 0),
      tile("relay lag (records)", g("tmax_audit_relay_lag_records"), g("tmax_audit_relay_lag_records") > 10000),
      tile("Redis (freq caps)", g("tmax_redis_connected") === null ? null : g("tmax_redis_connected") === 1 ? "connected" : "DOWN", g("tmax_redis_connected") === 0),
      tile("Redis failures", g("tmax_freqcap_redis_failures"), g("tmax_freqcap_redis_failures") > 0),
      tile("uptime (s)", g("tmax_process_uptime_seconds") === null ? null : Math.round(g("tmax_process_uptime_seconds")), false),
    ].join("")}</div>`;
  } },
];

const esc = (s) => String(s).replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch]);
const fmt = (v, digits) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const barHtml = (v, of) => (of ? `<div class="bar"><i style="width:${Math.min(100, (100 * v) / of).toFixed(1)}%"></i></div>` : "");

// ---- rendering ----
const COLORS = ["#58a6ff", "#3fb950", "#d29922", "#f85149", "#bc8cff", "#39c5cf", "#ff9bce", "#9ea7b3", "#e3b341", "#7ee787", "#ffa657", "#a5d6ff", "#d2a8ff", "#f0883e", "#56d364", "#ff7b72"];
const charts = new Map();

function card(section, id, title) {
  const el = document.createElement("div");
  el.className = "card";
  el.id = `card-${id}`;
  el.innerHTML = `<h3>${esc(title)}</h3><div class="plot"></div>`;
  document.querySelector(`[data-section="${section}"]`).appendChild(el);
  return el;
}

function setNoData(el, text) {
  let overlay = el.querySelector(".nodata");
  if (text === null) { overlay?.remove(); return; }
  if (!overlay) { overlay = document.createElement("div"); overlay.className = "nodata"; el.appendChild(overlay); }
  overlay.textContent = text;
}

function makePlot(spec, state) {
  state.plot?.destroy();
  const plotEl = state.el.querySelector(".plot");
  const width = Math.max(300, plotEl.clientWidth);
  state.plot = new uPlot({
    width, height: 170, legend: { show: true, live: false }, cursor: { show: true },
    scales: { x: { time: true } },
    axes: [{ stroke: "#8b98a5", grid: { stroke: "#2d3844" } }, { stroke: "#8b98a5", grid: { stroke: "#2d3844" }, label: spec.unit, size: 56 }],
    series: [{}, ...state.names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], width: 1.5, spanGaps: true }))],
  }, [state.times, ...state.names.map((n) => state.values.get(n))], plotEl);
}

function updateChart(spec, cur, prev) {
  let state = charts.get(spec.id);
  if (!state) {
    state = { el: card(spec.section, spec.id, spec.title), names: [], times: [], values: new Map(), plot: null, nonzero: false };
    charts.set(spec.id, state);
  }
  state.el.dataset.kind = "chart";
  state.el.dataset.zeroOk = spec.zeroOk ? "true" : "false";
  if (!has(cur, spec.needs)) {
    state.el.dataset.state = "nodata";
    setNoData(state.el, `no data: ${spec.needs} is not exposed by this tmax`);
    return;
  }
  const point = spec.series(cur, prev) ?? {};
  const fresh = Object.keys(point).filter((n) => !state.names.includes(n));
  state.times.push(cur.t / 1000);
  for (const n of fresh) { state.names.push(n); state.values.set(n, new Array(state.times.length - 1).fill(null)); }
  for (const n of state.names) {
    const v = point[n];
    const value = v === undefined || v === null || !Number.isFinite(v) ? null : v;
    state.values.get(n).push(value);
    if (value !== null && value !== 0) state.nonzero = true;
  }
  if (state.times.length > HISTORY_POINTS) { state.times.shift(); for (const a of state.values.values()) a.shift(); }
  const any = state.names.some((n) => state.values.get(n).some((v) => v !== null));
  state.el.dataset.state = any ? "data" : "waiting";
  state.el.dataset.nonzero = String(state.nonzero);
  setNoData(state.el, any ? null : "waiting for data…");
  if (!any) return;
  if (state.plot === null || fresh.length > 0) makePlot(spec, state);
  else state.plot.setData([state.times, ...state.names.map((n) => state.values.get(n))]);
}

function updateTable(spec, cur, prev) {
  let el = document.getElementById(`card-${spec.id}`);
  if (!el) { el = card(spec.section, spec.id, spec.title); el.querySelector(".plot").className = "body"; el.dataset.kind = "table"; }
  const html = spec.render(cur, prev);
  el.dataset.state = html === null ? "nodata" : "data";
  setNoData(el, html === null ? "no data (metric not exposed by this tmax)" : null);
  el.querySelector(".body").innerHTML = html ?? "";
}

function renderSlos(slo) {
  const box = document.getElementById("slos");
  box.innerHTML = slo.slos.map((s) => {
    const w = s.windows["5m"], h = s.windows["1h"];
    const cls = w.ratio === null ? "" : w.met && (w.burnRate ?? 0) <= 1 ? "ok" : w.met ? "warn" : "bad";
    const value = w.ratio === null ? "no data" : `${(w.ratio * 100).toFixed(s.target >= 0.999 ? 3 : 1)}%`;
    const budget = h.errorBudgetRemaining === null ? "–" : `${(h.errorBudgetRemaining * 100).toFixed(1)}%`;
    return `<div class="slo ${cls}" data-slo="${s.name}"><div class="name">${s.name.replace("_", " ")} · target ${(s.target * 100).toFixed(s.target >= 0.999 ? 2 : 0)}%</div>
      <div class="value">${value}</div>
      <div class="detail">5m burn ${fmt(w.burnRate, 2)} · 1h burn ${fmt(h.burnRate, 2)} · 1h error budget left ${budget} · ${fmt(w.total, 0)} events</div></div>`;
  }).join("");
}

async function poll() {
  const status = document.getElementById("status");
  try {
    const [metricsText, slo] = await Promise.all([
      fetch("/metrics", { cache: "no-store" }).then((r) => r.text()),
      fetch("/slo", { cache: "no-store" }).then((r) => r.json()),
    ]);
    const cur = { t: Date.now(), metrics: parseProm(metricsText) };
    scrapes.push(cur);
    if (scrapes.length > SCRAPES_KEPT) scrapes.shift();
    const prev = base(cur);
    renderSlos(slo);
    for (const spec of CHARTS) updateChart(spec, cur, prev);
    for (const spec of TABLES) updateTable(spec, cur, prev);
    const info = cur.metrics.get("tmax_info")?.[0]?.labels;
    status.textContent = `live · ${info ? `${info.region} / ${info.pod} · v${info.version} · ` : ""}${new Date(cur.t).toLocaleTimeString()} · every ${POLL_MS / 1000}s`;
    status.className = "status ok";
    document.body.dataset.polls = String(Number(document.body.dataset.polls ?? 0) + 1);
  } catch (err) {
    status.textContent = `disconnected: ${err.message}`;
    status.className = "status bad";
  }
}

poll();
setInterval(poll, POLL_MS);
addEventListener("resize", () => { for (const s of charts.values()) s.plot?.setSize({ width: Math.max(300, s.el.querySelector(".plot").clientWidth), height: 170 }); });
