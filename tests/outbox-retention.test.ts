// Rotation and retention on real files: segments rotate at segmentBytes and are deleted only once
// every registered consumer acked past them; the consumer checkpoint survives a restart.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeIo, Outbox, OutboxPositionGoneError, type OutboxIo, type OutboxRecord } from "../src/audit/outbox/index.ts";

const SEGMENT_BYTES = 512;
const RECORDS = 60;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "outbox-ret-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const payload = (i: number) => `record-${String(i).padStart(3, "0")}-${"r".repeat(i % 40)}`;
const text = (r: OutboxRecord) => new TextDecoder().decode(r.data);
const segmentFiles = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".seg")).sort();

async function readFrom(outbox: Outbox, from?: OutboxRecord["position"]): Promise<OutboxRecord[]> {
  const reader = outbox.reader(from);
  const out: OutboxRecord[] = [];
  for (let batch = await reader.read(7); batch.length > 0; batch = await reader.read(7)) out.push(...batch);
  await reader.close();
  return out;
}

async function filled(dir: string, io?: OutboxIo): Promise<{ outbox: Outbox; records: OutboxRecord[] }> {
  const outbox = await Outbox.open({ dir, segmentBytes: SEGMENT_BYTES, io });
  await outbox.registerConsumer("relay");
  await outbox.registerConsumer("billing");
  for (let i = 0; i < RECORDS; i++) await outbox.append(payload(i));
  return { outbox, records: await readFrom(outbox) };
}

describe("rotation and retention", () => {
  test("segments rotate at segmentBytes; records read back in order across segments", async () => {
    const dir = tempDir();
    const { outbox, records } = await filled(dir);
    expect(records.map(text)).toEqual(Array.from({ length: RECORDS }, (_, i) => payload(i)));
    const files = segmentFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const name of files) expect(statSync(join(dir, name)).size).toBeLessThanOrEqual(SEGMENT_BYTES);
    expect(outbox.stats().rotations).toBe(files.length - 1);
    await outbox.close();
  });

  test("a segment is deleted only when every consumer acked past it", async () => {
    const dir = tempDir();
    const { outbox, records } = await filled(dir);
    const before = segmentFiles(dir);
    await outbox.ack("relay", records[RECORDS - 1]!.next);
    expect(segmentFiles(dir)).toEqual(before); // billing has acked nothing

    const half = records[RECORDS / 2]!;
    await outbox.ack("billing", half.next);
    const kept = segmentFiles(dir);
    expect(kept.length).toBeLessThan(before.length);
    const billingAt = outbox.consumerPosition("billing")!; // half.next, or the next segment's start
    expect(billingAt.segment - half.next.segment).toBeLessThanOrEqual(1);
    expect(outbox.oldestPosition().segment).toBe(billingAt.segment); // the segment billing is in stays
    expect(kept).toEqual(before.filter((n) => Number(n.slice(0, 20)) >= billingAt.segment));
    await expect(outbox.reader(records[0]!.position).read()).rejects.toBeInstanceOf(OutboxPositionGoneError);

    await outbox.ack("billing", records[RECORDS - 1]!.next);
    expect(segmentFiles(dir)).toEqual([before[before.length - 1]!]); // only the active segment is left
    await outbox.close();
  });

  test("with no consumer registered nothing is deleted; unregistering a laggard releases its segments", async () => {
    const dir = tempDir();
    const { outbox, records } = await filled(dir);
    await outbox.unregisterConsumer("relay");
    await outbox.ack("billing", records[RECORDS - 1]!.next);
    expect(segmentFiles(dir).length).toBe(1);
    for (let i = 0; i < RECORDS; i++) await outbox.append(payload(i));
    await outbox.unregisterConsumer("billing");
    expect(segmentFiles(dir).length).toBeGreaterThanOrEqual(4); // no consumers: the outbox keeps everything
    await outbox.close();
  });

  test("the checkpoint survives a restart: the consumer resumes at its acked position", async () => {
    const dir = tempDir();
    const { outbox, records } = await filled(dir);
    await outbox.ack("relay", records[41]!.next);
    await outbox.ack("billing", records[17]!.next);
    await outbox.close();
    expect(existsSync(join(dir, "consumers.checkpoint.json.tmp"))).toBe(false);
    const billingAt = outbox.consumerPosition("billing")!;
    expect(JSON.parse(readFileSync(join(dir, "consumers.checkpoint.json"), "utf8")).consumers.billing).toEqual([billingAt.segment, billingAt.offset]);

    const reopened = await Outbox.open({ dir, segmentBytes: SEGMENT_BYTES });
    expect(reopened.consumerPosition("relay")).toEqual(outbox.consumerPosition("relay")!);
    expect(await reopened.registerConsumer("billing")).toEqual(billingAt); // idempotent
    const resumed = await readFrom(reopened, reopened.consumerPosition("billing"));
    expect(resumed.map(text)).toEqual(records.slice(18).map(text));
    await reopened.close();
  });

  test("acks are checked: unknown consumer, going back, past the committed end", async () => {
    const { outbox, records } = await filled(tempDir());
    await outbox.ack("relay", records[10]!.next);
    await expect(outbox.ack("nobody", records[1]!.next)).rejects.toBeInstanceOf(RangeError);
    await expect(outbox.ack("relay", records[3]!.next)).rejects.toBeInstanceOf(RangeError);
    const end = outbox.committedPosition();
    await expect(outbox.ack("relay", { segment: end.segment, offset: end.offset + 1 })).rejects.toBeInstanceOf(RangeError);
    await expect(outbox.registerConsumer("bad name/..")).rejects.toBeInstanceOf(RangeError);
    await outbox.close();
  });

  test("a crash between the checkpoint and the deletions: the next open deletes them", async () => {
    const dir = tempDir();
    const failingUnlink: OutboxIo = { ...nodeIo(), unlink: async () => { throw Object.assign(new Error("EIO: unlink"), { code: "EIO" }); } };
    const { outbox, records } = await filled(dir, failingUnlink);
    const before = segmentFiles(dir).length;
    await outbox.ack("relay", records[RECORDS - 1]!.next);
    await outbox.ack("billing", records[RECORDS - 1]!.next); // durable, but the unlink fails
    expect(outbox.stats().retentionError).toContain("EIO");
    expect(segmentFiles(dir).length).toBe(before);
    await outbox.close();
    const reopened = await Outbox.open({ dir, segmentBytes: SEGMENT_BYTES });
    expect(segmentFiles(dir).length).toBe(1);
    expect(reopened.stats().deletedSegments).toBe(before - 1);
    await reopened.close();
  });
});
