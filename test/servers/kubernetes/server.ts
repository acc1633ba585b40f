/**
 * A Kubernetes API stand-in, written from the API reference: the core/v1
 * REST paths and verbs for pods (with the log subresource), secrets and
 * resource quotas; `Status` objects for failures; label selectors; `limit`
 * and `continue` paging with 410 Gone once the listing is compacted;
 * resourceVersion; ownerReference garbage collection; bearer-token
 * authentication and per-token RBAC denials. Its kubelet really runs each
 * pod's command (kubelet.ts). Faults are injected like the other test
 * clouds': `inject({ call: "create pods", kind: "error", status: 500 })`.
 * Jobs are not served: the driver creates bare pods.
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultQueue, type FaultingServer, type QueuedFault } from "../fault-queue.js";
import { ServerThrottle, type ServerRateLimit } from "../throttle.js";
import { listenLoopback, pause, readBody } from "../http-util.js";
import { Cluster, type Kind, type Obj } from "./cluster.js";
import { Kubelet } from "./kubelet.js";
import { parseSelector } from "./selector.js";
import { KubeError } from "./status.js";

export interface KubeFault extends QueuedFault {
  /** `<verb> <resource>`, e.g. `create pods`, `list pods`, `delete pods`, `get pods/log`; any call when absent. */
  readonly call?: string;
  /** `dropAfter`/`hangAfter`: the call acts, then its answer is lost; `unfiltered`: a listing ignores its label selector. */
  readonly kind:
    | "error"
    | "rateLimit"
    | "drop"
    | "hang"
    | "dropAfter"
    | "hangAfter"
    | "delay"
    | "unauthorized"
    | "unfiltered";
  readonly status?: number;
  readonly retryAfter?: number;
  readonly ms?: number;
  /** With `error`: the field a 422 Status names in `details.causes`. */
  readonly field?: string;
}

export interface KubeServer extends FaultingServer<KubeFault> {
  readonly cluster: Cluster;
  readonly kubelet: Kubelet;
  /** The bearer token the server accepts. */
  readonly token: string;
  /** `verb resource` pairs the token may not do (403). */
  readonly denied: Set<string>;
  /** Allows the token exactly what a Role's rules allow (core group); everything else is 403. */
  applyRole(role: Obj): void;
}

export interface KubeServerOptions {
  readonly token?: string;
  readonly namespaces?: readonly string[];
  /** False: the kubelet starts no process; a pod runs until `kubelet.finish(name)`. */
  readonly runProcesses?: boolean;
  /** Added to every answer (benchmarks). */
  readonly latencyMs?: number;
  /** Server-side throttling: calls over it get 429 (benchmarks). */
  readonly rateLimit?: ServerRateLimit;
}

const ROUTE = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets|resourcequotas)(?:\/([^/]+))?(\/log)?$/;
const VERBS: Record<string, string> = { GET: "get", POST: "create", DELETE: "delete" };

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(code, { "content-type": typeof body === "string" ? "text/plain" : "application/json", ...headers });
  res.end(text);
}

export async function startKubeServer(options: KubeServerOptions = {}): Promise<KubeServer> {
  const cluster = new Cluster();
  for (const ns of options.namespaces ?? []) cluster.namespaces.add(ns);
  const kubelet = new Kubelet(cluster, options.runProcesses ?? true);
  const faults = new FaultQueue<KubeFault>();
  const calls: Record<string, number> = {};
  const denied = new Set<string>();
  let allowed: Set<string> | undefined;
  const token = options.token ?? "stand-in-token-0123456789abcdef";
  const throttle = options.rateLimit ? new ServerThrottle(options.rateLimit) : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const m = ROUTE.exec(url.pathname);
    const method = req.method ?? "GET";
    const resource = m ? `${m[2]}${m[4] ? "/log" : ""}` : "unknown";
    const verb = m && method === "GET" && !m[3] ? "list" : (VERBS[method] ?? method.toLowerCase());
    const call = `${verb} ${resource}`;
    calls[call] = (calls[call] ?? 0) + 1;
    const body = await readBody(req);
    if (options.latencyMs) await pause(options.latencyMs);
    const fault: KubeFault | undefined =
      throttle?.admit() === false
        ? { kind: "rateLimit", retryAfter: 1 }
        : faults.take((f) => f.call === undefined || f.call === call);
    if (fault?.kind === "drop") return void req.socket.destroy();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "delay") await pause(fault.ms ?? 0);
    try {
      if (fault?.kind === "rateLimit")
        throw new KubeError(
          429,
          "TooManyRequests",
          "the server has received too many requests",
          {},
          { "retry-after": String(fault.retryAfter ?? 0) },
        );
      if (fault?.kind === "error") {
        const causes = fault.field
          ? { causes: [{ reason: "FieldValueInvalid", field: fault.field, message: "Invalid value" }] }
          : {};
        throw new KubeError(
          fault.status ?? 500,
          fault.status === 422 ? "Invalid" : "InternalError",
          `injected error ${fault.status ?? 500}`,
          causes,
        );
      }
      if (fault?.kind === "unauthorized" || req.headers.authorization !== `Bearer ${token}`)
        throw new KubeError(401, "Unauthorized", "Unauthorized");
      if (!m) throw new KubeError(404, "NotFound", "the server could not find the requested resource");
      const ns = decodeURIComponent(m[1]!);
      if (denied.has(call) || (allowed !== undefined && !allowed.has(call))) {
        throw new KubeError(
          403,
          "Forbidden",
          `${m[2]} is forbidden: User "system:serviceaccount:${ns}:cloudce" cannot ${verb} resource "${resource}" in API group "" in the namespace "${ns}"`,
          { kind: m[2] },
        );
      }
      if (fault?.kind === "unfiltered") url.searchParams.delete("labelSelector");
      const answer = route(cluster, kubelet, {
        method,
        ns,
        kind: m[2] as Kind,
        name: m[3] ? decodeURIComponent(m[3]) : undefined,
        log: Boolean(m[4]),
        url,
        body,
      });
      if (fault?.kind === "dropAfter") return void req.socket.destroy();
      if (fault?.kind === "hangAfter") return;
      send(res, answer.code, answer.body);
    } catch (err) {
      const e = err instanceof KubeError ? err : new KubeError(500, "InternalError", String(err));
      send(res, e.code, e.toStatus(), e.headers);
    }
  };

  const server = await listenLoopback(handle);
  return {
    url: server.url,
    cluster,
    kubelet,
    token,
    denied,
    calls,
    applyRole: (role) => {
      allowed = new Set();
      for (const rule of role["rules"] ?? []) {
        if (!(rule.apiGroups ?? []).includes("")) continue;
        for (const r of rule.resources ?? []) for (const v of rule.verbs ?? []) allowed.add(`${v} ${r}`);
      }
    },
    inject: (f) => faults.add(f),
    throttled: () => throttle?.refused ?? 0,
    faultsFired: () => faults.fired(),
    inFlight: () => server.inFlight(),
    reset: () => {
      faults.clear();
      for (const k of Object.keys(calls)) delete calls[k];
    },
    close: async () => {
      await server.close();
      await kubelet.close();
    },
  };
}

interface Request {
  readonly method: string;
  readonly ns: string;
  readonly kind: Kind;
  readonly name: string | undefined;
  readonly log: boolean;
  readonly url: URL;
  readonly body: string;
}

function parseBody(text: string): Obj {
  try {
    return JSON.parse(text) as Obj;
  } catch {
    throw new KubeError(400, "BadRequest", "the body of the request was in an unknown format");
  }
}

function route(cluster: Cluster, kubelet: Kubelet, r: Request): { code: number; body: unknown } {
  const shown = (o: Obj): Obj => (r.kind === "resourcequotas" ? cluster.withUsage(o) : o);
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

function logOf(kubelet: Kubelet, pod: Obj, url: URL): string {
  const text = kubelet.logOf(pod);
  if (text === undefined)
    throw new KubeError(
      400,
      "BadRequest",
      `container "${pod.spec.containers[0].name}" in pod "${pod.metadata.name}" is waiting to start: ContainerCreating`,
    );
  const limit = Number(url.searchParams.get("limitBytes") ?? Infinity);
  return Buffer.from(text, "utf8").subarray(0, limit).toString("utf8");
}

function validatePod(pod: Obj): void {
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
function list(cluster: Cluster, r: Request, shown: (o: Obj) => Obj): Obj {
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
