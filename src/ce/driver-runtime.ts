/**
 * Wraps whichever driver the CE uses. The core never trusts a driver to get
 * lifecycle or ownership right: the driver is built once on first use (a
 * failed build is retried on the next call), refused after shutdown, every
 * call passes the client-side rate limit, and listings are re-filtered so a
 * driver bug can never hand us another CE's VMs.
 */

import { CloudceError } from "../errors.js";
import type { BulkResult, CloudDriver, CloudNode, DriverConfig, NodeFailure, NodeFilter } from "../drivers/driver.js";
import { instantiateDriver, loadDriverFactory } from "../drivers/registry.js";
import { mapConcurrent } from "../util/pool.js";
import { RateLimiter } from "../util/rate-limiter.js";

export interface DriverRuntimeOptions {
  readonly cloudType: string;
  readonly config: DriverConfig;
  readonly callsPerSecond: number;
  /** Where relative user-driver module paths are resolved from. */
  readonly baseDir?: string;
}

export class DriverRuntime {
  private driver: Promise<CloudDriver> | undefined;
  private closed = false;
  private readonly limiter: RateLimiter;

  constructor(private readonly options: DriverRuntimeOptions) {
    this.limiter = new RateLimiter(options.callsPerSecond);
  }

  /** The driver, built on first use. */
  get(): Promise<CloudDriver> {
    if (this.closed) return Promise.reject(new CloudceError("Internal", "the CE has been shut down; create a new one"));
    if (!this.driver) {
      const { cloudType, config, baseDir } = this.options;
      const built = loadDriverFactory(cloudType, baseDir).then((f) => instantiateDriver(f, config, cloudType));
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
   * Destroys nodes: in one driver call where the cloud takes many ids at
   * once, else one id per call, `concurrency` at a time, each call passing
   * the rate limit (a single call for all ids would let the driver fire
   * hundreds of DELETEs at once, past the cloud's throttling).
   */
  async destroy(ids: readonly string[], concurrency: number): Promise<BulkResult> {
    if (ids.length === 0) return { done: [], failed: [] };
    const driver = await this.get();
    if (driver.capabilities.bulkDestroy === true || ids.length === 1) return this.call((d) => d.destroyNodes(ids));
    const settled = await mapConcurrent(ids, concurrency, (id) => this.call((d) => d.destroyNodes([id])));
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    settled.forEach((r, i) => {
      if (r.status === "fulfilled") {
        done.push(...r.value.done);
        failed.push(...r.value.failed);
      } else {
        failed.push({ target: ids[i]!, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) });
      }
    });
    return { done, failed };
  }

  /** This CE's nodes: the driver filters, and we check again. */
  async listOwn(filter: NodeFilter): Promise<CloudNode[]> {
    const nodes = await this.call((d) => d.listNodes(filter));
    return nodes.filter((n) => ownedBy(n, filter));
  }

  async close(): Promise<void> {
    this.closed = true;
    const pending = this.driver;
    this.driver = undefined;
    if (pending) await pending.then((d) => d.close()).catch(() => undefined);
  }
}

export function ownedBy(node: CloudNode, filter: NodeFilter): boolean {
  if (!node.name.startsWith(filter.namePrefix)) return false;
  return Object.entries(filter.metadata).every(([k, v]) => node.metadata[k] === v);
}
