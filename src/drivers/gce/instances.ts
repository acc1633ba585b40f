/**
 * Instances: listings filtered by name and labels on the server, 500 a page,
 * over every configured zone; one instance by id; delete, stop, serial port.
 * References carry the numeric instance id only, so the zone of an id is
 * remembered from listings and creations, and otherwise searched.
 *
 * The server's filter only narrows a listing: every instance that comes back
 * is checked here against the name pattern and the labels, so a cloud (or a
 * proxy) that drops the filter never hands over another owner's VM. GCE's
 * filter reference says constraints on several fields cannot be combined
 * with regular expressions: a cloud that refuses the combined filter gets
 * the name's alone from then on, and the labels are checked here only.
 */

import { randomUUID } from "node:crypto";
import { isCloudceError, toCloudceError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { mapConcurrent, mapGated } from "../../util/pool.js";
import type { BulkResult, CallLimit, CloudNode, NodeFailure, NodeFilter } from "../driver.js";
import { followPages } from "../paging.js";
import type { GceApi } from "./api.js";
import { checkPrefix, toLabels } from "./names.js";
import { DRIVER_NAME, type GceSettings } from "./options.js";
import { isSpot, toCloudNode, zoneName, type GceInstance } from "./state-map.js";

export const PAGE_SIZE = 500;

/**
 * A partial response: listings need neither the metadata (each VM's
 * user-data, up to 256 KB) nor disks and interfaces. 1000 VMs are then a
 * few hundred KB instead of tens of MB.
 */
export const LIST_FIELDS =
  "nextPageToken,items(id,name,zone,status,creationTimestamp,lastStartTimestamp,lastStopTimestamp,labels,scheduling(provisioningModel,preemptible))";

interface Page<T> {
  readonly items?: readonly T[];
  readonly nextPageToken?: string;
}

interface OperationRecord {
  readonly targetId?: string;
}

/** Every page of a list call. */
export function allPages<T>(
  api: GceApi,
  path: string,
  query: Readonly<Record<string, string | number | undefined>>,
): Promise<T[]> {
  return followPages(
    async (pageToken) => {
      const page = await api.require<Page<T>>({
        method: "GET",
        path,
        query: { ...query, maxResults: PAGE_SIZE, pageToken },
      });
      return { items: page.items ?? [], next: page.nextPageToken };
    },
    { driver: DRIVER_NAME, what: `GCE GET ${path}`, cursor: "pageToken" },
  );
}

/** The regex filter of a listing: `(name eq "prefix.*") (labels.k eq "v")`; names and labels hold no regex syntax. */
export function listFilter(namePattern: string, labels: Readonly<Record<string, string>>): string {
  return [`(name eq "${namePattern}")`, ...Object.entries(labels).map(([k, v]) => `(labels.${k} eq "${v}")`)].join(" ");
}

/** The filter on the name alone: one regular expression on one field, which every form of GCE's filter takes. */
function nameFilter(namePattern: string): string {
  return `name eq "${namePattern}"`;
}

/** Whether an instance fully matches the name pattern and carries every label (what the filter asked the server for). */
function matchesListing(instance: GceInstance, namePattern: RegExp, labels: Readonly<Record<string, string>>): boolean {
  return namePattern.test(instance.name) && Object.entries(labels).every(([k, v]) => instance.labels?.[k] === v);
}

/** A filter the cloud refused as such (HTTP 400, reason `invalid`), not a failure of the listing. */
function filterRefused(err: unknown): boolean {
  return isCloudceError(err) && (err.status === "invalid" || err.status === 400);
}

export class GceInstances {
  /** Instance id → zone. */
  private readonly zoneOf = new Map<string, string>();
  /** Set once the cloud refused a filter combining the name's regex with the labels. */
  private nameOnly = false;
  /** Whether a failed preemption look-up was logged already (once per driver). */
  private preemptionWarned = false;

  constructor(
    private readonly api: GceApi,
    private readonly settings: GceSettings,
    private readonly logger: Logger,
    private readonly onLookupFailed: (lookup: string) => void = () => undefined,
    /** The CE's concurrency limit for calls made one VM at a time. */
    private readonly limit: CallLimit,
  ) {}

  remember(instances: readonly GceInstance[]): void {
    for (const i of instances) this.zoneOf.set(i.id, zoneName(i.zone) || this.settings.zones[0]!);
  }

  /** Raw instances whose names fully match `namePattern` (a regex) and carry the labels, in every zone. */
  async find(namePattern: string, labels: Readonly<Record<string, string>>): Promise<GceInstance[]> {
    const pattern = new RegExp(`^(?:${namePattern})$`);
    let listed: GceInstance[];
    if (this.nameOnly || Object.keys(labels).length === 0) listed = await this.listZones(nameFilter(namePattern));
    else {
      try {
        listed = await this.listZones(listFilter(namePattern, labels));
      } catch (err) {
        if (!filterRefused(err)) throw err;
        this.nameOnly = true;
        this.logger.warn(
          "GCE refuses a listing filter on the name and labels together: the cloud filters by name, and the labels are checked here",
          { reason: toCloudceError(err).message },
        );
        listed = await this.listZones(nameFilter(namePattern));
      }
    }
    const found = listed.filter((i) => matchesListing(i, pattern, labels));
    this.remember(found);
    return found;
  }

  private async listZones(filter: string): Promise<GceInstance[]> {
    const perZone = await mapConcurrent(this.settings.zones, this.settings.zones.length, (zone) =>
      allPages<GceInstance>(this.api, `zones/${zone}/instances`, { filter, fields: LIST_FIELDS }),
    );
    return perZone.flatMap((r) => {
      if (r.status === "rejected") throw r.reason;
      return r.value;
    });
  }

  async list(filter: NodeFilter): Promise<CloudNode[]> {
    checkPrefix(filter.namePrefix);
    const instances = await this.find(`${filter.namePrefix}.*`, toLabels(filter.metadata));
    const preempted = await this.preemptedAmong(instances);
    // Values the caller recognises read back from labels that could keep them only hashed.
    const known = { ...filter.recognise, ...filter.metadata };
    return instances.map((i) => toCloudNode(i, preempted, known));
  }

  async get(id: string): Promise<CloudNode | undefined> {
    if (!/^\d+$/.test(id)) return undefined;
    for (const zone of this.zonesFor(id)) {
      const instance = await this.api.call<GceInstance>({
        method: "GET",
        path: `zones/${zone}/instances/${id}`,
        notFoundIsEmpty: true,
      });
      if (instance) {
        this.remember([instance]);
        return toCloudNode(instance, await this.preemptedAmong([instance]));
      }
    }
    return undefined;
  }

  /** One DELETE per id (GCE has no bulk delete); an id that is gone counts as done. */
  destroy(ids: readonly string[]): Promise<BulkResult> {
    return this.perId(ids, "delete", (zone, id) => ({
      method: "DELETE",
      path: `zones/${zone}/instances/${id}`,
      query: { requestId: randomUUID() },
    }));
  }

  stop(ids: readonly string[]): Promise<BulkResult> {
    return this.perId(ids, "stop", (zone, id) => ({
      method: "POST",
      path: `zones/${zone}/instances/${id}/stop`,
      query: { requestId: randomUUID() },
    }));
  }

  async consoleOutput(id: string): Promise<string> {
    for (const zone of this.zonesFor(id)) {
      const out = await this.api.call<{ contents?: string }>({
        method: "GET",
        path: `zones/${zone}/instances/${id}/serialPort`,
        query: { port: 1 },
        notFoundIsEmpty: true,
      });
      if (out) return out.contents ?? "";
    }
    return "";
  }

  /** The zone it was seen in first, then the others. */
  private zonesFor(id: string): string[] {
    const known = this.zoneOf.get(id);
    return known ? [known, ...this.settings.zones.filter((z) => z !== known)] : [...this.settings.zones];
  }

  private async perId(
    ids: readonly string[],
    kind: "delete" | "stop",
    call: (zone: string, id: string) => Parameters<GceApi["call"]>[0],
  ): Promise<BulkResult> {
    const unique = [...new Set(ids)];
    // Each id within the CE's limit (a call the CE already limited does not wait again).
    const gate = <T>(work: () => Promise<T>): Promise<T> => this.limit(kind, work);
    // Found in a zone, or gone: not found in any (a 404 everywhere).
    const settled = await mapGated(unique, gate, async (id): Promise<"found" | "gone"> => {
      if (!/^\d+$/.test(id)) return "gone";
      for (const zone of this.zonesFor(id)) {
        if ((await this.api.call({ ...call(zone, id), notFoundIsEmpty: true })) !== undefined) return "found";
      }
      return "gone";
    });
    const done: string[] = [];
    const failed: NodeFailure[] = [];
    const gone: string[] = [];
    settled.forEach((r, i) => {
      const id = unique[i]!;
      if (r === undefined) return;
      if (r.status === "fulfilled" || isCloudceError(r.reason, "NodeNotFound")) done.push(id);
      else failed.push({ target: id, error: r.reason instanceof Error ? r.reason : new Error(String(r.reason)) });
      if (
        (r.status === "fulfilled" && r.value === "gone") ||
        (r.status === "rejected" && isCloudceError(r.reason, "NodeNotFound"))
      )
        gone.push(id);
    });
    return { done, failed, gone };
  }

  /**
   * Ids of stopped spot VMs that GCE preempted (zone operations of type
   * compute.instances.preempted). A zone whose operations cannot be listed
   * (a role without compute.zoneOperations.list) leaves its preempted VMs
   * reading as stopped, i.e. Done instead of Aborted: that is logged once
   * per driver and counted every time.
   */
  private async preemptedAmong(instances: readonly GceInstance[]): Promise<Set<string>> {
    const suspects = instances.filter((i) => isSpot(i) && i.status !== "RUNNING");
    if (suspects.length === 0) return new Set();
    const zones = [...new Set(suspects.map((i) => zoneName(i.zone) || this.settings.zones[0]!))];
    const ops = await mapConcurrent(zones, zones.length, (zone) =>
      allPages<OperationRecord>(this.api, `zones/${zone}/operations`, {
        filter: '(operationType eq "compute.instances.preempted")',
      }),
    );
    const failed = ops.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) this.preemptionUnknown(failed.reason);
    return new Set(ops.flatMap((r) => (r.status === "fulfilled" ? r.value.map((o) => o.targetId ?? "") : [])));
  }

  private preemptionUnknown(reason: unknown): void {
    this.onLookupFailed("preemptions");
    if (this.preemptionWarned) return;
    this.preemptionWarned = true;
    const e = toCloudceError(reason, "CloudError");
    this.logger.warn(
      "cannot list GCE preemptions: a preempted spot VM reads as stopped (DIRAC: Done, not Aborted) until this works; " +
        "grant compute.zoneOperations.list (e.g. roles/compute.instanceAdmin.v1)",
      { code: e.code, reason: e.message },
    );
  }
}
