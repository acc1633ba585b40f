/**
 * Small HTTP plumbing for the test-tree OpenStack server: route tables with
 * `{param}` segments, JSON replies, and OpenStack-style fault bodies.
 */

import type { IncomingHttpHeaders } from "node:http";

export type Service = "identity" | "compute" | "image" | "network";

export interface Req {
  readonly service: Service;
  readonly method: string;
  /** Path below the service mount, e.g. `/servers/detail`. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, or undefined. */
  readonly body: unknown;
  /** The URL this service is mounted at, e.g. `http://127.0.0.1:1234/compute/v2.1`. */
  readonly base: string;
  /** Subject CNs of the TLS client certificate chain, leaf first (empty without one). */
  readonly clientCertNames: readonly string[];
}

export interface Reply {
  readonly status: number;
  /** Objects are sent as JSON, strings as they are. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (req: Req, params: readonly string[]) => Reply | Promise<Reply>;

export interface Route {
  readonly method: string;
  readonly pattern: string;
  readonly handler: Handler;
}

/** The matching route and its `{param}` values. */
export function matchRoute(
  routes: readonly Route[],
  method: string,
  path: string,
): { route: Route; params: string[] } | undefined {
  const parts = path.split("/").filter(Boolean);
  for (const route of routes) {
    if (route.method !== method) continue;
    const want = route.pattern.split("/").filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: string[] = [];
    const ok = want.every((w, i) => {
      if (w.startsWith("{")) {
        params.push(decodeURIComponent(parts[i]!));
        return true;
      }
      return w === parts[i];
    });
    if (ok) return { route, params };
  }
  return undefined;
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { status, body, headers };
}

/** Nova's fault shape: `{"itemNotFound": {"code": 404, "message": ...}}`. */
export function novaFault(status: number, message: string): Reply {
  const name: Record<number, string> = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    406: "computeFault",
    409: "conflictingRequest",
    413: "overLimit",
    429: "overLimit",
    500: "computeFault",
    503: "serviceUnavailable",
  };
  return json(status, { [name[status] ?? "computeFault"]: { code: status, message } });
}

/** Keystone's (and keystonemiddleware's) fault shape. */
export function keystoneFault(status: number, message: string): Reply {
  const title: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" };
  return json(status, { error: { code: status, title: title[status] ?? "Error", message } });
}

export function neutronFault(status: number, type: string, message: string): Reply {
  return json(status, { NeutronError: { type, message, detail: "" } });
}

/** Glance answers most errors in HTML, as its WSGI stack does. */
export function glanceFault(status: number, message: string): Reply {
  return {
    status,
    body: `<html>\n <head>\n  <title>${status}</title>\n </head>\n <body>\n  <h1>${status}</h1>\n  ${message}<br /><br />\n </body>\n</html>`,
    headers: { "content-type": "text/html; charset=UTF-8" },
  };
}

/** Names the route for call counting: `compute POST /servers/{id}/action`. */
export function routeKey(service: Service, method: string, pattern: string): string {
  return `${service} ${method} ${pattern}`;
}

export type Json = Record<string, unknown>;
/** A JSON object, or an empty one for anything else (a body field of the wrong type). */
export const obj = (v: unknown): Json => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});

/** What a Nova handler gets: the request, its project (from the token) and microversion, the path's parameters. */
export interface NovaCall {
  readonly req: Req;
  readonly project: string;
  readonly minor: number;
  readonly params: readonly string[];
}
