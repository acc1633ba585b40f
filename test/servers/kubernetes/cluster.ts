/**
 * The stand-in's objects: pods, secrets and resource quotas by namespace,
 * each with a uid and a resourceVersion from one counter, as the API server
 * keeps them. Deleting a pod garbage-collects the objects whose
 * ownerReferences name its uid; a ResourceQuota's `used` is computed from
 * the pods that are not finished.
 */

import { randomUUID } from "node:crypto";
import type { KubeObject, NewObject, ObjectSpec, Pod } from "./objects.js";
import { KubeError } from "./status.js";

export type Kind = "pods" | "secrets" | "resourcequotas";

const KIND_NAMES: Record<Kind, string> = { pods: "Pod", secrets: "Secret", resourcequotas: "ResourceQuota" };

const QUANTITY = /^(\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/;
const UNITS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

export function quantity(v: unknown): number {
  if (typeof v === "number") return v;
  const m = QUANTITY.exec(String(v ?? "0").trim());
  return m ? Number(m[1]) * UNITS[m[2] ?? ""]! : 0;
}

export class Cluster {
  readonly namespaces = new Set<string>(["default"]);
  private readonly objects: Record<Kind, Map<string, KubeObject>> = {
    pods: new Map(),
    secrets: new Map(),
    resourcequotas: new Map(),
  };
  private rv = 100;
  /** Every pod ever created, deleted ones included (the truth the fault campaign checks against). */
  readonly podHistory = new Map<string, KubeObject>();
  /** Continue tokens from before the last compaction are expired (410 Gone), as after an etcd compaction. */
  compactions = 0;
  /** Told when a pod is created or deleted (the kubelet). */
  onPodChange: (pod: Pod, change: "created" | "deleting") => void = () => undefined;

  nextVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  version(): number {
    return this.rv;
  }

  /** Expires every continue token handed out so far. */
  compact(): void {
    this.compactions += 1;
  }

  private key(ns: string, name: string): string {
    return `${ns}/${name}`;
  }

  requireNamespace(ns: string): void {
    if (!this.namespaces.has(ns))
      throw new KubeError(404, "NotFound", `namespaces "${ns}" not found`, { name: ns, kind: "namespaces" });
  }

  get(kind: Kind, ns: string, name: string): KubeObject | undefined {
    return this.objects[kind].get(this.key(ns, name));
  }

  list(kind: Kind, ns: string): KubeObject[] {
    return [...this.objects[kind].values()]
      .filter((o) => o.metadata.namespace === ns)
      .sort((a, b) => String(a.metadata.name).localeCompare(String(b.metadata.name)));
  }

  all(kind: Kind): KubeObject[] {
    return [...this.objects[kind].values()];
  }

  create(kind: Kind, ns: string, body: NewObject): KubeObject {
    this.requireNamespace(ns);
    const name = body?.metadata?.name;
    if (typeof name !== "string" || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(name)) {
      throw new KubeError(
        422,
        "Invalid",
        `${KIND_NAMES[kind]} "${String(name)}" is invalid: metadata.name: Invalid value`,
        { kind, causes: [{ reason: "FieldValueInvalid", field: "metadata.name", message: "Invalid value" }] },
      );
    }
    if (this.objects[kind].has(this.key(ns, name)))
      throw new KubeError(409, "AlreadyExists", `${kind} "${name}" already exists`, { name, kind });
    const obj: KubeObject = {
      ...structuredClone(body),
      apiVersion: "v1",
      kind: KIND_NAMES[kind],
      metadata: {
        ...structuredClone(body.metadata),
        namespace: ns,
        uid: randomUUID(),
        resourceVersion: this.nextVersion(),
        creationTimestamp: new Date().toISOString(),
      },
    };
    this.objects[kind].set(this.key(ns, name), obj);
    if (kind === "pods") {
      this.podHistory.set(obj.metadata.uid, obj);
      this.onPodChange(obj as Pod, "created");
    }
    // An object whose owners are all gone is collected soon after, as the garbage collector does.
    const owners = obj.metadata.ownerReferences ?? [];
    if (owners.length > 0 && !owners.some((r) => this.all("pods").some((p) => p.metadata.uid === r.uid))) {
      setImmediate(() => this.get(kind, ns, name)?.metadata.uid === obj.metadata.uid && this.remove(kind, ns, name));
    }
    return obj;
  }

  /** Bumps an object's resourceVersion after a change. */
  touch(obj: KubeObject): void {
    obj.metadata.resourceVersion = this.nextVersion();
  }

  remove(kind: Kind, ns: string, name: string): void {
    const obj = this.objects[kind].get(this.key(ns, name));
    if (!obj) return;
    this.objects[kind].delete(this.key(ns, name));
    this.collectGarbage(obj.metadata.uid);
  }

  /** Removes what the deleted object owned, as the garbage collector does. */
  private collectGarbage(uid: string): void {
    for (const kind of Object.keys(this.objects) as Kind[]) {
      for (const o of this.all(kind)) {
        if ((o.metadata.ownerReferences ?? []).some((r) => r.uid === uid))
          this.delete(kind, o.metadata.namespace, o.metadata.name);
      }
    }
  }

  /** A delete as the API server takes it: a pod is marked and ends through the kubelet; other objects go at once. */
  delete(kind: Kind, ns: string, name: string): KubeObject {
    const obj = this.get(kind, ns, name);
    if (!obj) throw new KubeError(404, "NotFound", `${kind} "${name}" not found`, { name, kind });
    if (kind !== "pods") {
      this.remove(kind, ns, name);
      return obj;
    }
    if (!obj.metadata.deletionTimestamp) {
      obj.metadata.deletionTimestamp = new Date().toISOString();
      obj.metadata.deletionGracePeriodSeconds = 30;
      this.touch(obj);
      this.onPodChange(obj as Pod, "deleting");
    }
    return obj;
  }

  /** Pod count, CPU and memory requested by the namespace's unfinished pods. */
  usage(ns: string, extra?: { spec?: ObjectSpec }): Record<string, number> {
    const pods: { spec?: ObjectSpec }[] = this.list("pods", ns).filter(
      (p) => p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed",
    );
    if (extra) pods.push(extra);
    const sum = (res: string) =>
      pods.reduce(
        (n, p) => n + (p.spec?.containers ?? []).reduce((m, c) => m + quantity(c.resources?.requests?.[res]), 0),
        0,
      );
    return { pods: pods.length, "requests.cpu": sum("cpu"), "requests.memory": sum("memory") };
  }

  /** A quota with `used` filled in. */
  withUsage(quota: KubeObject): KubeObject {
    const used = this.usage(quota.metadata.namespace);
    const hard = quota.spec?.hard ?? {};
    const shown: Record<string, string> = {};
    for (const k of Object.keys(hard))
      shown[k] = String(k === "requests.memory" ? Math.round(used[k] ?? 0) : Number((used[k] ?? 0).toFixed(3)));
    return { ...quota, status: { hard: { ...hard }, used: shown } };
  }

  /** Refuses a pod that would exceed a quota, as the quota admission plugin does. */
  admit(ns: string, pod: NewObject): void {
    const after = this.usage(ns, pod);
    for (const q of this.list("resourcequotas", ns)) {
      for (const [k, hard] of Object.entries(q.spec?.hard ?? {})) {
        if ((after[k] ?? 0) > quantity(hard)) {
          throw new KubeError(
            403,
            "Forbidden",
            `pods "${pod.metadata?.name}" is forbidden: exceeded quota: ${q.metadata.name}, requested: ${k}, limited: ${k}=${String(hard)}`,
            { name: pod.metadata?.name, kind: "pods" },
          );
        }
      }
    }
  }
}
