// `tmax serve` with a broken config (file, environment or flags) must print
// `config error: <field path>: <reason>` and exit 2 without starting: no listening line, no workers
// (the audit directory a worker would create never appears). A valid config starts and is ready.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUN, ROOT, startCli, tempDir, writeConfig, type Proc } from "./support/processes.ts";

/** A valid config with three DSPs and one campaign; `edit` breaks a copy of it. */
function config(edit: (c: any) => void = () => {}): Record<string, unknown> {
  const c = {
    audit: { dir: join(tempDir(), "audit") },
    dsps: [
      { id: "d0", endpoint: "http://127.0.0.1:9/bid" },
      { id: "d1", endpoint: "http://127.0.0.1:9/bid" },
      { id: "d2", endpoint: "http://127.0.0.1:9/bid" },
    ],
    campaigns: [{ id: "c1", advertiserId: "adv1", dailyBudget: 100, currency: "USD" }],
  };
  edit(c);
  return c;
}

interface Case {
  /** The config file contents (object or raw text); null = a path that does not exist. */
  file: Record<string, unknown> | string | null;
  flags?: string[];
  env?: Record<string, string>;
  /** The whole stderr line, or its start when `prefix` (messages quoting the OS or the JSON parser). */
  error: string;
  prefix?: boolean;
}

const MISSING = join(tempDir(), "does-not-exist.json");

const CASES: Array<[string, Case]> = [
  ["missing file", { file: null, error: `config error: (file): cannot read ${MISSING}: `, prefix: true }],
  ["not JSON", { file: "{ dsps: [", error: "config error: (file): ", prefix: true }],
  ["root is an array", { file: [] as unknown as Record<string, unknown>, error: "config error: (root): expected object" }],
  ["missing dsps", { file: config((c) => delete c.dsps), error: "config error: dsps: is required" }],
  ["dsps not an array", { file: config((c) => (c.dsps = { id: "d0" })), error: "config error: dsps: expected array" }],
  ["dsps[2].endpoint not a URL", { file: config((c) => (c.dsps[2].endpoint = "not a url")), error: "config error: dsps[2].endpoint: must be an http(s) URL" }],
  ["dsps[1].endpoint ftp://", { file: config((c) => (c.dsps[1].endpoint = "ftp://dsp.example/bid")), error: "config error: dsps[1].endpoint: must be an http(s) URL" }],
  ["dsps[0].endpoint empty", { file: config((c) => (c.dsps[0].endpoint = "")), error: "config error: dsps[0].endpoint: expected string length greater or equal to 1" }],
  ["dsps[0].endpoint https", { file: config((c) => (c.dsps[0].endpoint = "https://dsp.example/bid")), error: "config error: dsps[0].endpoint: https DSP endpoints are not supported yet (use http inside the data centre)" }],
  ["duplicate dsp ids", { file: config((c) => (c.dsps[2].id = "d0")), error: 'config error: dsps[2].id: duplicate id "d0"' }],
  ["dsp id with a space", { file: config((c) => (c.dsps[1].id = "d 1")), error: "config error: dsps[1].id: expected string to match '^[A-Za-z0-9._:-]+$'" }],
  ["unknown dsp field", { file: config((c) => (c.dsps[0].url = "http://x/")), error: "config error: dsps[0].url: is not a known field" }],
  ["duplicate campaign ids", { file: config((c) => c.campaigns.push({ ...c.campaigns[0] })), error: 'config error: campaigns[1].id: duplicate id "c1"' }],
  ["dailyBudget negative", { file: config((c) => (c.campaigns[0].dailyBudget = -5)), error: "config error: campaigns[0].dailyBudget: must be a non-negative decimal amount with at most 6 decimal places" }],
  ["dailyBudget 7 decimals", { file: config((c) => (c.campaigns[0].dailyBudget = 1.1234567)), error: "config error: campaigns[0].dailyBudget: must be a non-negative decimal amount with at most 6 decimal places" }],
  ["dailyBudget \"abc\"", { file: config((c) => (c.campaigns[0].dailyBudget = "abc")), error: "config error: campaigns[0].dailyBudget: must be a non-negative decimal amount with at most 6 decimal places" }],
  ["dailyBudget boolean", { file: config((c) => (c.campaigns[0].dailyBudget = true)), error: "config error: campaigns[0].dailyBudget: must be a number or a string" }],
  ["dailyBudget missing", { file: config((c) => delete c.campaigns[0].dailyBudget), error: "config error: campaigns[0].dailyBudget: is required" }],
  ["currency EUR", { file: config((c) => (c.campaigns[0].currency = "EUR")), error: 'config error: campaigns[0].currency: must be "USD"' }],
  ["unknown top-level field", { file: config((c) => (c.dsp = [])), error: "config error: dsp: is not a known field" }],
  ["server.port 70000", { file: config((c) => (c.server = { port: 70_000 })), error: "config error: server.port: expected integer to be less or equal to 65535" }],
  ["server.port string", { file: config((c) => (c.server = { port: "8080" })), error: "config error: server.port: expected integer" }],
  ["server.workers 0", { file: config((c) => (c.server = { workers: 0 })), error: "config error: server.workers: expected integer to be greater or equal to 1" }],
  ["server.maxBodyBytes 10", { file: config((c) => (c.server = { maxBodyBytes: 10 })), error: "config error: server.maxBodyBytes: expected integer to be greater or equal to 1024" }],
  ["auction.dspTimeoutMs 0", { file: config((c) => (c.auction = { dspTimeoutMs: 0 })), error: "config error: auction.dspTimeoutMs: expected integer to be greater or equal to 1" }],
  ["auction.maxImps 0", { file: config((c) => (c.auction = { maxImps: 0 })), error: "config error: auction.maxImps: expected integer to be greater or equal to 1" }],
  ["breaker.failureRate 0", { file: config((c) => (c.breaker = { failureRate: 0 })), error: "config error: breaker.failureRate: expected number to be greater than 0" }],
  ["breaker.failureRate 1.5", { file: config((c) => (c.breaker = { failureRate: 1.5 })), error: "config error: breaker.failureRate: expected number to be less or equal to 1" }],
  ["audit.commitWrites \"disk\"", { file: config((c) => (c.audit.commitWrites = "disk")), error: 'config error: audit.commitWrites: must be "loop" or "pool"' }],
  ["audit.consumerYieldMaxMs 700000", { file: config((c) => (c.audit.consumerYieldMaxMs = 700_000)), error: "config error: audit.consumerYieldMaxMs: expected integer to be less or equal to 600000" }],
  ["breaker.windowMs 50", { file: config((c) => (c.breaker = { windowMs: 50 })), error: "config error: breaker.windowMs: expected integer to be greater or equal to 100" }],
  ["TMAX_PORT=abc", { file: config(), env: { TMAX_PORT: "abc" }, error: 'config error: TMAX_PORT: must be an integer from 0 to 65535, got "abc"' }],
  ["TMAX_PORT empty", { file: config(), env: { TMAX_PORT: "" }, error: 'config error: TMAX_PORT: must be an integer from 0 to 65535, got ""' }],
  ["TMAX_PORT=0x50", { file: config(), env: { TMAX_PORT: "0x50" }, error: 'config error: TMAX_PORT: must be an integer from 0 to 65535, got "0x50"' }],
  ["TMAX_WORKERS=0", { file: config(), env: { TMAX_WORKERS: "0" }, error: 'config error: TMAX_WORKERS: must be an integer from 1 to 64, got "0"' }],
  ["TMAX_WORKERS=1.5", { file: config(), env: { TMAX_WORKERS: "1.5" }, error: 'config error: TMAX_WORKERS: must be an integer from 1 to 64, got "1.5"' }],
  ["--workers 999", { file: config(), flags: ["--workers", "999"], error: 'config error: --workers: must be an integer from 1 to 64, got "999"' }],
  ["--port 65536", { file: config(), flags: ["--port", "65536"], error: 'config error: --port: must be an integer from 0 to 65535, got "65536"' }],
  ["--port abc", { file: config(), flags: ["--port", "abc"], error: 'config error: --port: must be an integer from 0 to 65535, got "abc"' }],
];

describe("a broken config stops tmax before it starts (exit 2)", () => {
  test.concurrent.each(CASES)("%s", async (_name, c) => {
    const path = c.file === null ? MISSING : writeConfig(c.file);
    // The environment of the test run must not leak overrides into the cases that do not set them.
    const env = { TMAX_PORT: undefined, TMAX_WORKERS: undefined, ...c.env } as unknown as Record<string, string>;
    const { code, stdout, stderr } = await runServe(["--config", path, ...(c.flags ?? [])], env);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    if (c.prefix) expect(lines[0]).toStartWith(c.error);
    else expect(lines[0]).toBe(c.error);
    expect(code).toBe(2);
    expect(stdout).not.toContain("tmax serving");
    const audit = (c.file as { audit?: { dir?: string } } | null)?.audit?.dir;
    if (audit !== undefined) expect(existsSync(audit)).toBe(false);
  }, EXIT_WITHIN_MS + 5_000);
});

describe("a valid config starts", () => {
  let proc: Proc | undefined;
  afterEach(async () => {
    await proc?.kill();
    proc = undefined;
  });

  test("with TMAX_PORT / TMAX_WORKERS from the environment, and /readyz answers 200", async () => {
    const port = freePort();
    const file = writeConfig(config());
    proc = await startCli(["serve", "--config", file], { TMAX_PORT: String(port), TMAX_WORKERS: "1" });
    expect(proc.url).toBe(`http://127.0.0.1:${port}`);
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", config: "valid", workers: "1/1" });
  });

  test("--port / --workers override the environment", async () => {
    const port = freePort();
    const file = writeConfig(config((c) => (c.server = { workers: 3 })));
    proc = await startCli(["serve", "--config", file, "--port", String(port), "--workers", "2"], { TMAX_PORT: String(freePort()), TMAX_WORKERS: "1" });
    expect(proc.url).toBe(`http://127.0.0.1:${port}`);
    const ready = await fetch(`${proc.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: "ready", workers: "2/2" });
  });
});

/** Waits for a server that should not start; should not exit within that time. */
const EXIT_WITHIN_MS = 10_000;

/**
 * `bun src/cli.ts serve ...args` to completion, like runCli in support/processes.ts, except that a
 * process still running after EXIT_WITHIN_MS (a config that was wrongly accepted) is killed, so
 * the case fails on its exit code instead of hanging and leaving a server behind.
 */
async function runServe(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = Bun.spawn([BUN, join(ROOT, "src", "cli.ts"), "serve", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, ...env } });
  const timer = setTimeout(() => proc.kill("SIGKILL"), EXIT_WITHIN_MS);
  try {
    const [stdout, stderr] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code: proc.signalCode === null ? proc.exitCode : null, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
