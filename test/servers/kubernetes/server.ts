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
import { route } from "./api.js";
import { Cluster, type Kind } from "./cluster.js";
import { Kubelet } from "./kubelet.js";
import type { SiteManifest } from "./objects.js";
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
  applyRole(role: SiteManifest): void;
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
      for (const rule of role.rules ?? []) {
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
