// Builds the one-file tmax binary: the CLI, the worker entries (request worker, Parquet encoder,
// audit consumer thread) and the WASM kernels embedded.
// Usage: bun scripts/compile.ts [OUTFILE]   (default dist/tmax)
import { join } from "node:path";
import { buildWasm, VARIANTS, wasmPath } from "./build-wasm.ts";

const root = join(import.meta.dir, "..");

export function compileBinary(outfile: string): void {
  buildWasm();
  const wasm = VARIANTS.map((v) => wasmPath(v));
  const args = ["build", "--compile", "src/cli.ts", "src/server/worker.ts", "src/audit/archive/encode-worker.ts", "src/audit/consumers/thread.ts", ...wasm, "--asset-naming=[name].[ext]", "--outfile", outfile];
  const run = Bun.spawnSync([process.execPath, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (run.exitCode !== 0) throw new Error(`bun build --compile failed with exit ${run.exitCode}`);
}

if (import.meta.main) compileBinary(process.argv[2] ?? join(root, "dist", "tmax"));
