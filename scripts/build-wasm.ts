// Builds the AssemblyScript kernels in assembly/ into wasm/ (a debug build with every assertion and
// an -O3 release build). Skips the work when wasm/build-stamp.json says the sources have not changed,
// so `npm start` and `npm test` can call it every time. Usage: bun scripts/build-wasm.ts [--force]
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { MEMORY_PAGES } from "../assembly/layout.ts";

const root = join(import.meta.dir, "..");
const assemblyDir = join(root, "assembly");
const wasmDir = join(root, "wasm");
const stampPath = join(wasmDir, "build-stamp.json");
const asc = join(root, "node_modules", ".bin", "asc");

/** Every kernel is compiled into one module (entry assembly/index.ts) importing the shared memory. */
export const WASM_MODULE = "tmax";
const ENTRY = join(assemblyDir, "index.ts");

const COMMON_FLAGS = [
  "--runtime", "stub", "--importMemory", "--sharedMemory", "--enable", "threads",
  "--initialMemory", String(MEMORY_PAGES), "--maximumMemory", String(MEMORY_PAGES),
  "--noExportMemory",
];
const VARIANT_FLAGS = {
  debug: ["--debug", "--optimizeLevel", "0"],
  release: ["-O3", "--noAssert"],
} as const;
export type Variant = keyof typeof VARIANT_FLAGS;

export const VARIANTS = Object.keys(VARIANT_FLAGS) as Variant[];

export function wasmPath(variant: Variant): string {
  return join(wasmDir, `${WASM_MODULE}.${variant}.wasm`);
}

function sourceHash(): string {
  const hash = createHash("sha256");
  for (const name of readdirSync(assemblyDir).sort()) {
    hash.update(name).update(readFileSync(join(assemblyDir, name)));
  }
  hash.update(readFileSync(join(root, "node_modules", "assemblyscript", "package.json")));
  hash.update(JSON.stringify({ COMMON_FLAGS, VARIANT_FLAGS }));
  return hash.digest("hex");
}

function isFresh(hash: string): boolean {
  if (!existsSync(stampPath)) return false;
  const stamp = JSON.parse(readFileSync(stampPath, "utf8")) as { hash?: string };
  if (stamp.hash !== hash) return false;
  return VARIANTS.every((v) => existsSync(wasmPath(v)));
}

function compile(variant: Variant): void {
  const args = [ENTRY, "-o", wasmPath(variant), ...COMMON_FLAGS, ...VARIANT_FLAGS[variant]];
  const run = Bun.spawnSync([asc, ...args], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (run.exitCode !== 0) throw new Error(`asc failed (${variant} build), exit ${run.exitCode}`);
}

export function buildWasm(force = false): boolean {
  const hash = sourceHash();
  if (!force && isFresh(hash)) return false;
  mkdirSync(wasmDir, { recursive: true });
  for (const variant of VARIANTS) compile(variant);
  writeFileSync(stampPath, JSON.stringify({ hash, builtAt: new Date().toISOString() }, null, 2));
  return true;
}

if (import.meta.main) {
  const built = buildWasm(process.argv.includes("--force"));
  console.log(built ? `wasm: built ${VARIANTS.map((v) => wasmPath(v)).join(", ")}` : "wasm: up to date");
}
