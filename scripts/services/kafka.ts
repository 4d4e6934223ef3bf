// A real Apache Kafka for tests and operators: the broker's jars from Maven Central (kafka-fetch.ts,
// cached under .cache/kafka/<version>/libs), one KRaft node that is both broker and controller,
// bound to 127.0.0.1 on a free port (controller on another), in its own dir, awaited until a kafkajs
// admin lists topics, and stopped with SIGTERM, then SIGKILL after a bound. No orphans: the JVM is
// spawned through `setpriv --pdeathsig SIGKILL` (the kernel kills it if this process dies, even on
// SIGKILL) and every live broker is killed from an exit hook.
//
//   bun scripts/services/kafka.ts fetch                     populate the cache (mvn), print what is there
//   bun scripts/services/kafka.ts up [--partitions N] [--port N] [--dir DIR]
//     prints {"brokers":["127.0.0.1:N"],"pid":P,...} and runs until Ctrl-C (or SIGTERM)
//   bun scripts/services/kafka.ts topic --brokers H:P --name T --partitions N [--replication-factor R]
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Kafka, logLevel } from "kafkajs";
import { cdsPlan, cdsUseFlags } from "./kafka-cds.ts";
import { fetchKafka, KAFKA_VERSION, missingKafkaTools } from "./kafka-fetch.ts";

export { fetchKafka, isKafkaCached, KAFKA_VERSION, kafkaLibsDir, missingKafkaTools } from "./kafka-fetch.ts";

export { HOST, freePorts } from "./ports.ts";
import { HOST, freePorts } from "./ports.ts";
/** How long a started broker may take until a kafkajs admin lists topics (a 2-core shared machine). */
export const START_TIMEOUT_MS = 60_000;
/** How long a SIGTERM'd broker may take for its controlled shutdown before it gets SIGKILL. */
export const STOP_TIMEOUT_MS = 20_000;
export const PROBE_INTERVAL_MS = 100;
/** Attempts when a chosen free port is taken between probing it and the broker binding it. */
export const MAX_PORT_ATTEMPTS = 3;
/** The JVM's flags: a small heap, one GC thread, C1 only (starts faster; a test broker needs no C2). */
export const DEFAULT_JVM_OPTIONS = ["-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"];
/** Extra JVM flags, space-separated, appended to the defaults (e.g. "-Xmx1g"). */
export const JVM_OPTIONS_ENV = "TMAX_KAFKA_JVM_OPTS";
const LOG_TAIL_CHARS = 3_000;
const SETPRIV = "/usr/bin/setpriv";

export interface StartKafkaOptions {
  /** num.partitions for topics created without a count (auto-created or admin default); default 3. */
  partitions?: number;
  /** Config, data (data/) and logs (logs/); default a fresh temp dir, removed on stop(). An existing
   *  formatted dir is reused as it is: its topics and messages are there again. */
  dir?: string;
  /** 0 (default) = a free port. The controller always takes another free port. */
  port?: number;
  /** auto.create.topics.enable; default false: topics are created explicitly, with their partition count. */
  autoCreateTopics?: boolean;
  version?: string;
  /** Replaces DEFAULT_JVM_OPTIONS ($TMAX_KAFKA_JVM_OPTS is still appended). */
  jvmOptions?: string[];
}

export interface KafkaService {
  /** ["127.0.0.1:PORT"], what a kafkajs client takes as `brokers`. */
  readonly brokers: string[];
  readonly port: number;
  readonly controllerPort: number;
  /** pid of the current broker JVM (changes on restart). */
  readonly pid: number;
  readonly dir: string;
  readonly version: string;
  /** The broker's log4j output (server.log) and the JVM's own stdout/stderr (jvm.log) are beside it. */
  readonly logFile: string;
  /** False once the current process exited, whoever ended it. */
  readonly running: boolean;
  /** Resolves with the exit code (or the signal name) when the current process ends. */
  readonly exited: Promise<number | string>;
  /** SIGTERM, SIGKILL after STOP_TIMEOUT_MS; removes the temp dir it created. Idempotent. */
  stop(): Promise<void>;
  /** Sends a signal to the current JVM (SIGKILL = a crash, SIGSTOP = a hang). */
  kill(signal?: NodeJS.Signals): void;
  /** Stops (if still running) and starts again on the same ports and dir: topics and messages survive. */
  restart(): Promise<void>;
  /** The last part of server.log, for error messages. */
  logTail(): string;
}
/** The name the task brief uses. */
export type KafkaHandle = KafkaService;

/** java or mvn is missing, or the fetch failed: a failure everywhere (in CI above all), never a skip. */
export class KafkaMissingError extends Error {
  constructor(reason: string) {
    const ci = process.env.CI === "true" ? " (CI=true: a missing service fails the run)" : "";
    super(`Kafka cannot run here${ci}: ${reason}`);
    this.name = "KafkaMissingError";
  }
}

/** Throws KafkaMissingError when java (or, without a cache, mvn) is not installed. */
export function checkKafkaTools(version = KAFKA_VERSION): void {
  const missing = missingKafkaTools(version);
  if (missing.length > 0) throw new KafkaMissingError(missing.join("; "));
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

function tcpOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: HOST, port });
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.on("connect", () => done(true));
    socket.on("error", () => done(false));
  });
}

/** A KRaft cluster id: 16 random bytes, base64url without padding, not starting with '-' (as Kafka's Uuid). */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

interface Layout {
  dir: string;
  dataDir: string;
  logsDir: string;
  props: string;
  log4j: string;
}

function layout(dir: string): Layout {
  return { dir, dataDir: join(dir, "data"), logsDir: join(dir, "logs"), props: join(dir, "server.properties"), log4j: join(dir, "log4j.properties") };
}

/** server.properties for one combined broker+controller node; replication settings for a single node. */
export function serverProperties(l: Layout, port: number, controllerPort: number, partitions: number, autoCreateTopics: boolean): string {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}`,
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "inter.broker.listener.name=PLAINTEXT",
    "controller.listener.names=CONTROLLER",
    `controller.quorum.voters=1@${HOST}:${controllerPort}`,
    `log.dirs=${l.dataDir}`,
    `num.partitions=${partitions}`,
    `auto.create.topics.enable=${autoCreateTopics}`,
    // One node: every internal topic has one replica; acks=all then means this one.
    "default.replication.factor=1",
    "min.insync.replicas=1",
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "transaction.state.log.num.partitions=1",
    // Tests: a consumer group's first join is not held back 3 s waiting for more members.
    "group.initial.rebalance.delay.ms=0",
    // After a crash (kill -9) the restarted node waits for its old registration's session to expire
    // before it serves: 4 s instead of 9 s. Heartbeats are on loopback, every 500 ms.
    "broker.session.timeout.ms=4000",
    "broker.heartbeat.interval.ms=500",
    "num.network.threads=2",
    "num.io.threads=2",
    "num.recovery.threads.per.data.dir=1",
    "log.segment.bytes=67108864",
    "log.retention.hours=24",
    "",
  ].join("\n");
}

function log4jProperties(l: Layout): string {
  return [
    "log4j.rootLogger=INFO, file",
    "log4j.appender.file=org.apache.log4j.RollingFileAppender",
    `log4j.appender.file.File=${join(l.logsDir, "server.log")}`,
    "log4j.appender.file.MaxFileSize=10MB",
    "log4j.appender.file.MaxBackupIndex=2",
    "log4j.appender.file.layout=org.apache.log4j.PatternLayout",
    "log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n",
    "log4j.logger.kafka.request.logger=WARN",
    "log4j.logger.state.change.logger=WARN",
    "log4j.logger.org.apache.kafka.clients=WARN",
    "",
  ].join("\n");
}

function tail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-LOG_TAIL_CHARS);
  } catch {
    return "";
  }
}

function jvmOptions(opts: StartKafkaOptions, l: Layout): string[] {
  const extra = (process.env[JVM_OPTIONS_ENV] ?? "").split(/\s+/).filter(Boolean);
  return [...(opts.jvmOptions ?? DEFAULT_JVM_OPTIONS), ...extra, `-Dlog4j.configuration=file:${l.log4j}`, `-Dkafka.logs.dir=${l.logsDir}`];
}

/** Runs a JVM main class to completion (the storage formatter); throws with its output on failure. */
async function runJava(libs: string, jvm: string[], args: string[]): Promise<void> {
  const proc = Bun.spawn(["java", ...jvm, "-cp", join(libs, "*"), ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`java ${args.join(" ")} exited ${code}:\n${out}${err}`);
}

/** Formats data/ once (a KRaft log dir needs meta.properties and the bootstrap metadata first). */
async function formatIfNeeded(libs: string, l: Layout, jvm: string[], version: string): Promise<void> {
  if (existsSync(join(l.dataDir, "meta.properties"))) return;
  await runJava(libs, [...jvm, ...cdsUseFlags(version)], ["kafka.tools.StorageTool", "format", "--ignore-formatted", "-t", newClusterId(), "-c", l.props]);
}

function spawnBroker(libs: string, l: Layout, jvm: string[], version: string): Subprocess {
  const cds = cdsPlan(version);
  const argv = ["java", ...jvm, ...cds.flags, "-cp", join(libs, "*"), "kafka.Kafka", l.props];
  const out = openSync(join(l.logsDir, "jvm.log"), "a");
  try {
    const proc = Bun.spawn(existsSync(SETPRIV) ? [SETPRIV, "--pdeathsig", "SIGKILL", "--", ...argv] : argv, { stdin: "ignore", stdout: out, stderr: out });
    live.add(proc);
    void proc.exited.then(() => {
      live.delete(proc);
      cds.finish(proc);
    });
    return proc;
  } finally {
    closeSync(out);
  }
}

function ended(proc: Subprocess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** Resolves once a kafkajs admin lists topics; rejects if the JVM exits first or START_TIMEOUT_MS passes. */
async function awaitReady(proc: Subprocess, port: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const exitedEarly = () => new Error(`the Kafka broker exited (${proc.exitCode ?? proc.signalCode}) before it served port ${port}`);
  while (!(await tcpOpen(port))) {
    if (ended(proc)) throw exitedEarly();
    if (Date.now() > deadline) throw new Error(`the Kafka broker did not listen on ${HOST}:${port} within ${START_TIMEOUT_MS} ms`);
    await Bun.sleep(PROBE_INTERVAL_MS);
  }
  const kafka = new Kafka({ clientId: "tmax-kafka-ready", brokers: [`${HOST}:${port}`], logLevel: logLevel.NOTHING, connectionTimeout: 1_000, requestTimeout: 5_000, retry: { retries: 0 } });
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (ended(proc)) throw exitedEarly();
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await Bun.sleep(PROBE_INTERVAL_MS);
  }
  throw new Error(`the Kafka broker on ${HOST}:${port} did not list topics within ${START_TIMEOUT_MS} ms: ${(lastError as Error | undefined)?.message}`);
}

async function terminate(proc: Subprocess): Promise<void> {
  if (ended(proc)) return;
  proc.kill("SIGCONT"); // a SIGSTOP'd JVM cannot act on SIGTERM
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), STOP_TIMEOUT_MS);
  await proc.exited;
  clearTimeout(timer);
}

interface Launched {
  proc: Subprocess;
  port: number;
  controllerPort: number;
}

/** Writes the config, formats once, spawns, waits. Ports 0 = free ones, new ones again on a collision. */
async function launch(libs: string, l: Layout, opts: StartKafkaOptions, port: number, controllerPort: number): Promise<Launched> {
  const jvm = jvmOptions(opts, l);
  const version = opts.version ?? KAFKA_VERSION;
  let lastError: unknown;
  for (let attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++) {
    const [freeA, freeB] = await freePorts(2);
    const chosen = port === 0 ? freeA! : port;
    const chosenController = controllerPort === 0 ? (freeB === chosen ? freeA! : freeB!) : controllerPort;
    writeFileSync(l.props, serverProperties(l, chosen, chosenController, opts.partitions ?? 3, opts.autoCreateTopics ?? false));
    writeFileSync(l.log4j, log4jProperties(l));
    await formatIfNeeded(libs, l, jvm, version);
    const logFile = join(l.logsDir, "server.log");
    const logStart = existsSync(logFile) ? statSync(logFile).size : 0;
    const proc = spawnBroker(libs, l, jvm, version);
    try {
      await awaitReady(proc, chosen);
      return { proc, port: chosen, controllerPort: chosenController };
    } catch (error) {
      await terminate(proc);
      const log = (existsSync(logFile) ? readFileSync(logFile).subarray(logStart).toString() : "") + tail(join(l.logsDir, "jvm.log"));
      lastError = new Error(`${(error as Error).message}\n--- ${l.logsDir} (tail) ---\n${log.slice(-LOG_TAIL_CHARS)}`);
      const collision = /Address already in use|BindException/.test(log);
      if (!collision || (port !== 0 && controllerPort !== 0)) break;
    }
  }
  throw lastError;
}

function exitOf(proc: Subprocess): Promise<number | string> {
  return proc.exited.then((code) => proc.signalCode ?? code);
}

/** Starts one KRaft broker; see StartKafkaOptions. Throws KafkaMissingError without java/mvn or on a failed fetch. */
export async function startKafka(opts: StartKafkaOptions = {}): Promise<KafkaService> {
  const version = opts.version ?? KAFKA_VERSION;
  checkKafkaTools(version);
  let libs: string;
  try {
    libs = (await fetchKafka(version)).libs;
  } catch (error) {
    throw new KafkaMissingError((error as Error).message);
  }
  const ownsDir = opts.dir === undefined;
  const l = layout(opts.dir ?? mkdtempSync(join(tmpdir(), "tmax-kafka-")));
  mkdirSync(l.dataDir, { recursive: true });
  mkdirSync(l.logsDir, { recursive: true });
  installExitHook();
  let current: Launched;
  try {
    current = await launch(libs, l, opts, opts.port ?? 0, 0);
  } catch (error) {
    if (ownsDir) rmSync(l.dir, { recursive: true, force: true });
    throw error;
  }
  const { port, controllerPort } = current;
  let stopped = false;
  return {
    brokers: [`${HOST}:${port}`],
    port,
    controllerPort,
    dir: l.dir,
    version,
    logFile: join(l.logsDir, "server.log"),
    get pid() { return current.proc.pid; },
    get running() { return !ended(current.proc); },
    get exited() { return exitOf(current.proc); },
    kill(signal: NodeJS.Signals = "SIGKILL") { current.proc.kill(signal); },
    logTail: () => tail(join(l.logsDir, "server.log")),
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(current.proc);
      if (ownsDir) rmSync(l.dir, { recursive: true, force: true });
    },
    async restart() {
      if (stopped) throw new Error("restart() after stop()");
      await terminate(current.proc);
      current = await launch(libs, l, opts, port, controllerPort);
    },
  };
}

/** Creates a topic (kafkajs admin); false when it already existed. */
export async function createTopic(brokers: string[], topic: string, numPartitions: number, replicationFactor = 1): Promise<boolean> {
  const admin = new Kafka({ clientId: "tmax-kafka-admin", brokers, logLevel: logLevel.WARN }).admin();
  await admin.connect();
  try {
    return await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

function flagValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function intFlag(args: string[], name: string): number | undefined {
  const raw = flagValue(args, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name}: expected a whole number, got ${raw}`);
  return n;
}

const USAGE = `usage:
  bun scripts/services/kafka.ts fetch
  bun scripts/services/kafka.ts up [--partitions N] [--port N] [--dir DIR]
  bun scripts/services/kafka.ts topic --brokers HOST:PORT[,..] --name TOPIC --partitions N [--replication-factor R]`;

async function cli(args: string[]): Promise<void> {
  const command = args[0];
  if (command === "fetch") {
    checkKafkaTools();
    console.log(JSON.stringify(await fetchKafka()));
    return;
  }
  if (command === "topic") {
    const brokers = flagValue(args, "--brokers")?.split(",");
    const name = flagValue(args, "--name");
    const partitions = intFlag(args, "--partitions");
    if (!brokers || !name || !partitions) throw new Error(USAGE);
    const created = await createTopic(brokers, name, partitions, intFlag(args, "--replication-factor") ?? 1);
    console.log(JSON.stringify({ topic: name, partitions, created }));
    return;
  }
  if (command !== "up") {
    console.error(USAGE);
    process.exit(2);
  }
  const kafka = await startKafka({ partitions: intFlag(args, "--partitions"), port: intFlag(args, "--port"), dir: flagValue(args, "--dir") });
  console.log(JSON.stringify({ brokers: kafka.brokers, pid: kafka.pid, port: kafka.port, dir: kafka.dir, version: kafka.version, log: kafka.logFile }));
  let stopping = false;
  const shutdown = () => {
    stopping = true;
    void kafka.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
  const code = await kafka.exited;
  await Bun.sleep(PROBE_INTERVAL_MS); // Ctrl-C reaches the JVM too (same process group)
  if (stopping) return;
  console.error(`the Kafka broker exited on its own (${code}); see ${kafka.logFile}`);
  process.exit(1);
}

if (import.meta.main) {
  cli(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
