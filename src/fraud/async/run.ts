// Runs tier 3 in the main thread: every `fraud.async.intervalMs` it reads the new audit events
// (OutboxTail over every worker's outbox), feeds the analyzer, and applies its actions to the shared
// fraud state, where every worker sees them on its next request (no restart, no message).
import { Tier3Analyzer, type Tier3Action } from "./analyzer.ts";
import { OutboxTail, type EventSource } from "./outbox-tail.ts";
import { blockDevice, blockUntil, markSubnetSuspect } from "../shared/blocks.ts";
import type { FraudState } from "../shared/state.ts";
import type { FraudSettings } from "../settings.ts";
import { KafkaEventSource } from "./kafka-source.ts";
import type { TmaxConfig } from "../../config/load.ts";

/** Kafka's bid-events when the audit relays there (every pod's events), else this pod's outboxes. */
export function tier3Source(config: TmaxConfig): EventSource {
  const kafka = config.audit.kafka;
  if (kafka === null) return new OutboxTail(config.audit.dir);
  const source = new KafkaEventSource({ brokers: kafka.brokers, topic: kafka.topic, groupId: `tmax-fraud-${config.server.pod}`, clientId: `tmax-${config.server.pod}-fraud` });
  source.ready.catch((err) => console.error(JSON.stringify({ level: "error", msg: "fraud tier 3: Kafka consumer failed; no async analysis", error: String((err as Error).message ?? err) })));
  return source;
}

export interface Tier3 {
  /** Actions taken so far. */
  readonly actions: Tier3Action[];
  /** One poll and analysis now (tests; the timer does the same). */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

/** Actions kept for `actions` (the oldest are dropped). */
const KEPT_ACTIONS = 1000;

export function startTier3(settings: FraudSettings, state: FraudState, auditDir: string, source: EventSource = new OutboxTail(auditDir)): Tier3 {
  const { async: a } = settings;
  const analyzer = new Tier3Analyzer({ windowMs: a.windowMs, subnetBurst: a.subnetBurst, devicesPerSubnet: a.devicesPerSubnet, regularGapCv: a.regularGapCv, noRender: a.noRender });
  const actions: Tier3Action[] = [];
  let running: Promise<void> | null = null;
  const runOnce = async () => {
    await source.poll((payload) => {
      try {
        analyzer.ingest(JSON.parse(payload.toString("utf8")));
      } catch {
        // not JSON: not ours to judge (the audit query reports such records)
      }
    });
    const now = Date.now();
    for (const action of analyzer.analyze(now)) {
      const applied = apply(state, action, now, now + a.blockSec * 1000);
      actions.push(action);
      if (actions.length > KEPT_ACTIONS) actions.shift();
      console.log(JSON.stringify({ level: "info", msg: "fraud tier 3", ...action, ...(applied ? {} : { applied: false }) }));
    }
  };
  const timer = setInterval(() => {
    if (running !== null) return;
    running = runOnce().catch((err) => console.error(JSON.stringify({ level: "error", msg: "fraud tier 3 failed", error: String((err as Error).message ?? err) }))).finally(() => { running = null; });
  }, a.intervalMs);
  timer.unref();
  return {
    actions,
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
      await source.close();
    },
  };
}

/** Writes the action into the shared tables; counted only when written (a suspect mark takes an IPv4 /24 only). */
function apply(state: FraudState, action: Tier3Action, nowMs: number, untilMs: number): boolean {
  let done: boolean;
  if (action.kind === "block_subnet" || action.kind === "no_render_block") done = blockUntil(state, action.subnet, nowMs, untilMs);
  else if (action.kind === "block_device") done = blockDevice(state, action.deviceKey, nowMs, untilMs);
  else done = markSubnetSuspect(state, action.subnet, nowMs, untilMs);
  if (done) state.countTier3Action(action.kind);
  return done;
}
