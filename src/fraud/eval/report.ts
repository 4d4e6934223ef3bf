// The evaluation's figures from labelled outcomes: per tier and overall, block rate, recall per bot
// kind (blocked or flagged), false positives on humans (blocked; flagged shown apart).
import { BOT_LABELS, LABELS, type Label } from "../../sim/traffic/actors.ts";

export interface Outcome {
  label: Label;
  /** "allow" | "flag" | "block", or "unscreened" when the server recorded no fraud block (error, shed). */
  result: string;
  tier: number;
  reason: string | null;
}

export interface EvalReport {
  requests: number;
  unscreened: number;
  perTier: Record<string, { blocked: number; blockRate: number; flagged?: number }>;
  perKind: Record<string, { requests: number; blocked: number; flagged: number; recall: number }>;
  bots: { requests: number; caught: number; recall: number };
  humans: { requests: number; blocked: number; flagged: number; falsePositiveRate: number; flaggedRate: number };
  reasons: Record<string, number>;
  goal: { botRecallMin: number; humanBlockMax: number; met: boolean };
  /** HTTP answers by status (or transport outcome), when the replay recorded them. */
  answers?: Record<string, number>;
  /** Requests the server shed before screening (audit outbox unhealthy: answered 204, nbr 1). */
  shed?: number;
}

export const GOAL = { botRecallMin: 0.95, humanBlockMax: 0.005 } as const;

export function evalReport(outcomes: readonly Outcome[]): EvalReport {
  const screened = outcomes.filter((o) => o.result !== "unscreened");
  const ratio = (a: number, b: number) => (b === 0 ? 0 : a / b);
  const perTier: EvalReport["perTier"] = {};
  for (const tier of [1, 2, 3]) {
    const blocked = screened.filter((o) => o.result === "block" && o.tier === tier).length;
    perTier[`tier${tier}`] = { blocked, blockRate: ratio(blocked, screened.length) };
  }
  perTier.tier2!.flagged = screened.filter((o) => o.result === "flag").length;
  const allBlocked = screened.filter((o) => o.result === "block").length;
  perTier.overall = { blocked: allBlocked, blockRate: ratio(allBlocked, screened.length) };
  const perKind: EvalReport["perKind"] = {};
  for (const label of LABELS) {
    const mine = screened.filter((o) => o.label === label);
    if (mine.length === 0) continue;
    const blocked = mine.filter((o) => o.result === "block").length;
    const flagged = mine.filter((o) => o.result === "flag").length;
    perKind[label] = { requests: mine.length, blocked, flagged, recall: ratio(blocked + flagged, mine.length) };
  }
  const bots = screened.filter((o) => (BOT_LABELS as readonly string[]).includes(o.label));
  const caught = bots.filter((o) => o.result !== "allow").length;
  const humans = screened.filter((o) => o.label === "human");
  const humanBlocked = humans.filter((o) => o.result === "block").length;
  const humanFlagged = humans.filter((o) => o.result === "flag").length;
  const reasons: Record<string, number> = {};
  for (const o of screened) if (o.reason !== null && o.result === "block") reasons[o.reason] = (reasons[o.reason] ?? 0) + 1;
  const botRecall = ratio(caught, bots.length);
  const fpr = ratio(humanBlocked, humans.length);
  return {
    requests: outcomes.length,
    unscreened: outcomes.length - screened.length,
    perTier,
    perKind,
    bots: { requests: bots.length, caught, recall: botRecall },
    humans: { requests: humans.length, blocked: humanBlocked, flagged: humanFlagged, falsePositiveRate: fpr, flaggedRate: ratio(humanFlagged, humans.length) },
    reasons,
    goal: { ...GOAL, met: (bots.length === 0 || botRecall >= GOAL.botRecallMin) && fpr <= GOAL.humanBlockMax },
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

export function formatReport(r: EvalReport, title: string): string {
  const lines = [`fraud eval ${title}: ${r.requests} requests (${r.unscreened} not screened)${r.answers === undefined ? "" : `, answers ${JSON.stringify(r.answers)}`}${r.shed === undefined ? "" : `, shed ${r.shed}`}`];
  for (const [tier, t] of Object.entries(r.perTier)) lines.push(`  ${tier.padEnd(8)} blocked ${String(t.blocked).padStart(6)}  block rate ${pct(t.blockRate)}${t.flagged === undefined ? "" : `  flagged ${t.flagged}`}`);
  lines.push("  recall per kind (blocked or flagged):");
  for (const [kind, k] of Object.entries(r.perKind)) {
    lines.push(`    ${kind.padEnd(18)} n=${String(k.requests).padStart(6)}  blocked ${String(k.blocked).padStart(5)}  flagged ${String(k.flagged).padStart(5)}  ${kind === "human" ? "caught" : "recall"} ${pct(k.recall)}`);
  }
  lines.push(`  bots caught ${pct(r.bots.recall)} (goal >= ${pct(r.goal.botRecallMin)}); humans blocked ${pct(r.humans.falsePositiveRate)} (goal <= ${pct(r.goal.humanBlockMax)}), flagged ${pct(r.humans.flaggedRate)}`);
  lines.push(`  block reasons: ${JSON.stringify(r.reasons)}`);
  lines.push(`  goal ${r.goal.met ? "MET" : "NOT MET"}`);
  return lines.join("\n");
}
