// CPU time of one process (all its threads), read from /proc so the measured process need not
// cooperate. Two sources: the sum of /proc/<pid>/task/*/schedstat (ns, per thread, exact) and
// /proc/<pid>/stat utime+stime (clock ticks, includes threads that already exited). The delta
// prefers schedstat; stat is kept as a cross-check and as the fallback.
import { readdirSync, readFileSync } from "node:fs";

export interface CpuSample {
  tasks: Map<string, number> | null; // tid -> ns on CPU (null when schedstat is unreadable)
  statNs: number | null; // (utime + stime) * 1e9 / CLK_TCK
  at: number; // performance.now() when sampled
}

export interface CpuDelta {
  ns: number; // chosen figure
  source: "schedstat" | "stat";
  schedNs: number | null;
  statNs: number | null;
  /** Set when the two sources disagree by more than 5% and 3 ticks (e.g. threads died in the window). */
  warning?: string;
}

let tickHz: number | null = null;

/** `getconf CLK_TCK`, 100 if it cannot be run. */
export function clockTick(): number {
  if (tickHz !== null) return tickHz;
  try {
    const r = Bun.spawnSync(["getconf", "CLK_TCK"], { stdout: "pipe", stderr: "ignore" });
    const n = Number(r.stdout.toString().trim());
    tickHz = Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    tickHz = 100;
  }
  return tickHz;
}

function readTasks(pid: number): Map<string, number> | null {
  try {
    const tasks = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const first = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0];
        const ns = Number(first);
        if (Number.isFinite(ns)) tasks.set(tid, ns);
      } catch { /* thread exited between readdir and read */ }
    }
    return tasks.size > 0 ? tasks : null;
  } catch {
    return null;
  }
}

function readStatNs(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after "(comm)": state is field 3, utime field 14, stime field 15 (1-based).
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]), stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1e9) / clockTick();
  } catch {
    return null;
  }
}

export function readCpu(pid: number): CpuSample {
  return { tasks: readTasks(pid), statNs: readStatNs(pid), at: performance.now() };
}

export function cpuDelta(a: CpuSample, b: CpuSample): CpuDelta {
  let schedNs: number | null = null;
  if (a.tasks && b.tasks) {
    schedNs = 0;
    for (const [tid, ns] of b.tasks) schedNs += ns - (a.tasks.get(tid) ?? 0);
  }
  const statNs = a.statNs !== null && b.statNs !== null ? b.statNs - a.statNs : null;
  if (schedNs === null && statNs === null) throw new Error("cannot read /proc/<pid>/schedstat nor /proc/<pid>/stat");
  const d: CpuDelta = schedNs !== null
    ? { ns: schedNs, source: "schedstat", schedNs, statNs }
    : { ns: statNs as number, source: "stat", schedNs, statNs };
  if (schedNs !== null && statNs !== null) {
    const diff = Math.abs(schedNs - statNs);
    if (diff > 0.05 * Math.max(schedNs, statNs) && diff > (3 * 1e9) / clockTick()) {
      d.warning = `schedstat ${(schedNs / 1e6).toFixed(1)} ms vs stat ${(statNs / 1e6).toFixed(1)} ms`;
    }
  }
  return d;
}
