/** The open CEs of one server: one `CloudComputingElement` per handle, kept between calls. */

import { CloudComputingElement } from "../ce/cloud-computing-element.js";
import type { Logger } from "../log.js";
import { RPC_ERRORS, RpcError } from "./protocol.js";

export class HandleTable {
  private readonly open = new Map<string, CloudComputingElement>();
  /** Calls still running per handle: a close waits for them before it shuts the CE down. */
  private readonly running = new Map<string, Set<Promise<unknown>>>();
  /** CEs closed but still finishing calls (they count for the drain). */
  private readonly closing = new Set<CloudComputingElement>();
  private next = 1;

  constructor(private readonly logger: Logger) {}

  create(ceName: string): string {
    const handle = `ce-${this.next++}`;
    this.open.set(handle, new CloudComputingElement(ceName, { logger: this.logger }));
    return handle;
  }

  get(handle: string): CloudComputingElement {
    const ce = this.open.get(handle);
    if (!ce)
      throw new RpcError(
        RPC_ERRORS.UnknownHandle,
        `unknown handle '${handle.slice(0, 40)}': call open first (or it was closed)`,
        { param: "handle" },
      );
    return ce;
  }

  /** Counts `work` as running on `handle` until it settles. */
  track<T>(handle: string, work: Promise<T>): Promise<T> {
    const calls = this.running.get(handle) ?? new Set<Promise<unknown>>();
    this.running.set(handle, calls);
    calls.add(work);
    const done = (): void => {
      calls.delete(work);
      if (calls.size === 0 && this.running.get(handle) === calls) this.running.delete(handle);
    };
    work.then(done, done);
    return work;
  }

  /**
   * Forgets the handle at once (later calls on it are refused), then shuts
   * the CE down once the calls already running on it have settled: a client
   * that gave up waiting must not cut a submission or a cleanup short.
   */
  async close(handle: string): Promise<void> {
    const ce = this.get(handle);
    this.open.delete(handle);
    this.closing.add(ce);
    try {
      await Promise.allSettled([...(this.running.get(handle) ?? [])]);
      await ce.shutdown();
    } finally {
      this.closing.delete(ce);
    }
  }

  /** The longest any open CE may still run after a stop (its Cloud_RequestTimeout). */
  stopGraceMs(): number {
    return Math.max(0, ...[...this.open.values(), ...this.closing].map((ce) => ce.stopGraceMs));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map((ce) => ce.shutdown()));
  }
}
