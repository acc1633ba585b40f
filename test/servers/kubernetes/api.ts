/** The API server's answers for pods, secrets and quotas: create, get, delete, list with paging, a pod's log. */

import type { Cluster, Kind } from "./cluster.js";
import type { Kubelet } from "./kubelet.js";
import type { KubeObject, NewObject } from "./objects.js";
import { parseSelector } from "./selector.js";
import { KubeError } from "./status.js";

export interface Request {
  readonly method: string;
  readonly ns: string;
  readonly kind: Kind;
  readonly name: string | undefined;
  readonly log: boolean;
  readonly url: URL;
  readonly body: string;
}

function parseBody(text: string): NewObject {
  try {
    return JSON.parse(text) as NewObject;
  } catch {
    throw new KubeError(400, "BadRequest", "the body of the request was in an unknown format");
  }
}

export function route(cluster: Cluster, kubelet: Kubelet, r: Request): { code: number; body: unknown } {
  const shown = (o: KubeObject): KubeObject => (r.kind === "resourcequotas" ? cluster.withUsage(o) : o);
  if (r.method === "GET" && r.name === undefined) return { code: 200, body: list(cluster, r, shown) };
  if (r.method === "POST" && r.name === undefined) {
    const body = parseBody(r.body);
    if (r.kind === "pods") validatePod(body);
    if (r.kind === "pods") cluster.admit(r.ns, body);
    return { code: 201, body: shown(cluster.create(r.kind, r.ns, body)) };
  }
  if (r.name === undefined)
    throw new KubeError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
  const obj = cluster.get(r.kind, r.ns, r.name);
  if (!obj) throw new KubeError(404, "NotFound", `${r.kind} "${r.name}" not found`, { name: r.name, kind: r.kind });
  if (r.method === "GET" && r.log) return { code: 200, body: logOf(kubelet, obj, r.url) };
  if (r.method === "GET") return { code: 200, body: shown(obj) };
  if (r.method === "DELETE") return { code: 200, body: cluster.delete(r.kind, r.ns, r.name) };
  throw new KubeError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

function logOf(kubelet: Kubelet, pod: KubeObject, url: URL): string {
  const text = kubelet.logOf(pod);
  if (text === undefined)
    throw new KubeError(
      400,
      "BadRequest",
      `container "${pod.spec?.containers?.[0]?.name}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
    );
  const limit = Number(url.searchParams.get("limitBytes") ?? Infinity);
  return Buffer.from(text, "utf8").subarray(0, limit).toString("utf8");
}

function validatePod(pod: NewObject): void {
  const containers = pod?.spec?.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    throw new KubeError(422, "Invalid", `Pod "${pod?.metadata?.name}" is invalid: spec.containers: Required value`, {
      kind: "Pod",
      causes: [{ reason: "FieldValueRequired", field: "spec.containers", message: "Required value" }],
    });
  }
  for (const [i, c] of containers.entries()) {
    if (!c.image) {
      throw new KubeError(
        422,
        "Invalid",
        `Pod "${pod.metadata?.name}" is invalid: spec.containers[${i}].image: Required value`,
        {
          kind: "Pod",
          causes: [{ reason: "FieldValueRequired", field: `spec.containers[${i}].image`, message: "Required value" }],
        },
      );
    }
  }
}

/** One page of a listing: items after the continue token's name, at most `limit`, all at the listing's resourceVersion. */
function list(cluster: Cluster, r: Request, shown: (o: KubeObject) => KubeObject): unknown {
  let select: (labels: Readonly<Record<string, string>>) => boolean;
  try {
    select = parseSelector(r.url.searchParams.get("labelSelector"));
  } catch (err) {
    throw new KubeError(400, "BadRequest", `unable to parse requirement: ${String(err)}`);
  }
  const token = r.url.searchParams.get("continue");
  let after = "";
  let listVersion = cluster.version();
  if (token) {
    const parsed = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as {
      rv: number;
      start: string;
      epoch: number;
    };
    if (parsed.epoch !== cluster.compactions)
      throw new KubeError(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.",
      );
    after = parsed.start;
    listVersion = parsed.rv;
  }
  const limit = Number(r.url.searchParams.get("limit") ?? 0);
  const all = cluster
    .list(r.kind, r.ns)
    .filter((o) => select(o.metadata.labels ?? {}) && String(o.metadata.name) > after);
  const items = limit > 0 ? all.slice(0, limit) : all;
  const more = limit > 0 && all.length > limit;
  const next = more
    ? Buffer.from(
        JSON.stringify({ rv: listVersion, start: items[items.length - 1]!.metadata.name, epoch: cluster.compactions }),
      ).toString("base64")
    : undefined;
  const kindName = { pods: "PodList", secrets: "SecretList", resourcequotas: "ResourceQuotaList" }[r.kind];
  return {
    kind: kindName,
    apiVersion: "v1",
    metadata: {
      resourceVersion: String(listVersion),
      ...(next ? { continue: next, remainingItemCount: all.length - items.length } : {}),
    },
    items: items.map(shown),
  };
}
