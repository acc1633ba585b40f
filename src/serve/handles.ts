/** The open CEs of one server: one `CloudComputingElement` per handle, kept between calls. */

import { CloudComputingElement } from "../ce/cloud-computing-element.js";
import type { Logger } from "../log.js";
import { RPC_ERRORS, RpcError } from "./protocol.js";

export class HandleTable {
  private readonly open = new Map<string, CloudComputingElement>();
  private next = 1;

  constructor(private readonly logger: Logger) {}

  create(ceName: string): string {
    const handle = `ce-${this.next++}`;
    this.open.set(handle, new CloudComputingElement(ceName, { logger: this.logger }));
    return handle;
  }

  get(handle: string): CloudComputingElement {
    const ce = this.open.get(handle);
    if (!ce) throw new RpcError(RPC_ERRORS.UnknownHandle, `unknown handle '${handle.slice(0, 40)}': call open first (or it was closed)`, { param: "handle" });
    return ce;
  }

  async close(handle: string): Promise<void> {
    const ce = this.get(handle);
    this.open.delete(handle);
    await ce.shutdown();
  }

  /** The longest any open CE may still run after a stop (its Cloud_RequestTimeout). */
  stopGraceMs(): number {
    return Math.max(0, ...[...this.open.values()].map((ce) => ce.stopGraceMs));
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map((ce) => ce.shutdown()));
  }
}
