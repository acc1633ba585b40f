/**
 * Where Prometheus finds the metrics: an HTTP `/metrics` endpoint (the
 * cleanup loop, `cloudce serve`), or a file for node_exporter's textfile
 * collector (one-shot runs from cron or a timer).
 */

import { rename, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { CloudceError } from "../errors.js";
import { metricsRegistry } from "./ce-metrics.js";

export interface MetricsServer {
  /** The port it listens on (useful when 0 was asked for). */
  readonly port: number;
  close(): Promise<void>;
}

export interface ServeMetricsOptions {
  readonly port: number;
  /** Default 127.0.0.1: expose it wider only behind something that controls access. */
  readonly host?: string;
  readonly registry?: Registry;
}

/** Serves `GET /metrics` in the Prometheus text format; anything else is 404. */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const registry = options.registry ?? metricsRegistry;
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only /metrics is served here\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (err: unknown) =>
        res
          .writeHead(500, { "content-type": "text/plain" })
          .end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new CloudceError(
          "OptionInvalid",
          `--metrics-port: cannot listen on ${options.host ?? "127.0.0.1"}:${options.port} (${err.code ?? err.message})`,
        ),
      ),
    );
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Writes the metrics to `path` atomically (a temporary file renamed over it),
 * so the textfile collector never reads half a file. Name it `*.prom`.
 */
export async function writeMetricsFile(path: string, registry: Registry = metricsRegistry): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, await registry.metrics());
  await rename(tmp, path);
}
