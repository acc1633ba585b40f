/**
 * Instances: listings filtered by name and labels on the server, 500 a page,
 * over every configured zone; one instance by id; delete, stop, serial port.
 * References carry the numeric instance id only, so the zone of an id is
 * remembered from listings and creations, and otherwise searched.
 */

import { randomUUID } from "node:crypto";
import { isCloudceError } from "../../errors.js";
import { mapConcurrent } from "../../util/pool.js";
import type { BulkResult, CloudNode, NodeFailure, NodeFilter } from "../driver.js";
import type { GceApi } from "./api.js";
import { checkPrefix, toLabels } from "./names.js";
import type { GceSettings } from "./options.js";
import { isSpot, toCloudNode, zoneName, type GceInstance } from "./state-map.js";

export const PAGE_SIZE = 500;

/**
 * A partial response: listings need neither the metadata (each VM's
 * user-data, up to 256 KB) nor disks and interfaces. 1000 VMs are then a
 * few hundred KB instead of tens of MB.
 */
export const LIST_FIELDS = "nextPageToken,items(id,name,zone,status,creationTimestamp,lastStartTimestamp,lastStopTimestamp,labels,scheduling(provisioningModel,preemptible))";

interface Page<T> {
  readonly items?: readonly T[];
  readonly nextPageToken?: string;
}

interface OperationRecord {
  readonly targetId?: string;
}

/** Every page of a list call. */
export async function allPages<T>(api: GceApi, path: string, query: Readonly<Record<string, string | number | undefined>>): Promise<T[]> {
  const out: T[] = [];
  let pageToken: string | undefined;
  do {
    const page = await api.require<Page<T>>({ method: "GET", path, query: { ...query, maxResults: PAGE_SIZE, pageToken } });
    out.push(...(page.items ?? []));
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
  return out;
}

/** The regex filter of a listing: `(name eq "prefix.*") (labels.k eq "v")`; names and labels hold no regex syntax. */
export function listFilter(namePattern: string, labels: Readonly<Record<string, string>>): string {
  return [`(name eq "${namePattern}")`, ...Object.entries(labels).map(([k, v]) => `(labels.${k} eq "${v}")`)].join(" ");
}

export class GceInstances {
  /** Instance id → zone. */
  private readonly zoneOf = new Map<string, string>();

  constructor(private readonly api: GceApi, private readonly settings: GceSettings) {}

  remember(instances: readonly GceInstance[]): void {
    for (const i of instances) this.zoneOf.set(i.id, zoneName(i.zone) || this.settings.zones[0]!);
  }

  /** Raw instances whose names fully match `namePattern` (a regex) and carry the labels, in every zone. */
  async find(namePattern: string, labels: Readonly<Record<string, string>>): Promise<GceInstance[]> {
    const filter = listFilter(namePattern, labels);
    const perZone = await mapConcurrent(this.settings.zones, this.settings.zones.length, (zone) =>
      allPages<GceInstance>(this.api, `zones/${zone}/instances`, { filter, fields: LIST_FIELDS }),
    );
    const found = perZone.flatMap((r) => {
      if (r.status === "rejected") throw r.reason;
      return r.value;
    });
    this.remember(found);
    return found;
  }

  async list(filter: NodeFilter): Promise<CloudNode[]> {
    checkPrefix(filter.namePrefix);
    const instances = await this.find(`${filter.namePrefix}.*`, toLabels(filter.metadata));
    const preempted = await this.preemptedAmong(instances);
    return instances.map((i) => toCloudNode(i, preempted, filter.metadata));
  }

  async get(id: string): Promise<CloudNode | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    for (const zone of this.zonesFor(id)) {
      const instance = await this.api.call<GceInstance>({ method: "GET", path: `zones/${zone}/instances/${id}`, notFoundIsEmpty: true });
      if (instance) {
        this.remember([instance]);
        return toCloudNode(instance, await this.preemptedAmong([instance]));
      }
    }
    return undefined;
  }

  /** One DELETE per id (GCE has no bulk delete); an id that is gone counts as done. */
  destroy(ids: readonly string[]): Promise<BulkResult> {
    return this.perId(ids, (zone, id) => ({ method: "DELETE", path: `zones/${zone}/instances/${id}`, query: { requestId: randomUUID() } }));
  }

  stop(ids: readonly string[]): Promise<BulkResult> {
    return this.perId(ids, (zone, id) => ({ method: "POST", path: `zones/${zone}/instances/${id}/stop`, query: { requestId: randomUUID() } }));
  }

  async serialOutput(id: string): Promise<string> {
    for (const zone of this.zonesFor(id)) {
      const out = await this.api.call<{ contents?: string }>({ method: "GET", path: `zones/${zone}/instances/${id}/serialPort`, query: { port: 1 }, notFoundIsEmpty: true });
      if (out) return out.contents ?? "";
    }
    return "";
  }

  /** The zone it was seen in first, then the others. */
  private zonesFor(id: string): string[] {
    const known = this.zoneOf.get(id);
    return known ? [known, ...this.settings.zones.filter((z) => z !== known)] : [...this.settings.zones];
  }

  private async perId(ids: readonly string[], call: (zone: string, id: string) => Parameters<GceApi["call"]>[0]): Promise<BulkResult> {
    const unique = [...new Set(ids)];
    // The CE bounds concurrency by handing one id per call; a direct caller gets a small pool.
    const settled = await mapConcurrent(unique, 4, async (id) => {
      if (!/^\d+$/.test(id)) return;
      for (const zone of this.zonesFor(id)) {
        if ((await this.api.call({ ...call(zone, id), notFoundIsEmpty: true })) !== undefined) return;
      }
    });
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    settled.forEach((r, i) => {
      const id = unique[i]!;
      if (r.status === "fulfilled" || isCloudceError(r.reason, "NodeNotFound")) done.push(id);
      else failed.push({ target: id, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) });
    });
    return { done, failed };
  }

  /** Ids of stopped spot VMs that GCE preempted (zone operations of type compute.instances.preempted). */
  private async preemptedAmong(instances: readonly GceInstance[]): Promise<Set<string>> {
    const suspects = instances.filter((i) => isSpot(i) && i.status !== "RUNNING");
    if (suspects.length === 0) return new Set();
    const zones = [...new Set(suspects.map((i) => zoneName(i.zone) || this.settings.zones[0]!))];
    const ops = await mapConcurrent(zones, zones.length, (zone) =>
      allPages<OperationRecord>(this.api, `zones/${zone}/operations`, { filter: '(operationType eq "compute.instances.preempted")' }),
    );
    return new Set(ops.flatMap((r) => (r.status === "fulfilled" ? r.value.map((o) => o.targetId ?? "") : [])));
  }
}
