/** cloudce: a cloud computing element for grid pilot jobs. */
export * from "./ce/index.js";
export { CloudceError, ERROR_CODES, type ErrorCode, type Problem } from "./errors.js";
export { createLogger, silentLogger, type Logger, type LogRecord, type LogSink, type LogLevel } from "./log.js";
export { registerDriver, knownCloudTypes } from "./drivers/registry.js";
export type * from "./drivers/driver.js";
export {
  METRICS,
  metricsRegistry,
  serveMetrics,
  writeMetricsFile,
  type MetricsServer,
  type ServeMetricsOptions,
} from "./metrics/index.js";
