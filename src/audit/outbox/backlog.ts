// What an outbox directory still owes its consumers: committed records that a registered consumer
// (relay, ledger feeder, archiver) has not acknowledged. The server asks at start, before any worker
// opens its outbox, so that a directory left with a backlog (a worker retired by a rolling restart
// while Kafka was down) is opened by a worker again instead of waiting in the spare slot.
import { existsSync } from "node:fs";
import { comparePositions } from "./format.ts";
import { Outbox } from "./outbox.ts";

/** Consumers behind the committed end of the outbox in `dir` (none for a missing directory). Opens and closes it: nothing else may have it open. */
export async function consumersBehind(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const outbox = await Outbox.open({ dir });
  try {
    const end = outbox.committedPosition();
    return outbox.consumers().filter(([, at]) => comparePositions(at, end) < 0).map(([name]) => name);
  } finally {
    await outbox.close();
  }
}
