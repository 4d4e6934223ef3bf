import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox, outboxDir } from "../audit/outbox/index.ts";
import { consumersBehind } from "../audit/outbox/backlog.ts";
import { chooseStartSlots, startSlots } from "./start-slots.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const auditDir = () => {
  const d = mkdtempSync(join(tmpdir(), "start-slots-"));
  dirs.push(d);
  return d;
};

/** An outbox at `slot` with consumer "ledger" registered and `unacked` records it has not acknowledged. */
async function outboxAt(audit: string, slot: number, unacked: number): Promise<void> {
  const outbox = await Outbox.open({ dir: outboxDir(audit, slot) });
  await outbox.registerConsumer("ledger");
  for (let i = 0; i < 3; i++) await outbox.append(`acked-${i}`);
  await outbox.ack("ledger", outbox.committedPosition());
  for (let i = 0; i < unacked; i++) await outbox.append(`owed-${i}`);
  await outbox.close();
}

test("startSlots: owing slots first, then the lowest; an owing slot beyond the slots or past the worker count is left", () => {
  expect(startSlots(2, 3, new Set())).toEqual({ take: [0, 1], left: [] });
  expect(startSlots(2, 3, new Set([2]))).toEqual({ take: [0, 2], left: [] });
  expect(startSlots(1, 2, new Set([1]))).toEqual({ take: [1], left: [] });
  expect(startSlots(2, 3, new Set([0, 1, 2]))).toEqual({ take: [0, 1], left: [2] });
  expect(startSlots(2, 3, new Set([5]))).toEqual({ take: [0, 1], left: [] }); // beyond the slots: reported by chooseStartSlots
});

test("consumersBehind: a consumer short of the committed end owes; one at the end does not; no directory owes nothing", async () => {
  const audit = auditDir();
  await outboxAt(audit, 0, 0);
  await outboxAt(audit, 1, 5);
  expect(await consumersBehind(outboxDir(audit, 0))).toEqual([]);
  expect(await consumersBehind(outboxDir(audit, 1))).toEqual(["ledger"]);
  expect(await consumersBehind(outboxDir(audit, 7))).toEqual([]);
});

test("chooseStartSlots: the spare directory left owing after a rolling restart is taken at the next start", async () => {
  const audit = auditDir();
  expect(await chooseStartSlots(audit, 2, 3)).toEqual([0, 1]); // a first start: no outbox yet
  await outboxAt(audit, 0, 0);
  await outboxAt(audit, 1, 0);
  await outboxAt(audit, 2, 4); // retired by a rolling restart while its relay could not ship
  expect(await chooseStartSlots(audit, 2, 3)).toEqual([0, 2]);
  await outboxAt(audit, 4, 1); // the worker count was lowered: no slot can take it (logged as an error)
  expect(await chooseStartSlots(audit, 2, 3)).toEqual([0, 2]);
});

test("chooseStartSlots: an outbox it cannot read is logged and passed over, the start goes on", async () => {
  const audit = auditDir();
  await outboxAt(audit, 1, 1);
  writeFileSync(outboxDir(audit, 2), "a file where the directory should be"); // readdir fails
  expect(await chooseStartSlots(audit, 2, 3)).toEqual([0, 1]);
});
