// Structured JSON logs: one line per event, {"time","level","msg",...fields}. One logger per thread
// (configured from `log` in the config at server and worker start), child loggers carry bindings
// (worker, component). debug/info go to stdout, warn/error to stderr. The request path logs a
// sample of requests (`log.sampleRate`); errors are never sampled.
//
// A tiny writer rather than pino: tmax needs levels, bindings, sampling and one synchronous line per
// event from any thread, including inside the one-binary compile; pino's value (async destinations,
// transports in worker threads) does not apply here and its transports do not survive `bun build --compile`.

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
type Fields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LogSettings { level: LogLevel; sampleRate: number }
export const DEFAULT_LOG_SETTINGS: LogSettings = { level: "info", sampleRate: 0.001 };

/** Where lines go; tests swap it. */
export interface LogSink { out(line: string): void; err(line: string): void }
const stdSink: LogSink = {
  out: (line) => process.stdout.write(line + "\n"),
  err: (line) => process.stderr.write(line + "\n"),
};

const state = { minRank: RANK.info, sampleRate: DEFAULT_LOG_SETTINGS.sampleRate, sink: stdSink, random: Math.random };

/** Applies `log.level` and `log.sampleRate` to this thread's loggers. */
export function configureLogging(settings: Partial<LogSettings>, sink?: LogSink, random?: () => number): void {
  state.minRank = RANK[settings.level ?? DEFAULT_LOG_SETTINGS.level];
  state.sampleRate = settings.sampleRate ?? DEFAULT_LOG_SETTINGS.sampleRate;
  if (sink) state.sink = sink;
  if (random) state.random = random;
}

/** Errors become {message, stack}; everything else is kept as JSON can carry it. */
function serializable(value: unknown): unknown {
  if (value instanceof Error) return { message: value.message, name: value.name, stack: value.stack };
  if (typeof value === "bigint") return value.toString();
  return value;
}

export class Logger {
  constructor(private readonly bindings: Fields = {}) {}

  child(bindings: Fields): Logger {
    return new Logger({ ...this.bindings, ...bindings });
  }
  enabled(level: LogLevel): boolean {
    return RANK[level] >= state.minRank && level !== "silent";
  }
  /** True for about `log.sampleRate` of calls: guard per-request logs with it (and build their fields only then). */
  sampled(): boolean {
    return state.sampleRate > 0 && state.random() < state.sampleRate;
  }
  debug(msg: string, fields?: Fields): void { this.write("debug", msg, fields); }
  info(msg: string, fields?: Fields): void { this.write("info", msg, fields); }
  warn(msg: string, fields?: Fields): void { this.write("warn", msg, fields); }
  error(msg: string, fields?: Fields): void { this.write("error", msg, fields); }

  private write(level: LogLevel, msg: string, fields?: Fields): void {
    if (!this.enabled(level)) return;
    const record: Fields = { time: new Date().toISOString(), level, msg, ...this.bindings };
    if (fields) for (const k in fields) record[k] = serializable(fields[k]);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch (err) {
      line = JSON.stringify({ time: record.time, level, msg, logError: `fields not serializable: ${(err as Error).message}` });
    }
    if (RANK[level] >= RANK.warn) state.sink.err(line);
    else state.sink.out(line);
  }
}

/** The thread's root logger. */
export const log = new Logger();
