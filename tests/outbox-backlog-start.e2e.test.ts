// A rolling restart moves workers around the slots (one more than server.workers); a worker that
// retired while a consumer could not keep up leaves its outbox owing records in what is now the spare
// slot. Through a real `tmax serve` on such an audit dir: the next start takes the owing slot, and its
// consumers drain it (nothing waits for some later rolling restart).
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Outbox, outboxDir } from "../src/audit/outbox/index.ts";
import { consumersBehind } from "../src/audit/outbox/backlog.ts";
import { OUTBOX_CONSUMER } from "../src/audit/ledger/limits.ts";
import { testEvent } from "../src/audit/relay/testing.ts";
import { startTmax, tempDir, type Proc } from "./support/processes.ts";
import { until } from "./support/wait.ts";

const OWED = 200;
let tmax: Proc | undefined;
afterAll(async () => {
  await tmax?.kill();
});

test("the spare slot's outbox owing the ledger is reopened at start and drained", async () => {
  const auditDir = join(tempDir(), "audit");
  const spare = outboxDir(auditDir, 2); // 2 workers: slots 0, 1 and the spare 2
  const outbox = await Outbox.open({ dir: spare });
  await outbox.registerConsumer(OUTBOX_CONSUMER);
  for (let seq = 0; seq < OWED; seq++) await outbox.append(testEvent({ run: "owed", advertiser: "adv-1", seq }, 600));
  await outbox.close();
  expect(await consumersBehind(spare)).toEqual([OUTBOX_CONSUMER]);

  tmax = await startTmax({ audit: { dir: auditDir }, dsps: [], campaigns: [] }, 2);
  await until("the reopened slot in the log", () => tmax!.output().includes('"msg":"outbox with a backlog reopened"'), 20_000);
  expect(tmax.output()).toContain('"slot":2');
  const code = await tmax.kill("SIGTERM");
  if (code !== 0) console.log(tmax.output());
  expect(code).toBe(0); // the worker in slot 2 stops its consumers after they caught up
  tmax = undefined;
  expect(await consumersBehind(spare)).toEqual([]); // the ledger feeder (and the archiver) read it all
  expect(await consumersBehind(outboxDir(auditDir, 0))).toEqual([]);
});
