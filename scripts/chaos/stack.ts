// The system under test for the chaos runs: simulated DSPs in one process (scripts/chaos/dsps.ts)
// and `tmax serve` with the overload guard and a house ad, each a real process; plus an RSS
// sampler of the tmax process (/proc/PID/status VmRSS).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { getPriority, setPriority, tmpdir } from "node:os";
import { join } from "node:path";
import { spawnReady, type BenchProc } from "../bench/procs.ts";
import { buildWasm } from "../build-wasm.ts";

const ROOT = join(import.meta.dir, "..", "..");
/** Breaker open time in the chaos runs (the default 30 s would outlast a phase). */
export const BREAKER_OPEN_MS = 2_000;
const BUN = process.execPath;

/** The DSP simulators inherit the caller's nice (favour(process.pid) first to run them at EXTERNAL_NICE); tmax runs at nice 0. */
export interface StackOptions { workers: number; dsps: number; dspLatencyMs: string; overload?: Record<string, unknown>; audit?: Record<string, unknown> }

/**
 * The scheduling priority (nice) of the processes that stand for other machines: the DSP simulators
 * and the load generator. On a box of its own tmax would not share its cores with them; where it must,
 * giving them precedence keeps the DSPs' answer times and the generator's clock their own (a starved
 * generator would count its own delays as tmax's latency) while tmax gets whatever CPU they leave.
 */
export const EXTERNAL_NICE = -10;

/**
 * A command prefix that starts a child at nice 0 from a favoured parent: children inherit the parent's
 * nice, and raising it afterwards would reach only the child's main thread (Linux nice is per thread),
 * not the worker threads it has started by then.
 */
function atNormalPriority(): string[] {
  const nice = getPriority();
  return nice < 0 ? ["nice", "-n", String(-nice)] : [];
}

/** Raises `pid` to EXTERNAL_NICE; false when not permitted (not root, no CAP_SYS_NICE): the run goes on as is. */
export function favour(pid: number): boolean {
  try {
    setPriority(pid, EXTERNAL_NICE);
    return true;
  } catch {
    return false;
  }
}
export interface Stack { url: string; tmax: BenchProc; dsps: BenchProc; stop(): Promise<void> }

export async function startStack(o: StackOptions): Promise<Stack> {
  buildWasm();
  const dsps = await spawnReady("dsps", [BUN, join(ROOT, "scripts/chaos/dsps.ts"), "--count", String(o.dsps), "--latency-ms", o.dspLatencyMs], ROOT);
  const urls = dsps.ready.urls as string[];
  const dir = mkdtempSync(join(tmpdir(), "tmax-chaos-"));
  const configFile = join(dir, "tmax.json");
  writeFileSync(configFile, JSON.stringify({
    audit: { dir: join(dir, "audit"), ...o.audit },
    dsps: urls.map((url, i) => ({ id: `dsp${i + 1}`, endpoint: url })),
    campaigns: [{ id: "c1", advertiserId: "adv1", dailyBudget: 100_000_000, currency: "USD" }],
    houseAd: { adm: "<div>house</div>", price: 2 },
    // The load replays a small pool of requests (one device per few hundred): the fraud stage would block
    // most as bots and turn the spike into cheap 204s. Its own cost is measured by `npm run bench:fraud`.
    fraud: { enabled: false },
    // A breaker opened by a noisy moment (the DSPs share this machine) must not blank a whole phase.
    breaker: { failureThreshold: 5, openMs: BREAKER_OPEN_MS, halfOpenSuccesses: 3 },
    ...(o.overload === undefined ? {} : { overload: o.overload }),
  }));
  let tmax: BenchProc;
  try {
    tmax = await spawnReady("tmax", [...atNormalPriority(), BUN, join(ROOT, "src/cli.ts"), "serve", "--config", configFile, "--port", "0", "--workers", String(o.workers)], ROOT);
  } catch (err) {
    await dsps.stop();
    throw err;
  }
  return { url: tmax.url, tmax, dsps, stop: async () => { await tmax.stop(); await dsps.stop(); } };
}

/** Resident set size of a process in MiB (0 when it is gone). */
export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples. */
export function sampleRss(pid: number, everyMs = 250): { stop(): number[] } {
  const samples: number[] = [rssMiB(pid)];
  const timer = setInterval(() => samples.push(rssMiB(pid)), everyMs);
  return { stop: () => (clearInterval(timer), samples.push(rssMiB(pid)), samples) };
}

/** CPU time a process has used so far (all its threads, user + system), in ms; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return 0;
  }
}
/** Linux's USER_HZ (the unit of /proc/PID/stat times): 100 on every mainstream kernel. */
const CLOCK_TICKS_PER_S = 100;

/** One value of a Prometheus text exposition, summed over label sets matching the prefix. */
export async function scrape(url: string, prefix: string, including = ""): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith(prefix) && line.includes(including)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  return total;
}
