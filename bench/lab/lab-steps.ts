/** The lab benchmark's setting and its untimed steps: the lab, waiting for servers to run or go. */

import { silentLogger } from "../../src/log.js";
import type { Result } from "../../src/ce/index.js";
import type { CloudDriver } from "../../src/drivers/driver.js";
import { createOpenStackDriver } from "../../src/drivers/openstack/index.js";
import type { CountingProxy } from "./counting-proxy.js";

export const PILOTS = 8;

export const LAB = {
  user: "demo",
  password: "secret",
  project: "demo",
  image: "cirros-fake",
  flavor: "m1.tiny",
  network: "private",
};
export function ok<T>(r: Result<T>, what: string): T {
  if (!r.OK) throw new Error(`${what}: ${r.Message}`);
  return r.Value;
}
export const pause = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface Lab {
  readonly proxy: CountingProxy;
  readonly dir: string;
  readonly executable: string;
  /** A driver outside the measurement, for waiting and tidying. */
  readonly observer: CloudDriver;
}

export function labDriver(authUrl: string): CloudDriver {
  return createOpenStackDriver({
    options: { ex_force_auth_url: authUrl, ex_tenant_name: LAB.project },
    credentials: async () => ({ key: LAB.user, secret: LAB.password, extra: {} }),
    ceName: "bench-lab",
    logger: silentLogger,
    requestTimeoutMs: 60_000,
  });
}

/** Waits (untimed) until none of the prefix's servers is left and the quota has them back. */
export async function drained(lab: Lab, prefix: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const left = await lab.observer.listNodes({ namePrefix: prefix, metadata: {} });
    if (left.length === 0) {
      const limits = await lab.observer.getLimits();
      if ((limits.instances ?? PILOTS) >= PILOTS) return;
    } else if (i % 20 === 19) {
      await lab.observer.destroyNodes(left.map((n) => n.id));
    }
    await pause(500);
  }
  throw new Error(`bench:lab: servers of ${prefix} did not go away`);
}

/** Waits (untimed) until all the prefix's servers are ACTIVE: kill and cleanup then act on running pilots, as in production. */
export async function running(lab: Lab, prefix: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const nodes = await lab.observer.listNodes({ namePrefix: prefix, metadata: {} });
    if (nodes.length >= PILOTS && nodes.every((n) => n.state === "running")) return;
    await pause(500);
  }
  throw new Error(`bench:lab: servers of ${prefix} did not all become ACTIVE`);
}

/** Submits 8 and waits (untimed) until they run: the pilots a PilotManager row kills. */
export async function eightRunning(lab: Lab, prefix: string, submit: () => Promise<string[]>): Promise<string[]> {
  const refs = await submit();
  // More is possible on a loaded lab (a create whose answer was lost, then made again by DIRAC's pattern): all are killed.
  if (refs.length < PILOTS) throw new Error(`made ${refs.length} of ${PILOTS} for the PilotManager row`);
  await running(lab, prefix);
  return refs;
}

/**
 * Waits (untimed) until every server of the prefix is older than `seconds`: a cleanup with that
 * Context_MaxLifetime then removes them all, judged at any later moment (a reused status listing's too).
 */
export async function olderThan(lab: Lab, prefix: string, seconds: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const nodes = await lab.observer.listNodes({ namePrefix: prefix, metadata: {} });
    if (nodes.every((n) => Date.now() - n.createdAt.getTime() > seconds * 1000)) return;
    await pause(100);
  }
  throw new Error(`bench:lab: servers of ${prefix} did not grow older than ${seconds} s`);
}
