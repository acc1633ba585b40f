/**
 * A test-tree Azure on 127.0.0.1: Resource Manager's Compute and Network
 * paths (api-version checked per provider), long-running operations with
 * `Azure-AsyncOperation`, `Location` and `Retry-After`, `nextLink` paging,
 * Entra ID's token endpoint and a managed identity endpoint, boot
 * diagnostics' blobs, and injected faults, as the other test clouds:
 *
 *   const az = await startAzureServer();
 *   az.inject({ call: "virtualMachines.createOrUpdate", kind: "throttle", times: 2 });
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { FaultQueue, type FaultingServer } from "../fault-queue.js";
import { listenLoopback, pause, readBody } from "../http-util.js";
import { ServerThrottle, type ServerRateLimit } from "../throttle.js";
import { AzureCloud, AzureError, type AzureCloudOptions } from "./cloud.js";
import { Identity, type Principal } from "./identity.js";
import { route, type RouteContext } from "./routes.js";
import { definedProps } from "../../../src/util/defined.js";

export interface AzureServerOptions extends AzureCloudOptions {
  readonly latencyMs?: number;
  /** Items per listing page (default 1000). */
  readonly pageSize?: number;
  /** Retry-After of operations, in seconds (default 0). */
  readonly retryAfterSeconds?: number;
  readonly rateLimit?: ServerRateLimit;
  readonly tokenLifetimeSeconds?: number;
}

/**
 * A fault for the next `times` calls of `call` (e.g. `virtualMachines.createOrUpdate`,
 * `virtualMachines.listAll`, `operations.get`, `token`; default any Resource Manager call):
 * - `error`: answer `status` with `code`, acting on nothing;
 * - `throttle`: 429 TooManyRequests with Retry-After: 1;
 * - `unauthorized`: 401 ExpiredAuthenticationToken;
 * - `drop` / `hang`: close the connection, or never answer;
 * - `dropAfter` / `hangAfter`: act, then drop or hang (the client cannot know it worked);
 * - `delay`: wait `ms` first;
 * - `operationFailed`: a create's operation ends Failed with `code` (default AllocationFailed);
 * - `stuckOperation`: a create's operation stays InProgress;
 * - `repeatNextLink`: a listing page whose nextLink is the page itself.
 */
export interface AzureFaultSpec {
  readonly call?: string;
  readonly kind:
    | "error"
    | "throttle"
    | "unauthorized"
    | "drop"
    | "hang"
    | "dropAfter"
    | "hangAfter"
    | "delay"
    | "operationFailed"
    | "stuckOperation"
    | "repeatNextLink";
  readonly times?: number;
  readonly status?: number;
  readonly code?: string;
  readonly ms?: number;
  readonly before?: () => void;
}

export interface AzureRequestRecord {
  readonly call: string;
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface AzureServer extends FaultingServer<AzureFaultSpec> {
  /** Resource Manager's base URL, for Driver_endpoint. */
  readonly endpoint: string;
  /** Entra ID's base URL, for Driver_authority. */
  readonly authority: string;
  /** The managed identity endpoint, for Driver_identity_endpoint. */
  readonly identityEndpoint: string;
  readonly cloud: AzureCloud;
  readonly identity: Identity;
  readonly requests: AzureRequestRecord[];
  addPrincipal(p: Principal): void;
}

const OPERATION_FAULTS = new Set(["operationFailed", "stuckOperation", "repeatNextLink"]);

export async function startAzureServer(options: AzureServerOptions = {}): Promise<AzureServer> {
  const cloud = new AzureCloud(options);
  const identity = new Identity(options.tokenLifetimeSeconds ?? 3600);
  const calls: Record<string, number> = {};
  const requests: AzureRequestRecord[] = [];
  const faults = new FaultQueue<AzureFaultSpec>();
  const throttle = options.rateLimit ? new ServerThrottle(options.rateLimit) : undefined;
  let url = "";

  const takeFault = (call: string, late: boolean): AzureFaultSpec | undefined =>
    faults.take(
      (f) =>
        OPERATION_FAULTS.has(f.kind) === late &&
        (f.call === undefined ? !["token", "identity", "blob"].includes(call) : f.call === call),
    );

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const text = await readBody(req);
    const parsed = new URL(req.url ?? "/", url);
    const method = req.method ?? "GET";
    const found = route(method, parsed.pathname, cloud);
    const call = found.call;
    calls[call] = (calls[call] ?? 0) + 1;
    let body: unknown = text;
    if (text && req.headers["content-type"]?.includes("json")) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    requests.push({ call, method, path: parsed.pathname, query: parsed.searchParams, body });
    if (options.latencyMs) await pause(options.latencyMs);
    const arm = !["token", "identity", "blob"].includes(call);
    const fault = arm && throttle?.admit() === false ? ({ kind: "throttle" } as const) : takeFault(call, false);
    if (fault?.kind === "drop") return void req.socket.destroy();
    if (fault?.kind === "hang") return;
    if (fault?.kind === "delay") await pause(fault.ms ?? 0);
    let status: number;
    let answer: unknown;
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "x-ms-request-id": crypto.randomUUID(),
    };
    try {
      if (fault?.kind === "throttle") {
        headers["retry-after"] = "1";
        throw new AzureError(
          429,
          "TooManyRequests",
          "The request is being throttled as the limit has been reached for operation type - Write_30Min.",
        );
      }
      if (fault?.kind === "unauthorized")
        throw new AzureError(
          401,
          "ExpiredAuthenticationToken",
          "The access token expiry UTC time is earlier than current UTC time.",
        );
      if (fault?.kind === "error")
        throw new AzureError(
          fault.status ?? 500,
          fault.code ?? "InternalServerError",
          `Injected error ${fault.status ?? 500}.`,
        );
      if (arm && call !== "unknown" && !identity.authorized(req.headers.authorization)) {
        throw new AzureError(401, "InvalidAuthenticationToken", "The access token is invalid.");
      }
      const ctx: RouteContext = {
        cloud,
        identity,
        url,
        query: parsed.searchParams,
        body,
        headers: req.headers,
        pageSize: options.pageSize ?? 1000,
        lateFault: () => takeFault(call, true),
      };
      const out = found.handle(ctx);
      status = out.status;
      answer = out.body;
      if (out.operation) {
        const opUrl = `${url}/subscriptions/${cloud.subscriptionId}/providers/Microsoft.Compute/locations/${cloud.location}/operations/${out.operation.id}?api-version=2024-07-01`;
        headers["azure-asyncoperation"] = opUrl;
        headers["location"] = `${opUrl}&monitor=true`;
        headers["retry-after"] = String(options.retryAfterSeconds ?? 0);
      }
      if (out.text !== undefined) {
        headers["content-type"] = "text/plain";
        answer = out.text;
      }
    } catch (err) {
      const e = err instanceof AzureError ? err : new AzureError(500, "InternalServerError", String(err));
      status = e.status;
      answer =
        call === "token" || call === "identity"
          ? { error: e.code, error_description: e.message }
          : {
              error: {
                code: e.code,
                message: e.message,
                ...definedProps({ target: e.target, details: e.details }),
              },
            };
    }
    if (fault?.kind === "dropAfter") return void req.socket.destroy();
    if (fault?.kind === "hangAfter") return;
    res
      .writeHead(status, headers)
      .end(answer === undefined ? "" : typeof answer === "string" ? answer : JSON.stringify(answer));
  };

  const listener = await listenLoopback(serve);
  url = listener.url;
  return {
    url,
    endpoint: url,
    authority: `${url}/aad`,
    identityEndpoint: `${url}/metadata/identity/oauth2/token`,
    cloud,
    identity,
    calls,
    requests,
    addPrincipal: (p) => identity.addPrincipal(p),
    inject: (f) => faults.add(f),
    throttled: () => throttle?.refused ?? 0,
    faultsFired: () => faults.fired(),
    inFlight: () => listener.inFlight(),
    reset: () => {
      faults.clear();
      for (const k of Object.keys(calls)) delete calls[k];
      requests.length = 0;
    },
    close: () => listener.close(),
  };
}
