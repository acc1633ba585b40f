/**
 * Boot timeout (`Instance_MaxBootSeconds`, 0 = off): a VM still booting that
 * long after its creation will not start a pilot; it reads Aborted and
 * cleanup removes it with reason `boot-timeout`.
 */

import type { CloudNode } from "../drivers/driver.js";

export function bootTimedOut(node: CloudNode, maxBootSeconds: number, nowMs: number): boolean {
  return maxBootSeconds > 0 && node.state === "booting" && nowMs - node.createdAt.getTime() > maxBootSeconds * 1000;
}
