// Notices are idempotent per bid: the first notice (billing or loss) for (request, imp, bid) is
// applied, every later one changes nothing. Embedded: a bun:sqlite table shared by the pod's
// workers (and surviving restarts). Distributed: Redis SET NX with a TTL in the region's Redis.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { RegionStore } from "../store/types.ts";

/** How long a notice's bid is remembered (a day's books plus late notices). */
export const NOTICE_DEDUPE_TTL_MS = 3 * 86_400_000;
/** How often (in notices) the embedded table drops entries past the TTL. */
const PRUNE_EVERY = 10_000;

export interface NoticeDedupe {
  /** True the first time `key` is seen; throws when the store cannot answer (the notice is refused, 503). */
  first(key: string): Promise<boolean>;
  close(): void;
}

export class SqliteNoticeDedupe implements NoticeDedupe {
  private readonly db: Database;
  private readonly insert;
  private count = 0;

  constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.db = new Database(join(dir, "notices.sqlite"));
    this.db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL;");
    this.db.exec("CREATE TABLE IF NOT EXISTS notices (bid_key TEXT PRIMARY KEY, at_ms INTEGER NOT NULL) WITHOUT ROWID");
    this.insert = this.db.prepare("INSERT OR IGNORE INTO notices (bid_key, at_ms) VALUES (?, ?)");
  }

  async first(key: string): Promise<boolean> {
    const now = Date.now();
    if (++this.count % PRUNE_EVERY === 0) this.db.prepare("DELETE FROM notices WHERE at_ms < ?").run(now - NOTICE_DEDUPE_TTL_MS);
    return this.insert.run(key, now).changes === 1;
  }

  close(): void {
    this.db.close();
  }
}

export class RedisNoticeDedupe implements NoticeDedupe {
  constructor(private readonly region: RegionStore) {}

  first(key: string): Promise<boolean> {
    return this.region.once(`notice:${key}`, NOTICE_DEDUPE_TTL_MS);
  }

  close(): void {
    void this.region.close();
  }
}
