// A faster broker start: a dynamic AppCDS archive of the broker's classes (Java 13+), kept beside
// the cached jars as .cache/kafka/<version>/broker.jsa. The first broker that finds none (and takes
// the lock) runs with -XX:ArchiveClassesAtExit and leaves it on its clean exit (a SIGKILLed one leaves
// nothing); every later JVM on the same class path maps it with -XX:SharedArchiveFile, which cut a
// start from ~3.4 s to ~1.5-2.5 s here. A stale or foreign archive is only ignored by the JVM
// (-Xshare:auto); a different java binary or a new fetch of the jars makes us dump a new one.
// TMAX_KAFKA_CDS=0 turns it off.
import { existsSync, openSync, closeSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { kafkaCacheDir, kafkaLibsDir } from "./kafka-fetch.ts";

/** A lock older than this belongs to a dump that died with its process. */
const STALE_LOCK_MS = 10 * 60_000;
/** Exit codes after which the JVM has written its archive: 0, SIGINT (130), SIGTERM (143). */
const CLEAN_EXITS = new Set([0, 130, 143]);
const QUIET = "-Xlog:cds*=off";

export interface CdsPlan {
  /** JVM flags for this run: map the archive, dump one at exit, or nothing. */
  flags: string[];
  /** Call once the JVM has exited: publishes a dumped archive (or drops a partial one). */
  finish(proc: Subprocess): void;
}

const NOTHING: CdsPlan = { flags: [], finish: () => {} };

/** Which java runs on which fetch of the jars: an archive is only valid for the JVM build and the
 *  class path that wrote it (the JVM would silently ignore it otherwise, and we would never redo it). */
function identity(version: string): string | null {
  const java = Bun.which("java");
  if (!java) return null;
  const real = realpathSync(java);
  const st = statSync(real);
  const marker = join(kafkaLibsDir(version), ".complete.json");
  return `${real}:${st.size}:${st.mtimeMs}|${existsSync(marker) ? statSync(marker).mtimeMs : "none"}`;
}

function paths(version: string) {
  const jsa = join(kafkaCacheDir(version), "broker.jsa");
  return { jsa, stamp: `${jsa}.json`, lock: `${jsa}.lock` };
}

/** Flags to map an existing archive, for any JVM on the broker's class path (also the formatter). */
export function cdsUseFlags(version: string): string[] {
  if (process.env.TMAX_KAFKA_CDS === "0") return [];
  const { jsa, stamp } = paths(version);
  try {
    if (existsSync(jsa) && JSON.parse(readFileSync(stamp, "utf8")).identity === identity(version)) return [`-XX:SharedArchiveFile=${jsa}`, QUIET];
  } catch { /* no stamp: not ours to trust */ }
  return [];
}

function takeLock(lock: string): boolean {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      closeSync(openSync(lock, "wx"));
      return true;
    } catch {
      try {
        if (Date.now() - statSync(lock).mtimeMs < STALE_LOCK_MS) return false;
        rmSync(lock, { force: true });
      } catch { /* removed meanwhile: try again */ }
    }
  }
  return false;
}

/** The plan for one broker run: use the archive, or (first run, lock taken) dump it at exit. */
export function cdsPlan(version: string): CdsPlan {
  if (process.env.TMAX_KAFKA_CDS === "0") return NOTHING;
  const use = cdsUseFlags(version);
  if (use.length > 0) return { flags: use, finish: () => {} };
  const { jsa, stamp, lock } = paths(version);
  const id = identity(version);
  if (!id || !takeLock(lock)) return NOTHING;
  const tmp = `${jsa}.tmp-${process.pid}-${Date.now()}`;
  let finished = false;
  return {
    flags: [`-XX:ArchiveClassesAtExit=${tmp}`, QUIET],
    finish(proc) {
      if (finished) return;
      finished = true;
      try {
        if (proc.signalCode === null && CLEAN_EXITS.has(proc.exitCode ?? -1) && existsSync(tmp) && statSync(tmp).size > 0) {
          renameSync(tmp, jsa); // atomic; a JVM still mapping the old one keeps it
          writeFileSync(stamp, JSON.stringify({ identity: id, writtenAt: new Date().toISOString() }));
        }
      } finally {
        rmSync(tmp, { force: true });
        rmSync(lock, { force: true });
      }
    },
  };
}
