/**
 * Wraps whichever driver the CE uses. The core never trusts a driver to get
 * lifecycle or ownership right: the driver is built once on first use (a
 * failed build is retried on the next call), refused after shutdown, every
 * call passes the client-side rate limit, and listings are re-filtered so a
 * driver bug can never hand us another CE's VMs.
 */

import { CloudceError } from "../errors.js";
import type {
  BulkResult,
  CallLimit,
  CloudDriver,
  CloudNode,
  DriverConfig,
  NodeFailure,
  NodeFilter,
  UnbatchedKind,
} from "../drivers/driver.js";
import { instantiateDriver, loadDriverFactory } from "../drivers/registry.js";
import { mapConcurrentUntil } from "../util/pool.js";
import { hintedDriver } from "./driver-hints.js";
import { DriverCallScope, instrumentDriver } from "./instrument-driver.js";
import type { CeObserver } from "./observer.js";
import { RateLimiter } from "../util/rate-limiter.js";
import { scopedStop, type StopControl, withinGrace } from "./interrupt.js";
import { AdaptiveLimit, NotSent } from "./adaptive-limit.js";
import { endpointLimit, runLimited } from "./endpoint-limits.js";
import { DELETE_HEDGE, EndpointHedges, endpointHedges, type Hedgeable } from "./hedge.js";
import { OWNER_KEY } from "./ownership.js";

export interface DestroyOptions {
  readonly stop?: StopControl;
  readonly onResult?: (result: BulkResult) => Promise<void>;
  /** The result of a call abandoned after the stop, when it answers after all. */
  readonly onLateResult?: (result: BulkResult) => Promise<void>;
}

export interface DestroyResult extends BulkResult {
  /** Ids never sent because the caller stopped first. */
  readonly notTried: readonly string[];
}

export interface DriverRuntimeOptions {
  readonly cloudType: string;
  readonly config: DriverConfig;
  readonly callsPerSecond: number;
  /** The most calls that cannot be batched in flight at once (Submit_Concurrency): the adaptive limit's bound. */
  readonly maxConcurrency: number;
  /** Where relative user-driver module paths are resolved from. */
  readonly baseDir?: string;
  /** Told of every driver call and listing (metrics, progress). */
  readonly observer?: CeObserver;
  /** Told of the driver once it is built, before any call reaches it (what it says about its credentials). */
  readonly onBuilt?: (driver: CloudDriver) => void;
  /** Duplicate slow idempotent calls (Cloud_Hedge); default yes. */
  readonly hedge?: boolean;
}

export class DriverRuntime {
  private driver: Promise<CloudDriver> | undefined;
  private closed = false;
  private readonly limiter: RateLimiter;
  private ownLimit: AdaptiveLimit | undefined;
  private readonly ownHedges = new EndpointHedges();
  private readonly calls = new DriverCallScope();

  constructor(private readonly options: DriverRuntimeOptions) {
    this.limiter = new RateLimiter(options.callsPerSecond);
  }

  /** The driver, built on first use. */
  get(): Promise<CloudDriver> {
    if (this.closed) return Promise.reject(new CloudceError("Internal", "the CE has been shut down; create a new one"));
    if (!this.driver) {
      const { cloudType, config, baseDir, observer, onBuilt } = this.options;
      const built = loadDriverFactory(cloudType, baseDir)
        .then((f) => instantiateDriver(f, { ...config, limit: this.driverLimit, events: this.calls.events }, cloudType))
        .then((d) => {
          onBuilt?.(d);
          const hinted = hintedDriver(d);
          return observer ? instrumentDriver(hinted, observer, this.calls) : hinted;
        });
      built.catch(() => {
        if (this.driver === built) this.driver = undefined;
      });
      this.driver = built;
    }
    return this.driver;
  }

  /** Runs one driver call under the rate limit. */
  async call<T>(fn: (driver: CloudDriver) => Promise<T>): Promise<T> {
    const driver = await this.get();
    await this.limiter.acquire();
    return fn(driver);
  }

  /**
   * Runs one call that cannot be batched within the endpoint's adaptive
   * concurrency limit (shared by every CE of the process on that endpoint),
   * after its turn under the rate limit; reports the limit as it moves.
   * Rejects with {@link NotSent} when `signal` aborts before the call went out.
   */
  async limited<T>(
    kind: UnbatchedKind,
    fn: (driver: CloudDriver) => Promise<T>,
    signal?: AbortSignal,
    hedge?: Hedgeable<T>,
  ): Promise<T> {
    const driver = await this.get();
    const limit = this.limitFor(driver);
    // A look-up is a read; a delete is hedged only where its caller says it is one id; a create never.
    const spec = kind === "lookup" ? (hedge ?? {}) : kind === "create" ? undefined : hedge;
    let sentAfter = 0;
    const send = (): Promise<T> => fn(driver);
    const onWinner = (ms: number): void => {
      sentAfter = ms;
    };
    try {
      // A call still waiting for its slot or its rate-limit turn when the caller stops is never sent.
      // Its duplicate runs in the same slot. A call its duplicate answered teaches the limit the
      // duplicate's own latency: the held request tells that one worker stalled, not how many calls
      // the cloud serves at once, while the duplicate, sent under the same load, does (under real
      // overload it is slow too, and the limit comes down). One the first request answered teaches its full latency.
      return await runLimited(
        limit,
        kind,
        spec ? () => this.hedged(driver, kind, send, spec, signal, onWinner) : send,
        {
          ready: () => this.limiter.acquire(),
          sample: (ms) => ms - sentAfter,
          ...(signal ? { signal } : {}),
        },
      );
    } finally {
      this.options.observer?.concurrency?.(driver.name, driver.endpoint ?? "", limit.limit);
    }
  }

  /**
   * The limit a driver fans one operation out under (a refused multi-create,
   * many ids at once). Inside a call the CE limited already, it passes
   * straight through; the operation took its rate-limit turn as a whole.
   */
  private readonly driverLimit: CallLimit = async (kind, call, signal) => {
    const driver = await this.get();
    const limit = this.limitFor(driver);
    try {
      return await runLimited(limit, kind, call, signal ? { signal } : {});
    } finally {
      this.options.observer?.concurrency?.(driver.name, driver.endpoint ?? "", limit.limit);
    }
  };

  /** `send()`, duplicated once it is slow (hedge.ts), unless Cloud_Hedge is off; the duplicate takes its rate-limit turn. */
  private hedged<T>(
    driver: CloudDriver,
    kind: string,
    send: () => Promise<T>,
    spec: Hedgeable<T> = {},
    signal?: AbortSignal,
    onWinner?: (sentAfterMs: number) => void,
  ): Promise<T> {
    if (this.options.hedge === false) return send();
    const endpoint = driver.endpoint ?? "";
    const hedges = driver.endpoint === undefined ? this.ownHedges : endpointHedges(`${driver.name} ${endpoint}`);
    // Each request stops once the call is answered (the loser's HTTP request is aborted).
    return hedges.run(kind, (abandoned) => this.calls.abandonable(abandoned, send), {
      ...spec,
      signal,
      ready: () => this.limiter.acquire(),
      // The metric's label is the call's kind alone, never a listing's filter.
      onOutcome: (outcome) =>
        this.options.observer?.hedged?.(driver.name, endpoint, kind.split(":")[0] ?? kind, outcome),
      ...(onWinner ? { onWinner } : {}),
    });
  }

  private limitFor(driver: CloudDriver): AdaptiveLimit {
    const max = this.options.maxConcurrency;
    if (driver.endpoint !== undefined) return endpointLimit(`${driver.name} ${driver.endpoint}`, max);
    this.ownLimit ??= new AdaptiveLimit({ max });
    return this.ownLimit;
  }

  /**
   * Destroys nodes: in one driver call where the cloud takes many ids at
   * once, else one id per call, `concurrency` at a time, each call passing
   * the rate limit and the endpoint's adaptive concurrency limit (a single
   * call for all ids would let the driver fire hundreds of DELETEs at once,
   * past the cloud's throttling). `onResult`
   * sees each call's result as it settles (the journal is written then).
   * Once `stop.signal` aborts no further call starts: those ids are
   * `notTried`; a call still unanswered after the grace fails its ids.
   */
  async destroy(ids: readonly string[], concurrency: number, opts: DestroyOptions = {}): Promise<DestroyResult> {
    if (ids.length === 0) return { done: [], failed: [], gone: [], notTried: [] };
    const driver = await this.get();
    const calls = driver.capabilities.bulkDestroy === true || ids.length === 1 ? [ids] : ids.map((id) => [id]);
    const { stop, end } = scopedStop(opts.stop ?? { graceMs: 0 });
    try {
      return await this.destroyEach(calls, concurrency, stop, opts);
    } finally {
      end();
    }
  }

  private async destroyEach(
    calls: readonly (readonly string[])[],
    concurrency: number,
    stop: StopControl,
    opts: DestroyOptions,
  ): Promise<DestroyResult> {
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    const gone: string[] = [];
    const settled = await mapConcurrentUntil(
      calls,
      concurrency,
      async (part) => {
        const result = await this.destroyCall(part, stop, opts.onLateResult);
        if (result === "not-sent") return false;
        done.push(...result.done);
        failed.push(...result.failed);
        gone.push(...(result.gone ?? []));
        await opts.onResult?.(result);
        return true;
      },
      stop.signal,
    );
    const notTried = calls
      .filter((_, i) => settled[i] === undefined || (settled[i]?.status === "fulfilled" && !settled[i].value))
      .flat();
    return { done, failed, gone, notTried };
  }

  /** One destroy call; errors and an abandoned call become failures of its ids. */
  private async destroyCall(
    ids: readonly string[],
    stop: StopControl,
    onLate?: (r: BulkResult) => Promise<void>,
  ): Promise<BulkResult | "not-sent"> {
    const fail = (error: Error): BulkResult => ({ done: [], failed: ids.map((target) => ({ target, error })) });
    try {
      const call =
        ids.length === 1
          ? this.limited("delete", (d) => d.destroyNodes(ids), stop.signal, DELETE_HEDGE)
          : this.call((d) => d.destroyNodes(ids));
      const r = await withinGrace(call, stop);
      if (r.answered) return withGoneFacts(r.value, ids);
      if (onLate) void call.then(onLate, () => undefined);
      return fail(
        new CloudceError(
          "Timeout",
          "abandoned: interrupted while the cloud was deleting it; the next cleanup tries again",
        ),
      );
    } catch (err) {
      if (err instanceof NotSent) return "not-sent";
      return fail(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /**
   * This CE's nodes: the driver filters, and we check again. Listings are timed per prefix and owner
   * (one CE's pages are not another's); once `signal` aborts, a held listing gets no duplicate.
   */
  async listOwn(filter: NodeFilter, signal?: AbortSignal): Promise<CloudNode[]> {
    const kind = `list:${filter.namePrefix} ${filter.metadata[OWNER_KEY] ?? ""}`;
    const nodes = await this.call((d) => this.hedged(d, kind, () => d.listNodes(filter), {}, signal));
    const own = nodes.filter((n) => ownedBy(n, filter));
    this.options.observer?.listed?.(own);
    return own;
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.driver;
    this.driver = undefined;
    if (pending) await pending.then((d) => d.close()).catch(() => undefined);
  }
}

function ownedBy(node: CloudNode, filter: NodeFilter): boolean {
  if (!node.name.startsWith(filter.namePrefix)) return false;
  return Object.entries(filter.metadata).every(([k, v]) => node.metadata[k] === v);
}

/** A driver's `gone` ids, kept only where they are ids of this call it reports done. */
function withGoneFacts(result: BulkResult, ids: readonly string[]): BulkResult {
  if (result.gone === undefined) return result;
  const done = new Set(result.done.filter((id) => ids.includes(id)));
  return { ...result, gone: [...new Set(result.gone)].filter((id) => done.has(id)) };
}
