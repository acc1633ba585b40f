/**
 * Logging: one small interface so the library never forces a logging stack
 * on the site director embedding it. Every line passes through the secret
 * scrubber, as a last line of defence behind code that never logs secrets.
 */

import { scrubSecrets } from "./secrets.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose lines all carry these fields (e.g. `ce`). */
  child(fields: LogFields): Logger;
}

export interface LogRecord {
  time: string;
  level: Exclude<LogLevel, "silent">;
  msg: string;
  fields: LogFields;
}

export type LogSink = (record: LogRecord) => void;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

/** Whether a line at `level` passes a logger set to `threshold`. */
export function levelPasses(level: LogLevel, threshold: LogLevel): boolean {
  return RANK[level] >= RANK[threshold];
}

/** A logger writing to a sink; the sink decides the format. */
export function createLogger(options: { level?: LogLevel; sink?: LogSink; fields?: LogFields } = {}): Logger {
  const level = options.level ?? "info";
  const sink = options.sink ?? stderrSink(process.stderr.isTTY === true);
  const base = options.fields ?? {};
  const emit = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: LogFields): void => {
    if (RANK[lvl] < RANK[level]) return;
    const merged: LogFields = { ...base, ...fields };
    for (const [k, v] of Object.entries(merged)) if (typeof v === "string") merged[k] = scrubSecrets(v);
    sink({ time: new Date().toISOString(), level: lvl, msg: scrubSecrets(msg), fields: merged });
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ level, sink, fields: { ...base, ...fields } }),
  };
}

/** Human-readable lines on a terminal, JSON lines otherwise (for log collectors). */
export function stderrSink(human: boolean, stream: NodeJS.WritableStream = process.stderr): LogSink {
  return (r) => {
    if (!human) {
      stream.write(`${JSON.stringify({ time: r.time, level: r.level, msg: r.msg, ...r.fields })}\n`);
      return;
    }
    const extra = Object.entries(r.fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(" ");
    stream.write(`${r.time.slice(11, 19)} ${r.level.toUpperCase().padEnd(5)} ${r.msg}${extra ? ` ${extra}` : ""}\n`);
  };
}

/** A logger that drops everything (tests, quiet embedding). */
export const silentLogger: Logger = createLogger({ level: "silent", sink: () => undefined });
