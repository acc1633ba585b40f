/** What the CLI adds around each command: progress on a terminal; metrics come later. */

import type { CommandHooks } from "./command-runner.js";

export function cliHooks(_io: unknown): CommandHooks {
  return {
    ceOptions: () => ({}),
    serveMetrics: async () => async () => undefined,
    afterCommand: async () => undefined,
  };
}
