// A real Apache Kafka broker for tests (scripts/services/kafka.ts): the jars from Maven Central
// (cached under .cache/kafka), one KRaft node on free loopback ports. Missing java/mvn or a failed
// fetch throws KafkaMissingError: the test fails, in CI and locally alike, never skips.
import { afterAll, beforeAll } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { checkKafkaTools, startKafka, type KafkaService, type StartKafkaOptions } from "../../scripts/services/kafka.ts";

export type { KafkaService, StartKafkaOptions };

/** How long a beforeAll that starts a broker may take: a cold cache runs mvn first. */
export const KAFKA_HOOK_TIMEOUT_MS = 240_000;

/** Throws KafkaMissingError (with the apt-get hint) when java, or mvn without a cache, is missing. */
export function requireKafka(): void {
  checkKafkaTools();
}

/** Runs `fn` against a fresh broker and stops it afterwards, whatever `fn` did. */
export async function withKafka<T>(fn: (kafka: KafkaService) => Promise<T>, opts: StartKafkaOptions = {}): Promise<T> {
  const kafka = await startKafka(opts);
  try {
    return await fn(kafka);
  } finally {
    await kafka.stop();
  }
}

/** One broker for the whole file: started in beforeAll, stopped in afterAll. */
export function useKafka(opts: StartKafkaOptions = {}): () => KafkaService {
  let kafka: KafkaService | undefined;
  beforeAll(async () => {
    kafka = await startKafka(opts);
  }, KAFKA_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await kafka?.stop();
  });
  return () => {
    if (!kafka) throw new Error("useKafka(): the broker is not started yet (call it at file level, read it inside tests)");
    return kafka;
  };
}

/** Pids of live java processes whose command line mentions `needle` (e.g. a broker's dir): orphans. */
export function javaProcessesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes("java") && cmdline.includes(needle)) pids.push(Number(entry));
    } catch { /* exited meanwhile */ }
  }
  return pids;
}

/** True while `pid` names a process that is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
