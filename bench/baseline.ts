/**
 * The serial baseline: DIRAC's CloudComputingElement call pattern, on the
 * very driver the CE uses. Per submitJob call it lists images, flavors and
 * networks in full, then creates one VM after another (on OpenStack each
 * create is a POST and a GET of the new server, as libcloud's create_node
 * does); it asks for each pilot's status with one GET; it destroys one VM
 * after another.
 *
 * With `sample`, only the first `sample` steps run and the rest is scaled
 * from steps 2..sample (the first one also pays for the login), so that a
 * quick run stays quick. Results say so.
 */

import { randomUUID } from "node:crypto";
import type { ContextRenderer } from "../src/context/index.js";
import { encodeUserData, newStamp } from "../src/context/index.js";
import type { CloudDriver, CloudResource, NodeFilter } from "../src/drivers/driver.js";
import { newVmName } from "../src/ce/pilot-reference.js";
import { loadNameRule } from "../src/drivers/registry.js";
import { OWNER_KEY, QUEUE_KEY } from "../src/ce/ownership.js";
import type { BenchCloud } from "./cloud.js";
import { measure } from "./measure.js";

export interface SerialRun {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly cloudCalls: number;
  readonly throttled: number;
  readonly byRoute: Readonly<Record<string, number>>;
  /** Response bytes the cloud sent (OpenStack). */
  readonly bytes?: number;
  readonly extrapolated?: { readonly sampled: number; readonly of: number };
}

export interface SerialSpec<I> {
  /** Done once before the steps (e.g. the listing that decides what to destroy). */
  readonly fixed?: () => Promise<void>;
  /** The items, read after `fixed`. */
  readonly items: () => readonly I[];
  readonly step: (item: I) => Promise<void>;
  /** Run only this many steps and scale up (`--quick`). */
  readonly sample?: number;
}

/** Runs `fixed`, then one step per item, one after another. The clock stops while the cloud host is asked for counts. */
export async function serial<I>(cloud: BenchCloud, spec: SerialSpec<I>): Promise<SerialRun> {
  await cloud.resetCounts();
  let items: readonly I[] = [];
  const head = await measure(async () => {
    await spec.fixed?.();
    items = spec.items();
    if (items.length > 0) await spec.step(items[0]!);
  });
  const n = spec.sample === undefined ? items.length : Math.min(items.length, Math.max(2, spec.sample));
  const afterHead = await cloud.counts();
  const tail = await measure(async () => {
    for (let i = 1; i < n; i++) await spec.step(items[i]!);
  });
  const end = await cloud.counts();
  // Steps 2..n stand for steps 2..N (step 1 also paid for the login).
  const scale = n > 1 ? (items.length - 1) / (n - 1) : 1;
  return {
    wallMs: head.wallMs + tail.wallMs * scale,
    cpuMs: head.cpuMs + tail.cpuMs * scale,
    cloudCalls: Math.round(afterHead.total + (end.total - afterHead.total) * scale),
    throttled: Math.round(afterHead.throttled + (end.throttled - afterHead.throttled) * scale),
    byRoute: end.byRoute,
    ...(end.bytes === undefined
      ? {}
      : { bytes: Math.round((afterHead.bytes ?? 0) + (end.bytes - (afterHead.bytes ?? 0)) * scale) }),
    ...(n < items.length ? { extrapolated: { sampled: n, of: items.length } } : {}),
  };
}

export interface ResourceNames {
  readonly image: string;
  readonly flavor: string;
  readonly network: string;
}

/** As DIRAC picks a resource: list everything, take the first with that name (or id). */
function pick<R extends CloudResource>(all: readonly R[], wanted: string, what: string): R {
  const name = wanted.startsWith("name:") ? wanted.slice(5) : wanted;
  const found = all.find((r) => r.name === name || r.id === name);
  if (!found) throw new Error(`baseline: no ${what} ${wanted}`);
  return found;
}

export interface BaselineSubmit {
  readonly driver: CloudDriver;
  readonly renderer: ContextRenderer;
  readonly executable: string;
  readonly names: ResourceNames;
  readonly ceName: string;
  readonly queue: string;
  readonly namePrefix: string;
}

/** What DIRAC resolves once per submitJob call (`instParams`), by listing everything. */
export interface ResolvedIds {
  readonly imageId: string;
  readonly flavorId: string;
  readonly networkId: string;
}

/** DIRAC-style resolution for one submitJob call: three full listings. */
export async function resolveOnce(b: BaselineSubmit): Promise<ResolvedIds> {
  const image = pick(await b.driver.listImages(), b.names.image, "image");
  const flavor = pick(await b.driver.listFlavors(), b.names.flavor, "flavor");
  const network = pick(await b.driver.listNetworks(), b.names.network, "network");
  return { imageId: image.id, flavorId: flavor.id, networkId: network.id };
}

/** One pilot of that call: render, then one create, waited for before the next. */
export async function createOne(b: BaselineSubmit, ids: ResolvedIds): Promise<void> {
  // The CE names VMs by the cloud's rule (GCE, Azure, Kubernetes: lower case); the driver takes the name as given.
  const name = newVmName(b.namePrefix, (await loadNameRule(b.driver.name))?.lowerCase === true);
  const stamp = newStamp();
  const text = b.renderer.render({
    executable: b.executable,
    stamp: { literal: stamp },
    ceName: b.ceName,
    queue: b.queue,
    vmName: name,
    extPackages: [],
    options: {},
  });
  const userData = encodeUserData(text, b.driver.capabilities.userData);
  const metadata = { [OWNER_KEY]: b.ceName, [QUEUE_KEY]: b.queue, "cloudce-stamp": stamp };
  const result = await b.driver.createNodes({
    imageId: ids.imageId,
    flavorId: ids.flavorId,
    networkIds: [ids.networkId],
    nodes: [{ name, userData, metadata }],
    requestId: randomUUID(),
  });
  if (result.created.length !== 1)
    throw new Error(`baseline: create failed: ${result.failed[0]?.error.message ?? "no node"}`);
  // libcloud's OpenStack create_node reads the new server back before returning it.
  if (b.driver.name === "OPENSTACK") await b.driver.getNode(result.created[0]!.id);
}

/** Every node of the CE: what DIRAC's getCEStatus / cleanup start from. */
export function ceFilter(ceName: string, namePrefix: string): NodeFilter {
  return { namePrefix, metadata: { [OWNER_KEY]: ceName } };
}
