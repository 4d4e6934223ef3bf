// SIGKILL at random moments: a child bun process appends records and prints each record's id only
// after its append resolved; the parent kills it mid-stream, several times over the same directory.
// After reopening, every printed id is in the outbox exactly once, and everything is in order.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox } from "../src/audit/outbox/index.ts";

const ROUNDS = 6;
const CONCURRENT_APPENDS = 32;
const KILL_AFTER_MIN_MS = 30;
const KILL_AFTER_SPREAD_MS = 400;
/** Small segments: kills also land in the middle of rotations. */
const SEGMENT_BYTES = 1024 * 1024;
const root = join(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "outbox-kill-"));
const dir = join(work, "outbox");
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CHILD = `
import { writeSync } from "node:fs";
import { Outbox } from ${JSON.stringify(join(root, "src/audit/outbox/index.ts"))};
const [dir, round] = process.argv.slice(2);
const outbox = await Outbox.open({ dir, commitWindowMs: 1, segmentBytes: ${SEGMENT_BYTES} });
writeSync(2, JSON.stringify(outbox.recovery) + "\\n");
let next = 0;
async function loop() {
  for (;;) {
    const n = next++;
    const id = round + "-" + n;
    await outbox.append(JSON.stringify({ id, pad: "x".repeat((n * 7919) % 3000) }));
    writeSync(1, id + "\\n");
  }
}
await Promise.all(Array.from({ length: ${CONCURRENT_APPENDS} }, loop));
`;

/** Runs the child until it printed something, kills it at a random moment, returns the printed ids. */
async function killRound(script: string, round: number): Promise<{ printed: string[]; recovery: string }> {
  const child = Bun.spawn([process.execPath, script, dir, String(round)], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  let out = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stdout) out += decoder.decode(chunk, { stream: true });
  })();
  while (!out.includes("\n")) await Bun.sleep(5);
  await Bun.sleep(KILL_AFTER_MIN_MS + Math.floor(Math.random() * KILL_AFTER_SPREAD_MS));
  child.kill("SIGKILL");
  expect(await child.exited).not.toBe(0);
  await reading;
  const recovery = await new Response(child.stderr).text();
  const complete = out.slice(0, out.lastIndexOf("\n"));
  return { printed: complete.split("\n"), recovery };
}

const idKey = (id: string) => id.split("-").map(Number) as [number, number];

test("records acknowledged before a SIGKILL are all there, once each, in order", async () => {
  const script = join(work, "child.ts");
  writeFileSync(script, CHILD);
  const printed: string[] = [];
  const recoveries: string[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const result = await killRound(script, round);
    printed.push(...result.printed);
    recoveries.push(result.recovery.trim());
  }
  const outbox = await Outbox.open({ dir });
  recoveries.push(JSON.stringify(outbox.recovery));
  expect(outbox.segmentIds().length).toBeGreaterThan(1);
  const reader = outbox.reader();
  const logged: string[] = [];
  for (let batch = await reader.read(); batch.length > 0; batch = await reader.read()) {
    for (const r of batch) logged.push((JSON.parse(new TextDecoder().decode(r.data)) as { id: string }).id);
  }
  await reader.close();
  await outbox.close();

  expect(printed.length).toBeGreaterThan(ROUNDS * 10);
  const where = new Map<string, number>();
  logged.forEach((id, i) => {
    expect(where.has(id)).toBe(false); // never twice
    where.set(id, i);
  });
  for (let i = 1; i < logged.length; i++) { // never reordered: (round, n) strictly increasing
    const [r0, n0] = idKey(logged[i - 1]!);
    const [r1, n1] = idKey(logged[i]!);
    expect(r1 > r0 || (r1 === r0 && n1 > n0)).toBe(true);
  }
  let previous = -1;
  for (const id of printed) { // every acknowledged id present, in the order it was acknowledged
    const at = where.get(id);
    expect(at).toBeDefined();
    expect(at!).toBeGreaterThan(previous);
    previous = at!;
  }
  console.log(`kill test: ${printed.length} acknowledged, ${logged.length} in the outbox; recoveries: ${recoveries.join(" | ")}`);
});
