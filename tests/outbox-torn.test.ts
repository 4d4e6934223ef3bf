// Torn and corrupt tails on real files: the last record cut at every byte, every byte of it
// flipped, every bit of a middle record flipped. Each time the reopened outbox cuts the file at the
// first bad record, reports where and why, keeps exactly the records before it and never mis-parses.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox, OutboxCorruptionError, type OutboxRecord } from "../src/audit/outbox/index.ts";

const RECORD_COUNT = 6;
const MIDDLE = 2;
const records = Array.from({ length: RECORD_COUNT }, (_, i) => `{"event":${i},"pad":"${"abcdefghij".slice(0, 3 + i)}"}`);
let dir: string;
let segmentPath: string;
let original: Buffer;
/** Byte offset of each record's frame, then the file's end. */
let starts: number[];

async function readAll(outbox: Outbox): Promise<OutboxRecord[]> {
  const reader = outbox.reader();
  const out: OutboxRecord[] = [];
  for (let batch = await reader.read(); batch.length > 0; batch = await reader.read()) out.push(...batch);
  await reader.close();
  return out;
}

/** Writes `bytes` as the segment, reopens, and returns what the outbox reports and reads. */
async function reopenWith(bytes: Buffer) {
  writeFileSync(segmentPath, bytes);
  const outbox = await Outbox.open({ dir });
  const back = (await readAll(outbox)).map((r) => new TextDecoder().decode(r.data));
  const report = outbox.recovery;
  await outbox.append("after-recovery");
  await outbox.close();
  const sizeAfter = statSync(segmentPath).size;
  return { back, report, sizeAfter };
}

function flipped(at: number, mask: number): Buffer {
  const copy = Buffer.from(original);
  copy[at] = copy[at]! ^ mask;
  return copy;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "outbox-torn-"));
  const outbox = await Outbox.open({ dir });
  for (const r of records) await outbox.append(r);
  const read = await readAll(outbox);
  starts = [...read.map((r) => r.position.offset), read[read.length - 1]!.next.offset];
  await outbox.close();
  segmentPath = join(dir, "00000000000000000001.seg");
  original = readFileSync(segmentPath);
  expect(original.length).toBe(starts[RECORD_COUNT]!);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("torn tail", () => {
  test("the last record cut at every byte: cut back to its start, reported, earlier records intact", async () => {
    const lastStart = starts[RECORD_COUNT - 1]!;
    for (let cut = lastStart; cut < original.length; cut++) {
      const { back, report, sizeAfter } = await reopenWith(original.subarray(0, cut));
      expect(back).toEqual(records.slice(0, RECORD_COUNT - 1));
      expect(report.activeRecords).toBe(RECORD_COUNT - 1);
      if (cut === lastStart) expect(report.truncated).toBeNull();
      else {
        const reason = cut - lastStart < 8 ? "partial-header" : "length-past-eof";
        expect(report.truncated).toEqual({ segment: 1, offset: lastStart, bytes: cut - lastStart, reason });
      }
      expect(sizeAfter).toBe(lastStart + 8 + "after-recovery".length); // the new record follows the cut
    }
  });

  test("every byte of the last record flipped: detected, the record cut off", async () => {
    const lastStart = starts[RECORD_COUNT - 1]!;
    for (let at = lastStart; at < original.length; at++) {
      const { back, report } = await reopenWith(flipped(at, 0xff));
      expect(back).toEqual(records.slice(0, RECORD_COUNT - 1));
      const inLengthField = at >= lastStart + 4 && at < lastStart + 8;
      const reason = inLengthField ? "length-past-eof" : "bad-checksum";
      expect(report.truncated).toEqual({ segment: 1, offset: lastStart, bytes: original.length - lastStart, reason });
    }
  });

  test("every bit of a middle record flipped: cut from that record on, never mis-parsed", async () => {
    const start = starts[MIDDLE]!;
    const end = starts[MIDDLE + 1]!;
    for (let at = start; at < end; at++) {
      for (let bit = 0; bit < 8; bit++) {
        const { back, report } = await reopenWith(flipped(at, 1 << bit));
        expect(back).toEqual(records.slice(0, MIDDLE));
        expect(report.truncated?.offset).toBe(start);
        expect(report.truncated?.bytes).toBe(original.length - start);
        expect(["bad-checksum", "length-past-eof"]).toContain(report.truncated!.reason);
      }
    }
  });

  test("a zero-filled tail (file extended, data never written) is not taken for records", async () => {
    const { back, report } = await reopenWith(Buffer.concat([original, Buffer.alloc(4096)]));
    expect(back).toEqual(records);
    expect(report.truncated).toEqual({ segment: 1, offset: original.length, bytes: 4096, reason: "bad-checksum" });
  });

  test("a segment header cut short or damaged: the segment restarts empty, reported", async () => {
    for (let cut = 0; cut < 16; cut++) {
      const { back, report } = await reopenWith(original.subarray(0, cut));
      expect(back).toEqual([]);
      expect(report.truncated).toEqual({ segment: 1, offset: 0, bytes: cut, reason: "partial-segment-header" });
    }
    const { back, report } = await reopenWith(flipped(1, 0xff));
    expect(back).toEqual([]);
    expect(report.truncated?.reason).toBe("bad-segment-magic");
  });

  test("damage inside a sealed (rotated) segment is an error for readers, never mis-parsed", async () => {
    const sealedDir = mkdtempSync(join(tmpdir(), "outbox-sealed-"));
    try {
      const outbox = await Outbox.open({ dir: sealedDir, segmentBytes: 256 });
      for (let i = 0; i < 20; i++) await outbox.append(`sealed-${i}-${"q".repeat(30)}`);
      expect(outbox.segmentIds().length).toBeGreaterThan(2);
      await outbox.close();
      const first = join(sealedDir, "00000000000000000001.seg");
      const bytes = readFileSync(first);
      bytes[40] = bytes[40]! ^ 0x01;
      writeFileSync(first, bytes);
      const reopened = await Outbox.open({ dir: sealedDir, segmentBytes: 256 });
      const reader = reopened.reader();
      await expect(reader.read()).rejects.toBeInstanceOf(OutboxCorruptionError);
      await reader.close();
      await reopened.close();
    } finally {
      rmSync(sealedDir, { recursive: true, force: true });
    }
  });
});
