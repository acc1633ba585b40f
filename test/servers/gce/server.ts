/**
 * A test-tree Compute Engine on 127.0.0.1: the Compute v1 REST resources of
 * routes.ts, and identity.ts's OAuth 2.0 token endpoint (`/token`) and
 * metadata server (`/computeMetadata/v1/…`, for GCE_METADATA_HOST). Every
 * API call needs a bearer token it issued. Beyond
 * that it injects faults (errors, rateLimitExceeded, 401, dropped
 * connections, hangs, latency, operations that fail or never finish),
 * counts calls per method and keeps every request.
 *
 *   const gce = await startGceServer();
 *   gce.inject({ call: "instances.bulkInsert", kind: "rateLimit", times: 2 });
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultQueue, type FaultingServer } from "../fault-queue.js";
import { listenLoopback, pause, readBody } from "../http-util.js";
import { ServerThrottle, type ServerRateLimit } from "../throttle.js";
import type { OperationFault } from "./bulk-insert.js";
import { GceCloud } from "./cloud.js";
import { GceFault, type GceCloudOptions } from "./records.js";
import { FieldsError, parseFields, project } from "./fields.js";
import { Identity } from "./identity.js";
import { match } from "./routes.js";

export interface GceServerOptions extends GceCloudOptions {
  readonly latencyMs?: number;
  /** Most items a list page holds, whatever maxResults says (default 500, GCE's maximum). */
  readonly pageSize?: number;
  readonly recordRequests?: boolean;
  readonly rateLimit?: ServerRateLimit;
  /** Seconds an issued token lives (default 3600). */
  readonly tokenLifetimeSeconds?: number;
}

/**
 * A fault for the next `times` calls of `call` (a discovery method name such
 * as `instances.bulkInsert`, or `token`; default any API call):
 * - `error`: answer `status` with `reason` without acting;
 * - `rateLimit`: 403 `rateLimitExceeded`, GCE's throttling answer;
 * - `unauthorized`: 401, as for a revoked or expired token;
 * - `drop` / `hang`: close the connection, or never answer;
 * - `dropAfter` / `hangAfter`: act, then drop or hang (the client cannot know it worked);
 * - `delay`: wait `ms` first;
 * - `operationError`: a bulk insert whose operation ends DONE with error `code` (nothing created);
 * - `stuckOperation`: a bulk insert whose operation never leaves RUNNING (its VMs are created);
 * - `uncountedOperation`: a bulk insert whose operation creates its VMs but, DONE, says no counts (no perLocationStatus);
 * - `unfiltered`: a list answered as if it had no filter.
 */
export interface GceFaultSpec {
  readonly call?: string;
  readonly kind:
    | "error"
    | "rateLimit"
    | "unauthorized"
    | "drop"
    | "hang"
    | "dropAfter"
    | "hangAfter"
    | "delay"
    | "operationError"
    | "stuckOperation"
    | "uncountedOperation"
    | "unfiltered";
  readonly times?: number;
  readonly status?: number;
  readonly reason?: string;
  readonly code?: string;
  readonly ms?: number;
  /** Runs when the fault fires, before the call is answered (e.g. to change the cloud between two pages). */
  readonly before?: () => void;
}

export interface GceRequestRecord {
  readonly call: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface GceServer extends FaultingServer<GceFaultSpec> {
  /** The Compute API base for Driver_endpoint. */
  readonly endpoint: string;
  /** The token endpoint, for a key file's token_uri. */
  readonly tokenUri: string;
  /** `127.0.0.1:<port>`, for GCE_METADATA_HOST. */
  readonly metadataHost: string;
  readonly cloud: GceCloud;
  readonly requests: GceRequestRecord[];
  /** Accepts assertions signed by this key for this account. */
  addServiceAccount(email: string, publicKeyPem: string): void;
  addRefreshToken(token: string): void;
  /** The metadata server answers as it would on this VM (id, zone, hostname, attributes). */
  actAsVm(id: string): void;
  /** Tokens issued so far (for tests of renewal). */
  issuedTokens(): number;
}

const OPERATION_FAULTS = new Set(["operationError", "stuckOperation", "uncountedOperation"]);

export async function startGceServer(options: GceServerOptions = {}): Promise<GceServer> {
  const cloud = new GceCloud(options);
  const calls: Record<string, number> = {};
  const requests: GceRequestRecord[] = [];
  const faults = new FaultQueue<GceFaultSpec>();
  const throttle = options.rateLimit ? new ServerThrottle(options.rateLimit) : undefined;
  let url = "";
  const identity = new Identity(cloud, () => `${url}/token`, options.tokenLifetimeSeconds ?? 3600);

  const takeFault = (call: string, operation: boolean): GceFaultSpec | undefined =>
    faults.take(
      (f) => OPERATION_FAULTS.has(f.kind) === operation && (f.call === undefined ? call !== "token" : f.call === call),
    );

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const parsed = new URL(req.url ?? "/", url);
    const method = req.method ?? "GET";
    const found = parsed.pathname.startsWith("/compute/") ? safeMatch(method, parsed.pathname) : undefined;
    const call =
      parsed.pathname === "/token"
        ? "token"
        : parsed.pathname.startsWith("/computeMetadata/")
          ? "metadata"
          : found && "route" in found
            ? found.route.name
            : "unknown";
    calls[call] = (calls[call] ?? 0) + 1;
    let body: unknown;
    try {
      body = text && req.headers["content-type"]?.includes("json") ? JSON.parse(text) : text;
    } catch {
      body = text;
    }
    if (options.recordRequests !== false)
      requests.push({ call, method, path: parsed.pathname, query: parsed.searchParams, body });
    if (options.latencyMs) await pause(options.latencyMs);
    const fault: GceFaultSpec | undefined =
      call !== "token" && call !== "metadata" && throttle?.admit() === false
        ? { kind: "rateLimit" }
        : takeFault(call, false);
    if (fault?.kind === "drop") return void req.socket.destroy();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "delay") await pause(fault.ms ?? 0);
    const [status, answer] = respond(call, method, parsed, req, body, found, fault);
    if (fault?.kind === "dropAfter") return void req.socket.destroy();
    if (fault?.kind === "hangAfter") return;
    const json = typeof answer === "string" && call === "metadata" ? answer : JSON.stringify(answer);
    res
      .writeHead(status, {
        "content-type":
          call === "metadata" && typeof answer === "string" ? "text/plain" : "application/json; charset=UTF-8",
      })
      .end(json);
  };

  const respond = (
    call: string,
    method: string,
    parsed: URL,
    req: IncomingMessage,
    body: unknown,
    found: ReturnType<typeof safeMatch>,
    fault: GceFaultSpec | undefined,
  ): [number, unknown] => {
    try {
      if (fault?.kind === "rateLimit") throw new GceFault(403, "rateLimitExceeded", "Rate Limit Exceeded");
      if (fault?.kind === "unauthorized")
        throw new GceFault(401, "authError", "Request had invalid authentication credentials.");
      if (fault?.kind === "error")
        throw new GceFault(
          fault.status ?? 500,
          fault.reason ?? "backendError",
          `Injected error ${fault.status ?? 500}.`,
        );
      if (call === "token")
        return method === "POST"
          ? identity.tokenEndpoint(new URLSearchParams(String(body)))
          : [405, { error: "invalid_request" }];
      if (call === "metadata") return identity.metadata(parsed.pathname, req.headers["metadata-flavor"]);
      if (!identity.authorized(req.headers.authorization))
        throw new GceFault(
          401,
          "authError",
          "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
      if (found && "fault" in found) throw found.fault;
      if (!found)
        throw new GceFault(404, "notFound", `The requested URL ${parsed.pathname} was not found on this server.`);
      const answer = found.route.handler(
        {
          cloud,
          base: `${url}/compute/v1`,
          query: parsed.searchParams,
          body,
          pageSize: options.pageSize ?? 500,
          operationFault: () => operationFault(call),
          unfiltered: fault?.kind === "unfiltered",
        },
        found.params,
      );
      const fields = parsed.searchParams.get("fields");
      return [200, fields ? project(answer, parseFields(fields)) : answer];
    } catch (err) {
      const f =
        err instanceof GceFault
          ? err
          : err instanceof FieldsError
            ? new GceFault(400, "invalidParameter", err.message)
            : new GceFault(500, "backendError", String(err));
      return [
        f.status,
        {
          error: {
            code: f.status,
            message: f.message,
            errors: [{ message: f.message, domain: "global", reason: f.reason }],
          },
        },
      ];
    }
  };

  const operationFault = (call: string): OperationFault | undefined => {
    const f = takeFault(call, true);
    if (!f) return undefined;
    if (f.kind === "stuckOperation") return { stuck: true };
    if (f.kind === "uncountedOperation") return { uncounted: true };
    return { errorCode: f.code ?? "ZONE_RESOURCE_POOL_EXHAUSTED" };
  };

  const safeMatch = (
    method: string,
    path: string,
  ): { route: NonNullable<ReturnType<typeof match>>["route"]; params: string[] } | { fault: GceFault } | undefined => {
    try {
      return match(method, path, { cloud });
    } catch (err) {
      return { fault: err instanceof GceFault ? err : new GceFault(500, "backendError", String(err)) };
    }
  };

  const listener = await listenLoopback(serve);
  url = listener.url;
  const port = listener.port;

  return {
    url,
    endpoint: `${url}/compute/v1`,
    tokenUri: `${url}/token`,
    metadataHost: `127.0.0.1:${port}`,
    cloud,
    calls,
    requests,
    addServiceAccount: (email, pem) => identity.addServiceAccount(email, pem),
    addRefreshToken: (t) => identity.addRefreshToken(t),
    actAsVm: (id) => {
      identity.vm = id;
    },
    inject: (fault) => faults.add(fault),
    issuedTokens: () => identity.issued,
    faultsFired: () => faults.fired(),
    inFlight: () => listener.inFlight(),
    throttled: () => throttle?.refused ?? 0,
    reset: () => {
      faults.clear();
      for (const k of Object.keys(calls)) delete calls[k];
      requests.length = 0;
    },
    close: () => listener.close(),
  };
}
