/**
 * The submission keys this server has seen (docs/serve-protocol.md,
 * "Submission keys"). A key names one submission for its whole life: while
 * it runs, a second submitJob of the key waits for the first's answer and a
 * recoverSubmission stops it from starting VMs, then gets the same answer;
 * once it ended, both get its answer again. Nothing here creates a VM twice.
 */

import type { Logger } from "../log.js";
import { RPC_ERRORS, RpcError } from "./protocol.js";

/** Finished submissions kept for a late retry; a key older than this many is answered from the cloud's tags. */
export const MAX_FINISHED_KEYS = 1_000;

interface Entry {
  readonly ceName: string;
  readonly answer: Promise<unknown>;
  /** Stops a running submission from starting VMs (absent for a recovery, which creates nothing). */
  readonly stop?: AbortController;
}

export class SubmissionTable {
  private readonly live = new Map<string, Entry>();
  private readonly finished = new Map<string, Entry>();

  constructor(private readonly logger: Logger) {}

  /** The answer of a key already seen (running or ended), or undefined for a new key. */
  known(key: string, ceName: string): Entry | undefined {
    const entry = this.live.get(key) ?? this.finished.get(key);
    if (entry && entry.ceName !== ceName) {
      throw new RpcError(
        RPC_ERRORS.InvalidParams,
        `parameter 'submission': key ${key} was used by CE ${entry.ceName}; use a new key for every submission`,
        { param: "submission" },
      );
    }
    return entry;
  }

  /**
   * Runs the key's work once; must be called before the caller's first await,
   * so a request read after this one already finds the key.
   */
  run(key: string, ceName: string, work: () => Promise<unknown>, stop?: AbortController): Promise<unknown> {
    const answer = work();
    const entry: Entry = stop ? { ceName, answer, stop } : { ceName, answer };
    this.live.set(key, entry);
    const done = (): void => {
      this.live.delete(key);
      this.finished.set(key, entry);
      if (this.finished.size > MAX_FINISHED_KEYS) this.finished.delete(this.finished.keys().next().value!);
    };
    answer.then(done, done);
    return answer;
  }

  /** A recovery of a running submission: no VM starts from now on, and the recovery shares its answer. */
  stopRunning(key: string, entry: Entry): Promise<unknown> {
    if (entry.stop && !entry.stop.signal.aborted && this.live.get(key) === entry) {
      this.logger.warn("submission: recovery asked while it runs: stopping it", { submission: key, ce: entry.ceName });
      entry.stop.abort();
    }
    return entry.answer;
  }
}

type Answer = {
  OK?: unknown;
  Value?: unknown;
  PilotStampDict?: unknown;
  Recovered?: unknown;
  [extra: string]: unknown;
};

/**
 * A submission's answer with the VMs a later listing found by its key added:
 * a create abandoned in flight may land after the answer was made.
 */
export function withFound(base: unknown, found: unknown): unknown {
  const b = base as Answer;
  const f = found as Answer;
  if (f?.OK !== true || !Array.isArray(f.Value)) return base;
  if (b?.OK !== true || !Array.isArray(b.Value)) return f.Value.length > 0 ? found : base;
  const known = new Set(b.Value as string[]);
  const late = (f.Value as string[]).filter((ref) => !known.has(ref));
  if (late.length === 0) return base;
  const stamps = f.PilotStampDict as Record<string, string>;
  return {
    ...b,
    Value: [...(b.Value as string[]), ...late],
    PilotStampDict: {
      ...(b.PilotStampDict as Record<string, string>),
      ...Object.fromEntries(late.map((ref) => [ref, stamps[ref] ?? ""])),
    },
    Recovered: `${late.length} pilot VM${late.length === 1 ? "" : "s"} found by the submission key after its answer (creates abandoned in flight that landed)`,
  };
}
