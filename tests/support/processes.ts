// Real processes for cross-cutting tests: `tmax serve` and `tmax sim-dsp` started through the CLI,
// exactly as an operator would, each awaited until it prints its listening line, killed after.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { buildWasm } from "../../scripts/build-wasm.ts";

export const ROOT = join(import.meta.dir, "..", "..");
export const BUN = process.execPath;
const CLI = join(ROOT, "src", "cli.ts");
/** How long a started process may take to print its listening line. */
export const START_TIMEOUT_MS = 20_000;

export interface Proc {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<number>;
}

export function tempDir(prefix = "tmax-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Spawns `bun src/cli.ts ...args` and resolves once a stdout JSON line carries a `url`. */
export async function startCli(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const proc = Bun.spawn([BUN, CLI, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  let out = "";
  let err = "";
  void drain(proc.stderr, (t) => (err += t));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within ${START_TIMEOUT_MS} ms from ${args.join(" ")}\n${out}\n${err}`)), START_TIMEOUT_MS);
    void drain(proc.stdout, (t) => {
      out += t;
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        try {
          const parsed = JSON.parse(line) as { url?: string };
          if (parsed.url) {
            clearTimeout(timer);
            resolve(parsed.url);
          }
        } catch { /* partial line */ }
      }
    });
    void proc.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before listening: ${args.join(" ")}\n${out}\n${err}`));
    });
  });
  return {
    url,
    proc,
    output: () => out + err,
    kill: async (signal = "SIGTERM") => {
      proc.kill(signal);
      return await proc.exited;
    },
  };
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (t: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
}

/** A simulated DSP process; the url is its bid endpoint. */
export function startSimDspProcess(flags: string[]): Promise<Proc> {
  return startCli(["sim-dsp", "--port", "0", ...flags]);
}

/** A tmax server process on a free port with the given config (written to a temp file). */
export async function startTmax(config: Record<string, unknown>, workers = 2): Promise<Proc & { auditDir: string }> {
  const dir = tempDir();
  const auditDir = join(dir, "audit");
  const file = join(dir, "tmax.json");
  // The fraud stage is off unless a test turns it on: most tests replay one device and IP many times.
  const fraud = { enabled: false, ...(config.fraud as object | undefined) };
  // Campaigns spend "asap" unless a test says otherwise: tests spend budgets in seconds, and even pacing
  // (the product default) would throttle them by how far the clock is into the campaign's day.
  const campaigns = (config.campaigns as Record<string, unknown>[] | undefined)?.map((c) => ({ pacing: "asap", ...c }));
  writeFileSync(file, JSON.stringify({ audit: { dir: auditDir }, ...config, fraud, ...(campaigns === undefined ? {} : { campaigns }) }));
  buildWasm(); // no-op when fresh; lets a single test file run on its own
  const proc = await startCli(["serve", "--config", file, "--port", "0", "--workers", String(workers)]);
  return { ...proc, auditDir };
}

/** Runs `bun src/cli.ts ...args` to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, CLI, ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export function writeConfig(config: unknown): string {
  const file = join(tempDir(), "tmax.json");
  writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config));
  return file;
}
