// What an outbox directory still owes its consumers: records that a registered consumer (relay,
// ledger feeder, archiver) has not acknowledged. The server asks at start, before any worker opens its
// outbox, so that a directory left with a backlog (a worker retired by a rolling restart while Kafka
// was down) is opened by a worker again instead of waiting in the spare slot. Read-only and without a
// scan: the checkpoint file against the active segment's size (a torn tail, which the worker's open
// cuts off, can only make a caught-up consumer look behind: that slot is then simply taken first).
import { stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Checkpoints } from "./checkpoint.ts";
import { comparePositions, parseSegmentFileName, segmentFileName } from "./format.ts";
import { nodeIo } from "./io.ts";

/** Consumers behind the end of the outbox in `dir` (none for a missing directory or one without segments). */
export async function consumersBehind(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const io = nodeIo();
  const ids = (await io.readdir(dir)).map(parseSegmentFileName).filter((id): id is number => id !== null);
  if (ids.length === 0) return [];
  const active = Math.max(...ids);
  const end = { segment: active, offset: (await stat(join(dir, segmentFileName(active)))).size };
  const checkpoints = await Checkpoints.load(dir, io);
  return checkpoints.entries().filter(([, at]) => comparePositions(at, end) < 0).map(([name]) => name);
}
