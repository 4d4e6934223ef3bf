#!/usr/bin/env bun
// `npm run bench:wasm`: ns per operation of each WASM kernel (release build) next to its plain-TS
// reference, in one run, with the ratio. Each case prepares its inputs in the shared memory once,
// then times batches of calls (median of several rounds, after a warm-up), so what is measured is the
// kernel plus its crossing into WASM, not input generation.
//
// Where WASM loses, the output says so: read the `verdict` column.
import { buildWasm } from "../build-wasm.ts";
import { createSharedMemory } from "../../src/auction/memory.ts";
import { BENCH_CASES, type BenchCase } from "./wasm-cases.ts";

const ROUNDS = 7;
const TARGET_ROUND_MS = 150;

interface Row { kernel: string; op: string; wasmNs: number; tsNs: number; targetNs: number | null }

function timeRound(run: () => void, calls: number): number {
  const started = Bun.nanoseconds();
  for (let i = 0; i < calls; i++) run();
  return Bun.nanoseconds() - started;
}

/** Median ns per operation over ROUNDS rounds, each sized to take about TARGET_ROUND_MS. */
function nsPerOp(run: () => void, opsPerCall: number): number {
  let calls = 16;
  while (timeRound(run, calls) < TARGET_ROUND_MS * 1e6 / 4 && calls < 1 << 26) calls *= 2;
  calls *= 4;
  const perOp: number[] = [];
  for (let r = 0; r < ROUNDS; r++) perOp.push(timeRound(run, calls) / (calls * opsPerCall));
  perOp.sort((a, b) => a - b);
  return perOp[Math.floor(ROUNDS / 2)]!;
}

function measure(c: BenchCase): Row {
  const wasm = c.setup(createSharedMemory(), "wasm");
  const ts = c.setup(createSharedMemory(), "ts");
  return { kernel: c.kernel, op: c.op, wasmNs: nsPerOp(wasm, c.opsPerCall), tsNs: nsPerOp(ts, c.opsPerCall), targetNs: c.targetNs };
}

function verdict(row: Row): string {
  const parts: string[] = [row.wasmNs <= row.tsNs ? "WASM faster" : "WASM SLOWER than TS"];
  if (row.targetNs !== null) parts.push(row.wasmNs <= row.targetNs ? `meets < ${row.targetNs} ns` : `MISSES target < ${row.targetNs} ns`);
  return parts.join(", ");
}

if (import.meta.main) {
  buildWasm();
  const rows = BENCH_CASES.map(measure);
  console.log(`bench:wasm  release build vs plain-TS reference, median of ${ROUNDS} rounds, ns per operation\n`);
  console.log(`${"kernel".padEnd(10)} ${"operation".padEnd(54)} ${"wasm ns".padStart(10)} ${"ts ns".padStart(10)} ${"ts/wasm".padStart(8)}  verdict`);
  for (const r of rows) {
    console.log(`${r.kernel.padEnd(10)} ${r.op.padEnd(54)} ${r.wasmNs.toFixed(1).padStart(10)} ${r.tsNs.toFixed(1).padStart(10)} ${(r.tsNs / r.wasmNs).toFixed(2).padStart(8)}  ${verdict(r)}`);
  }
  for (const c of BENCH_CASES) if (c.note) console.log(`\nnote (${c.kernel}): ${c.note}`);
  console.log(JSON.stringify({ rows: rows.map((r) => ({ ...r, ratio: r.tsNs / r.wasmNs })) }));
}
