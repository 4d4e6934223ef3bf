import { afterEach, expect, test } from "bun:test";
import { configureLogging, DEFAULT_LOG_SETTINGS, log, type LogSink } from "./logger.ts";

function capture() {
  const lines: Array<{ stream: "out" | "err"; record: any }> = [];
  const sink: LogSink = { out: (l) => lines.push({ stream: "out", record: JSON.parse(l) }), err: (l) => lines.push({ stream: "err", record: JSON.parse(l) }) };
  return { lines, sink };
}
afterEach(() => configureLogging(DEFAULT_LOG_SETTINGS, { out: (l) => process.stdout.write(l + "\n"), err: (l) => process.stderr.write(l + "\n") }, Math.random));

test("one JSON line per event with time, level, msg, bindings and fields; warn/error on stderr", () => {
  const { lines, sink } = capture();
  configureLogging({ level: "info" }, sink);
  const worker = log.child({ worker: 3 });
  worker.info("started", { port: 8080 });
  worker.child({ component: "relay" }).error("failed", { error: new Error("boom"), big: 12n });
  worker.debug("hidden");
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ stream: "out", record: { level: "info", msg: "started", worker: 3, port: 8080 } });
  expect(new Date(lines[0]!.record.time).getTime()).toBeGreaterThan(0);
  expect(lines[1]).toMatchObject({ stream: "err", record: { level: "error", msg: "failed", worker: 3, component: "relay", big: "12", error: { message: "boom", name: "Error" } } });
  expect(lines[1]!.record.error.stack).toContain("boom");
});

test("the level filters; silent writes nothing", () => {
  const { lines, sink } = capture();
  configureLogging({ level: "warn" }, sink);
  log.info("no");
  log.warn("yes");
  configureLogging({ level: "silent" }, sink);
  log.error("no");
  expect(lines.map((l) => l.record.msg)).toEqual(["yes"]);
  configureLogging({ level: "debug" }, sink);
  expect(log.enabled("debug")).toBe(true);
});

test("sampling keeps about sampleRate of calls; 0 keeps none, 1 keeps all", () => {
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  configureLogging({ sampleRate: 0.1 }, undefined, random);
  let kept = 0;
  for (let i = 0; i < 10_000; i++) if (log.sampled()) kept++;
  expect(kept).toBeGreaterThan(800);
  expect(kept).toBeLessThan(1200);
  configureLogging({ sampleRate: 0 }, undefined, random);
  expect(Array.from({ length: 100 }, () => log.sampled()).some(Boolean)).toBe(false);
  configureLogging({ sampleRate: 1 }, undefined, random);
  expect(Array.from({ length: 100 }, () => log.sampled()).every(Boolean)).toBe(true);
});

test("fields that JSON cannot carry still give a line", () => {
  const { lines, sink } = capture();
  configureLogging({ level: "info" }, sink);
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  log.info("odd", { cyclic });
  expect(lines[0]!.record).toMatchObject({ msg: "odd", level: "info" });
  expect(lines[0]!.record.logError).toContain("not serializable");
});
