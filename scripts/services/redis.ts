// A real Redis for tests and operators: Debian's `redis-server`, bound to 127.0.0.1 on a free port,
// in its own temp dir, in the foreground (--daemonize no), awaited until it answers PING and stopped
// with SIGTERM, then SIGKILL after a bound. No orphans: the child is spawned through
// `setpriv --pdeathsig SIGKILL` (the kernel kills it if this process dies, even on SIGKILL) and every
// live instance is killed from an exit hook.
//
//   bun scripts/services/redis.ts up [--port N] [--appendonly] [--dir DIR]
//     prints {"url":"redis://127.0.0.1:N","pid":P,"port":N} and runs until Ctrl-C (or SIGTERM).
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export { HOST, freePort } from "./ports.ts";
import { HOST, freePort } from "./ports.ts";
/** Where Debian puts it; used when `redis-server` is not on PATH. */
export const DEFAULT_REDIS_SERVER = "/usr/bin/redis-server";
/** Overrides the binary (tests point it at a bogus path to check the missing-binary failure). */
export const REDIS_SERVER_ENV = "TMAX_REDIS_SERVER";
export const INSTALL_HINT = "apt-get install -y redis-server";
/** How long a started redis-server may take to answer PING. */
export const START_TIMEOUT_MS = 10_000;
/** How long a SIGTERM'd redis-server may take to exit before it gets SIGKILL. */
export const STOP_TIMEOUT_MS = 5_000;
export const PING_INTERVAL_MS = 20;
export const PING_TIMEOUT_MS = 500;
/** Attempts when the chosen free port is taken between probing it and redis binding it. */
export const MAX_PORT_ATTEMPTS = 5;
const LOG_TAIL_CHARS = 2_000;
const SETPRIV = "/usr/bin/setpriv";

export interface StartRedisOptions {
  /** 0 (default) = a free port. */
  port?: number;
  /** Data and log dir; default a fresh temp dir, removed on stop(). */
  dir?: string;
  /** AOF persistence, so data survives restart(); default off (`--save ""`, nothing on disk). */
  appendonly?: boolean;
  /** Path of redis-server; default $TMAX_REDIS_SERVER, then PATH, then /usr/bin/redis-server. */
  binary?: string;
}

export interface RedisService {
  readonly port: number;
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  /** pid of the current redis-server (changes on restart). */
  readonly pid: number;
  readonly dir: string;
  /** False once the current process exited, whoever ended it. */
  readonly running: boolean;
  /** Resolves with the exit code (or the signal name) when the current process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, SIGKILL after STOP_TIMEOUT_MS; removes the temp dir it created. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to the current process (SIGKILL = a crash, SIGSTOP = a hang). */
  kill(signal?: NodeJS.Signals): void;
  /** Stops and starts again on the same port and dir (data survives only with appendonly). */
  restart(): Promise<void>;
}

/** redis-server is not installed: a failure everywhere, never a skip. */
export class RedisMissingError extends Error {
  constructor(path: string) {
    const ci = process.env.CI === "true" ? " (CI=true: a missing service fails the run)" : "";
    super(`redis-server not found or not executable at ${path}${ci}; install it with: ${INSTALL_HINT}`);
    this.name = "RedisMissingError";
  }
}

/** The redis-server binary to run, or RedisMissingError. */
export function resolveRedisBinary(override?: string): string {
  const path = override ?? process.env[REDIS_SERVER_ENV] ?? Bun.which("redis-server") ?? DEFAULT_REDIS_SERVER;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new RedisMissingError(path);
  }
  return path;
}

const live = new Set<Subprocess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const proc of live) proc.kill("SIGKILL");
  });
}

/** One PING over a raw socket: true on +PONG (a loading server answers -LOADING: false). */
export function ping(port: number, timeoutMs = PING_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    let reply = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

function serverArgs(port: number, dir: string, appendonly: boolean): string[] {
  return [
    "--port", String(port), "--bind", HOST, "--protected-mode", "yes",
    "--daemonize", "no", "--dir", dir, "--logfile", join(dir, "redis.log"),
    "--save", "", "--appendonly", appendonly ? "yes" : "no",
  ];
}

function spawnServer(binary: string, args: string[]): Subprocess {
  const argv = existsSync(SETPRIV) ? [SETPRIV, "--pdeathsig", "SIGKILL", "--", binary, ...args] : [binary, ...args];
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));
  return proc;
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, "redis.log"), "utf8").slice(-LOG_TAIL_CHARS);
  } catch {
    return "(no log)";
  }
}

/** Resolves once the process answers PING; rejects if it exits first or START_TIMEOUT_MS passes. */
async function awaitPing(proc: Subprocess, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server exited (${proc.exitCode ?? proc.signalCode}) before answering PING`);
    if (await ping(port)) return;
    await Bun.sleep(PING_INTERVAL_MS);
  }
  proc.kill("SIGKILL");
  throw new Error(`redis-server on port ${port} did not answer PING within ${START_TIMEOUT_MS} ms`);
}

/** Spawns on `port` (0 = a free one, retried on a collision) and waits for PING. */
async function launch(binary: string, port: number, dir: string, appendonly: boolean): Promise<{ proc: Subprocess; port: number }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const chosen = port === 0 ? await freePort() : port;
    rmSync(join(dir, "redis.log"), { force: true });
    const proc = spawnServer(binary, serverArgs(chosen, dir, appendonly));
    try {
      await awaitPing(proc, chosen);
      return { proc, port: chosen };
    } catch (error) {
      lastError = new Error(`${(error as Error).message}\n${logTail(dir)}`);
      await proc.exited;
      if (!logTail(dir).includes("Address already in use")) break;
      await Bun.sleep(PING_INTERVAL_MS);
    }
  }
  throw lastError;
}

async function terminate(proc: Subprocess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill("SIGCONT"); // a SIGSTOP'd server cannot act on SIGTERM
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await proc.exited;
  clearTimeout(timer);
}

function exitOf(proc: Subprocess): Promise<number | string> {
  return proc.exited.then((code) => proc.signalCode ?? code);
}

/** Starts a redis-server; see StartRedisOptions. Throws RedisMissingError when it is not installed. */
export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisService> {
  const binary = resolveRedisBinary(opts.binary);
  const ownsDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tmax-redis-"));
  const appendonly = opts.appendonly ?? false;
  installExitHook();
  let { proc, port } = await launch(binary, opts.port ?? 0, dir, appendonly);
  let stopped = false;
  return {
    port,
    url: `redis://${HOST}:${port}`,
    dir,
    get pid() { return proc.pid; },
    get running() { return proc.exitCode === null && proc.signalCode === null; },
    get exited() { return exitOf(proc); },
    kill(signal: NodeJS.Signals = "SIGKILL") { proc.kill(signal); },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(proc);
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await terminate(proc);
      proc = (await launch(binary, port, dir, appendonly)).proc;
    },
  };
}

function flagValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

async function cli(args: string[]): Promise<void> {
  if (args[0] !== "up") {
    console.error("usage: bun scripts/services/redis.ts up [--port N] [--appendonly] [--dir DIR]");
    process.exit(2);
  }
  const redis = await startRedis({ port: Number(flagValue(args, "--port") ?? 0), dir: flagValue(args, "--dir"), appendonly: args.includes("--appendonly") });
  console.log(JSON.stringify({ url: redis.url, pid: redis.pid, port: redis.port }));
  let stopping = false;
  const shutdown = () => {
    stopping = true;
    void redis.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  const code = await redis.exited;
  await Bun.sleep(PING_INTERVAL_MS); // Ctrl-C reaches redis-server too (same process group)
  if (stopping) return;
  console.error(`redis-server exited on its own (${code})`);
  process.exit(1);
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
