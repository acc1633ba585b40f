export { METRICS, metricsRegistry } from "./ce-metrics.js";
export { serveMetrics, writeMetricsFile, type MetricsServer, type ServeMetricsOptions } from "./metrics-server.js";
