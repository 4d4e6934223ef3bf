// Child processes for the benchmark: spawned directly (no shell, so pid is the process measured),
// awaited until a stdout JSON line carries a `url`, and stopped with SIGTERM then SIGKILL.
// stdin is a pipe the child may watch: it closes when the bench process dies.
import type { Subprocess } from "bun";

export const START_TIMEOUT_MS = 30_000;
export const STOP_GRACE_MS = 5_000;

export interface BenchProc {
  name: string;
  pid: number;
  ready: Record<string, unknown>; // the parsed listening line
  url: string;
  output(): string; // stdout + stderr so far
  stop(): Promise<number | null>; // exit code (null if it had to be killed)
}

/** Every process started and not yet stopped, so one call can end them all. */
const live = new Set<BenchProc>();

/** util-linux setpriv, if present: `--pdeathsig SIGTERM` then exec (same pid), so a child also
 * stops when the bench process is SIGKILLed (tmax serve does not watch its stdin). */
const SETPRIV = Bun.which("setpriv");

export async function spawnReady(name: string, cmd: string[], cwd: string): Promise<BenchProc> {
  const argv = SETPRIV === null ? cmd : [SETPRIV, "--pdeathsig", "SIGTERM", "--", ...cmd];
  const proc: Subprocess<"pipe", "pipe", "pipe"> = Bun.spawn(argv, { cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe", env: process.env });
  let out = "", err = "";
  void drain(proc.stderr, (t) => (err += t));
  let stopped = false;
  const bp: BenchProc = {
    name, pid: proc.pid, ready: {}, url: "",
    output: () => out + err,
    stop: async () => {
      if (stopped) return proc.exitCode;
      stopped = true;
      live.delete(bp);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
      const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_GRACE_MS);
      await proc.exited;
      clearTimeout(timer);
      try { proc.stdin.end(); } catch { /* already closed */ }
      return proc.signalCode === "SIGKILL" ? null : proc.exitCode;
    },
  };
  live.add(bp);
  try {
    bp.ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name}: no listening line within ${START_TIMEOUT_MS} ms\n${out}\n${err}`)), START_TIMEOUT_MS);
      let pending = "";
      void drain(proc.stdout, (t) => {
        out += t;
        pending += t;
        const lines = pending.split("\n");
        pending = lines.pop() ?? "";
        for (const line of lines) {
          if (!line.startsWith("{")) continue;
          try {
            const parsed = JSON.parse(line) as Record<string, unknown>;
            if (typeof parsed.url === "string") { clearTimeout(timer); resolve(parsed); }
          } catch { /* not JSON */ }
        }
      });
      void proc.exited.then((code) => { clearTimeout(timer); reject(new Error(`${name}: exited ${code} before listening\n${out}\n${err}`)); });
    });
  } catch (e) {
    await bp.stop();
    throw e;
  }
  bp.url = bp.ready.url as string;
  return bp;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop()));
}

async function drain(stream: ReadableStream<Uint8Array>, onText: (t: string) => void): Promise<void> {
  const decoder = new TextDecoder();
  try {
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  } catch { /* stream closed */ }
}

/** The last stdout JSON line of a stopped process that has the given key. */
export function lastJson(output: string, key: string): Record<string, unknown> | undefined {
  const lines = output.split("\n").filter((l) => l.startsWith("{")).reverse();
  for (const line of lines) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      if (key in v) return v;
    } catch { /* skip */ }
  }
  return undefined;
}
