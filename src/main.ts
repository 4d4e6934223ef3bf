// Composition root for `tmax serve`: config in, server up, signals handled. No logic of its own.
import { loadConfigFile, envInt } from "./config/load.ts";
import { ConfigError } from "./config/errors.ts";
import { LIMITS } from "./config/limits.ts";
import { startServer, type RunningServer } from "./server/start.ts";
import { log } from "./log/logger.ts";

export interface ServeFlags { config: string; port?: string; workers?: string }

export async function serve(flags: ServeFlags): Promise<RunningServer> {
  const config = loadConfigFile(flags.config);
  if (flags.port !== undefined) config.server.port = envInt(flags.port, "--port", 0, 65535);
  if (flags.workers !== undefined) config.server.workers = envInt(flags.workers, "--workers", 1, LIMITS.maxWorkers);
  const server = await startServer(config);
  stopOnSignals(server); // before the line that says it serves: a SIGTERM right after it is a graceful stop
  restartOnSighup(server);
  console.log(JSON.stringify({ level: "info", msg: "tmax serving", url: server.url, workers: config.server.workers, dsps: config.dsps.length, campaigns: config.campaigns.length }));
  return server;
}

/**
 * The first SIGTERM/SIGINT stops gracefully (for a server: drain in-flight auctions within
 * server.shutdownDrainMs, flush the audit outbox) and exits 0; a second one during that forces an
 * immediate exit with 128 + the signal's number.
 */
export function stopOnSignals(server: { stop(): Promise<void> }, alsoStop: Array<() => unknown> = []): void {
  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn("second signal during shutdown: forced exit", { signal });
      process.exit(128 + (signal === "SIGINT" ? 2 : 15));
    }
    stopping = true;
    log.info("shutting down", { signal });
    await server.stop();
    for (const fn of alsoStop) await fn();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

/** SIGHUP: a rolling restart of the workers (one at a time; accepted requests are finished, none lost). */
export function restartOnSighup(server: Pick<RunningServer, "restartWorkers">): void {
  process.on("SIGHUP", () => {
    console.log(JSON.stringify({ level: "info", msg: "rolling restart", signal: "SIGHUP" }));
    server.restartWorkers().then(
      (replaced) => console.log(JSON.stringify({ level: "info", msg: "rolling restart done", replaced })),
      (err) => console.error(JSON.stringify({ level: "error", msg: "rolling restart failed", error: String((err as Error).message ?? err) })),
    );
  });
}

export function reportStartError(err: unknown): never {
  if (err instanceof ConfigError) console.error(err.message);
  else console.error(`tmax: ${(err as Error).message ?? err}`);
  process.exit(2);
}
