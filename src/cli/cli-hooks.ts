/** What the CLI adds around each command: progress on a terminal, and Prometheus metrics. */

import type { CeObserver } from "../ce/observer.js";
import { metricsRegistry } from "../metrics/ce-metrics.js";
import { serveMetrics, writeMetricsFile } from "../metrics/metrics-server.js";
import type { CliIo, CommandHooks } from "./command-runner.js";
import type { Output } from "./output.js";

const DONE_WORD = { create: "created", delete: "deleted" } as const;

/** `created 40/200` (and how many failed), rewritten in place; the Output stays quiet when piped. */
function progressObserver(out: Output): CeObserver {
  const state = { create: { total: 0, done: 0, failed: 0 }, delete: { total: 0, done: 0, failed: 0 } };
  return {
    planned: (action, total) => {
      state[action] = { total, done: 0, failed: 0 };
    },
    progressed: (action, done, failed) => {
      const s = state[action];
      s.done += done;
      s.failed += failed;
      const of = s.total > 0 ? `/${s.total}` : "";
      out.ticker(`${DONE_WORD[action]} ${s.done}${of}${s.failed > 0 ? ` (${s.failed} failed)` : ""}`);
    },
  };
}

export function cliHooks(_io: CliIo): CommandHooks {
  return {
    ceOptions: (_globals, out) => ({ observer: progressObserver(out) }),
    serveMetrics: async (port) => {
      const server = await serveMetrics({ port, registry: metricsRegistry });
      return () => server.close();
    },
    afterCommand: async (_ce, globals) => {
      if (globals.metricsFile === undefined) return;
      await writeMetricsFile(globals.metricsFile, metricsRegistry);
    },
  };
}
