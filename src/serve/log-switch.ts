/** Log lines of a serving process: to stderr, or to the client as `log` notifications. Never to stdout. */

import { levelPasses, stderrSink, type LogLevel, type LogRecord, type LogSink } from "../log.js";
import type { MessageWriter } from "./line-channel.js";

export class LogSwitch {
  private mode: "stderr" | "notify" = "stderr";
  private readonly toStderr: LogSink;

  constructor(
    errorStream: NodeJS.WritableStream,
    private readonly writer: MessageWriter,
    private level: LogLevel,
  ) {
    // JSON lines: a serving process's stderr is read by programs (the plugin, a log collector).
    this.toStderr = stderrSink(false, errorStream);
  }

  set(mode: "stderr" | "notify", level: LogLevel): void {
    this.mode = mode;
    this.level = level;
  }

  /** The records arrive already scrubbed of secrets (createLogger does it). */
  readonly sink: LogSink = (record: LogRecord) => {
    if (!levelPasses(record.level, this.level)) return;
    if (this.mode === "stderr") this.toStderr(record);
    else
      this.writer.send({
        jsonrpc: "2.0",
        method: "log",
        params: { level: record.level, msg: record.msg, fields: record.fields },
      });
  };
}
