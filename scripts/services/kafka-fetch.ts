// The Kafka broker's class path, resolved from Maven Central by `mvn dependency:copy-dependencies` on
// the tiny pom beside this file (scripts/services/kafka/pom.xml) and cached per version under the
// ignored .cache/kafka/<version>/libs/. A cache whose marker matches the pom is used as it is: a warm
// start never calls mvn. A missing cache is fetched with `mvn -o` first (the jars may already be in
// ~/.m2), then online. Missing java/mvn or a failed fetch is a thrown Error that says what to do.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The broker release: the newest 3.x. kafkajs 2.2.4 speaks request versions that Kafka 4.0 removed (KIP-896). */
export const KAFKA_VERSION = process.env.TMAX_KAFKA_VERSION ?? "3.9.2";

const ROOT = join(import.meta.dir, "..", "..");
const POM = join(import.meta.dir, "kafka", "pom.xml");
const MARKER = ".complete.json";

export function kafkaCacheDir(version = KAFKA_VERSION): string {
  return join(process.env.TMAX_KAFKA_CACHE ?? join(ROOT, ".cache", "kafka"), version);
}

export function kafkaLibsDir(version = KAFKA_VERSION): string {
  return join(kafkaCacheDir(version), "libs");
}

function pomHash(): string {
  return createHash("sha256").update(readFileSync(POM)).digest("hex").slice(0, 16);
}

/** True when libs/ holds a finished fetch of this version made from the current pom. */
export function isKafkaCached(version = KAFKA_VERSION): boolean {
  const marker = join(kafkaLibsDir(version), MARKER);
  if (!existsSync(marker)) return false;
  try {
    const m = JSON.parse(readFileSync(marker, "utf8")) as { version?: string; pom?: string; jars?: string[] };
    return m.version === version && m.pom === pomHash() && (m.jars ?? []).every((j) => existsSync(join(kafkaLibsDir(version), j)));
  } catch {
    return false;
  }
}

/** What is missing to run (and, without a cache, to fetch) the broker; empty when all is there. */
export function missingKafkaTools(version = KAFKA_VERSION): string[] {
  const missing: string[] = [];
  if (!Bun.which("java")) missing.push("`java` (Java 17+) is not on PATH: install a JRE, e.g. `apt-get install openjdk-17-jre-headless`");
  if (!isKafkaCached(version) && !Bun.which("mvn")) missing.push(`\`mvn\` is not on PATH and ${kafkaLibsDir(version)} is not populated: install Maven, e.g. \`apt-get install maven\``);
  return missing;
}

export interface FetchResult {
  version: string;
  libs: string;
  /** false when the cache was already complete (no mvn call) */
  fetched: boolean;
  ms: number;
  jars: number;
  bytes: number;
}

function dirSize(dir: string): { jars: number; bytes: number } {
  let jars = 0;
  let bytes = 0;
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".jar")) continue;
    jars++;
    bytes += statSync(join(dir, name)).size;
  }
  return { jars, bytes };
}

async function runMvn(outDir: string, version: string, offline: boolean): Promise<{ ok: boolean; output: string }> {
  const args = [
    "mvn", "-B", "-q", "-Dstyle.color=never", ...(offline ? ["-o"] : []), "-f", POM,
    "dependency:copy-dependencies", `-Dkafka.version=${version}`, "-DincludeScope=runtime", `-DoutputDirectory=${outDir}`,
  ];
  const proc = Bun.spawn(args, { cwd: import.meta.dir, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { ok: code === 0, output: (out + err).trim() };
}

/** Makes sure .cache/kafka/<version>/libs holds the broker's jars; calls mvn only when it does not. */
export async function fetchKafka(version = KAFKA_VERSION): Promise<FetchResult> {
  const started = performance.now();
  const libs = kafkaLibsDir(version);
  if (isKafkaCached(version)) return { version, libs, fetched: false, ms: performance.now() - started, ...dirSize(libs) };
  const missing = missingKafkaTools(version);
  if (missing.length > 0) throw new Error(`cannot fetch Kafka ${version}: ${missing.join("; ")}`);

  const cache = kafkaCacheDir(version);
  mkdirSync(cache, { recursive: true });
  // Fetch into a private folder and rename it into place, so a concurrent or interrupted fetch never
  // leaves a half-filled libs/ that looks complete.
  const tmp = join(cache, `libs.tmp-${process.pid}-${Date.now()}`);
  try {
    let run = await runMvn(tmp, version, true);
    if (!run.ok) {
      rmSync(tmp, { recursive: true, force: true });
      run = await runMvn(tmp, version, false);
    }
    if (!run.ok) {
      const tail = run.output.split("\n").filter((l) => l.includes("ERROR") || l.includes("Could not")).slice(0, 12).join("\n") || run.output.slice(-3000);
      throw new Error(`mvn could not fetch org.apache.kafka:kafka_2.13:${version} (Maven Central reachable? version served?):\n${tail}`);
    }
    const jars = readdirSync(tmp).filter((n) => n.endsWith(".jar")).sort();
    if (!jars.some((j) => j.startsWith(`kafka_2.13-${version}`))) throw new Error(`mvn finished but kafka_2.13-${version}.jar is not in ${tmp}`);
    writeFileSync(join(tmp, MARKER), JSON.stringify({ version, pom: pomHash(), jars, fetchedAt: new Date().toISOString() }, null, 2));
    if (isKafkaCached(version)) return { version, libs, fetched: true, ms: performance.now() - started, ...dirSize(libs) }; // another process won
    rmSync(libs, { recursive: true, force: true });
    renameSync(tmp, libs);
    return { version, libs, fetched: true, ms: performance.now() - started, ...dirSize(libs) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
