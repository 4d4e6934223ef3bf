// Which worker slots the first workers take. A slot is a worker's index: its counter row, its WASM
// scratch area and its outbox directory (audit.dir/outbox/w<slot>). There is one slot more than
// server.workers (the rolling restart's spare), and a rolling restart moves the workers around the
// slots, so after one the spare directory may be one a worker retired from while a consumer could
// not keep up (Kafka down: the relay ships what it can, then gives up at its drain bound). Starting
// in slots 0..workers-1 would leave that backlog unshipped until some later rolling restart; so the
// slots whose outboxes owe their consumers records are taken first. A directory beyond the slots (the
// worker count was lowered) cannot be taken: it is reported, loudly.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { consumersBehind } from "../audit/outbox/backlog.ts";
import { outboxDir } from "../audit/outbox/index.ts";
import { log } from "../log/logger.ts";

/** The first workers' slots, ascending: every owing slot first (lowest first), then the lowest others; and the owing slots left out. */
export function startSlots(workers: number, slots: number, owing: ReadonlySet<number>): { take: number[]; left: number[] } {
  const owingInRange = [...owing].filter((s) => s < slots).sort((a, b) => a - b);
  const take = owingInRange.slice(0, workers);
  for (let slot = 0; take.length < workers && slot < slots; slot++) if (!take.includes(slot)) take.push(slot);
  return { take: take.sort((a, b) => a - b), left: owingInRange.slice(workers) };
}

/** Reads every outbox directory under `auditDir` (before any worker opens one) and picks the first workers' slots. */
export async function chooseStartSlots(auditDir: string, workers: number, slots: number): Promise<number[]> {
  const owing = new Map<number, string[]>();
  for (const slot of outboxSlotsOnDisk(auditDir)) {
    try {
      const behind = await consumersBehind(outboxDir(auditDir, slot));
      if (behind.length > 0) owing.set(slot, behind);
    } catch (error) {
      // Not a reason to refuse to start: a worker given this slot meets the same error when it opens it.
      log.error("outbox unreadable at start", { slot, dir: outboxDir(auditDir, slot), error: String((error as Error).message ?? error) });
    }
  }
  const { take, left } = startSlots(workers, slots, new Set(owing.keys()));
  for (const slot of take.filter((s) => owing.has(s) && s >= workers)) {
    log.info("outbox with a backlog reopened", { slot, consumers: owing.get(slot) });
  }
  for (const slot of [...left, ...[...owing.keys()].filter((s) => s >= slots)]) {
    log.error("outbox with a backlog that no worker opens now", {
      slot, dir: outboxDir(auditDir, slot), consumers: owing.get(slot),
      fix: slot >= slots ? `run once with server.workers >= ${slot} so a worker drains it` : "it is opened at the next rolling restart (SIGHUP)",
    });
  }
  return take;
}

function outboxSlotsOnDisk(auditDir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(join(auditDir, "outbox"));
  } catch {
    return []; // a first start: no outbox yet
  }
  return names.map((n) => /^w(\d{1,4})$/.exec(n)).filter((m) => m !== null).map((m) => Number(m![1])).sort((a, b) => a - b);
}
