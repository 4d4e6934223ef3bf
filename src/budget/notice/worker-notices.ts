// A worker's notice dependencies: the pod's budget board, the de-duplication store for its mode,
// the signing secret and the base URL the answers' burl/lurl point at.
import type { TmaxConfig } from "../../config/load.ts";
import { BudgetBoard } from "../board.ts";
import { budgetRedis, RedisRegionStore } from "../store/redis.ts";
import { RedisNoticeDedupe, SqliteNoticeDedupe } from "./dedupe.ts";
import type { NoticeDeps } from "./handler.ts";
import type { SharedBudget } from "../shared-budget.ts";

export function workerNotices(config: TmaxConfig, board: SharedArrayBuffer, slots: SharedBudget, port: number): NoticeDeps {
  const b = config.budget;
  const dedupe = b.mode === "embedded"
    ? new SqliteNoticeDedupe(config.audit.dir)
    : new RedisNoticeDedupe(new RedisRegionStore(budgetRedis({ url: b.regions.find((r) => r.id === b.region)!.redisUrl, commandTimeoutMs: b.commandTimeoutMs })));
  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  return { board: new BudgetBoard(board), slots, dedupe, secret: b.noticeSecret, baseUrl: b.noticeBaseUrl ?? `http://${host}:${port}` };
}
