/**
 * A small OpenStack cloud for tests and benchmarks: Keystone v3, Nova,
 * Glance and Neutron on one 127.0.0.1 port (services under /identity,
 * /compute/v2.1, /image, /network), over HTTP or HTTPS with client
 * certificates. It injects latency and faults and counts calls per route.
 *
 *   const cloud = await startOpenStackServer({ bootMs: 100 });
 *   // Driver_ex_force_auth_url = cloud.authUrl; users/projects in cloud-state.ts
 *   cloud.faults.add({ route: "compute POST /servers", kind: "status", status: 503 });
 *   cloud.count("compute POST /servers");
 */

import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { text } from "node:stream/consumers";
import { TLSSocket, type DetailedPeerCertificate } from "node:tls";
import { CloudState, type Timings } from "./cloud-state.js";
import { FaultInjector, faultReply } from "./faults.js";
import { glanceRoutes, neutronRoutes } from "./glance-neutron.js";
import { matchRoute, novaFault, routeKey, type Reply, type Req, type Route, type Service } from "./http-kit.js";
import { keystoneRoutes } from "./keystone.js";
import { vomsRoutes } from "./keystone-voms.js";
import { novaRoutes } from "./nova.js";

export interface OpenStackServerOptions extends Partial<Timings> {
  /** Added before every answer. */
  readonly latencyMs?: number;
  /**
   * Nova's API workers: each compute request holds one for `workMs`, the
   * others wait their turn (a small nova-api, where latency grows with
   * concurrency). Default: no such limit.
   */
  readonly computeWorkers?: { readonly count: number; readonly workMs: number };
  readonly region?: string;
  /** HTTPS; with `ca` and `requestCert`, client certificates are checked. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string; readonly requestCert?: boolean };
  /** Extra routes (e.g. Keystone v2 VOMS) mounted on a service. */
  readonly extraRoutes?: Partial<Record<Service, Route[]>>;
}

export interface OpenStackTestServer {
  /** Keystone's base URL (Driver_ex_force_auth_url). */
  readonly authUrl: string;
  /** Base URL of the whole server. */
  readonly url: string;
  readonly state: CloudState;
  readonly faults: FaultInjector;
  /** Calls per route key (counted before faults fire). */
  readonly calls: ReadonlyMap<string, number>;
  count(route: string): number;
  /** The most requests the server was answering at once. */
  readonly maxInFlight: () => number;
  /** Bytes of the response bodies sent since the last resetCounts. */
  readonly bytesOut: () => number;
  /** Requests being handled now (a delayed one counts until it has acted). */
  readonly inFlight: () => number;
  resetCounts(): void;
  close(): Promise<void>;
}

const MOUNTS: readonly [Service, string][] = [
  ["identity", "/identity"],
  ["compute", "/compute/v2.1"],
  ["image", "/image"],
  ["network", "/network"],
];

export async function startOpenStackServer(options: OpenStackServerOptions = {}): Promise<OpenStackTestServer> {
  const timings: Timings = {
    bootMs: options.bootMs ?? 100,
    stopMs: options.stopMs ?? 50,
    deleteMs: options.deleteMs ?? 50,
    tokenTtlMs: options.tokenTtlMs ?? 3_600_000,
  };
  const state = new CloudState(timings);
  const faults = new FaultInjector();
  const calls = new Map<string, number>();
  let base = "";
  const region = options.region ?? "RegionOne";
  const urls = () => ({
    identity: `${base}/identity/v3`,
    compute: `${base}/compute/v2.1`,
    image: `${base}/image`,
    network: `${base}/network`,
    region,
  });
  const routes: Record<Service, Route[]> = {
    identity: [...keystoneRoutes(state, urls), ...vomsRoutes(state, urls), ...(options.extraRoutes?.identity ?? [])],
    compute: [...novaRoutes(state), ...(options.extraRoutes?.compute ?? [])],
    image: glanceRoutes(state),
    network: neutronRoutes(state),
  };
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;
  // The compute workers: how many are busy, and the requests waiting for one (first come, first served).
  let busy = 0;
  const queue: (() => void)[] = [];
  const worker = async (ms: number): Promise<void> => {
    if (busy >= (options.computeWorkers?.count ?? Infinity)) await new Promise<void>((r) => queue.push(r));
    else busy += 1;
    await pause(ms);
    const next = queue.shift();
    if (next) next();
    else busy -= 1;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const mount = MOUNTS.find(([, prefix]) => url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
    const raw = await text(req);
    if (!mount) return send(res, novaFault(404, `no service at ${url.pathname}`));
    const [service, prefix] = mount;
    const path = url.pathname.slice(prefix.length) || "/";
    const method = req.method ?? "GET";
    const found = matchRoute(routes[service], method, path);
    if (!found) return send(res, novaFault(404, `The resource could not be found.`));
    const key = routeKey(service, method, found.route.pattern);
    calls.set(key, (calls.get(key) ?? 0) + 1);
    const fault = faults.take(key);
    if (options.latencyMs) await pause(options.latencyMs);
    if (service === "compute" && options.computeWorkers) await worker(options.computeWorkers.workMs);
    if (fault?.kind === "hang") return;
    if (fault?.kind === "reset") return void req.socket.destroy();
    if (fault?.kind === "status" || fault?.kind === "quota") return send(res, faultReply(fault, service));
    if (fault?.kind === "delay") await pause(fault.delayMs ?? 100);
    let body: unknown;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      return send(res, novaFault(400, "Malformed request body"));
    }
    const r: Req = {
      service,
      method,
      path,
      query: url.searchParams,
      headers: req.headers,
      body,
      base: `${base}${prefix}`,
      clientCertNames: peerNames(req.socket),
    };
    if (fault?.kind === "late")
      return void setTimeout(() => void found.route.handler(r, found.params), fault.delayMs ?? 100);
    const reply = await found.route.handler(r, found.params);
    if (fault?.kind === "lost") return;
    if (fault?.kind === "empty") return send(res, { status: 202, body: {} });
    send(res, reply);
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    handle(req, res)
      .catch((err: unknown) => send(res, novaFault(500, String(err))))
      .finally(() => {
        inFlight -= 1;
      });
  };
  const server: Server = options.tls
    ? createHttpsServer(
        {
          key: options.tls.key,
          cert: options.tls.cert,
          ca: options.tls.ca,
          requestCert: options.tls.requestCert ?? false,
          rejectUnauthorized: false,
        },
        listener,
      )
    : createHttpServer(listener);
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("secureConnection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `${options.tls ? "https" : "http"}://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    authUrl: `${base}/identity`,
    url: base,
    state,
    faults,
    calls,
    count: (route) => calls.get(route) ?? 0,
    resetCounts: () => {
      calls.clear();
      sent.bytes = 0;
      maxInFlight = inFlight;
    },
    maxInFlight: () => maxInFlight,
    bytesOut: () => sent.bytes,
    inFlight: () => inFlight,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Response body bytes sent by every server of the process (each server reads and resets it as its own: one per process in benchmarks). */
const sent = { bytes: 0 };

function send(res: ServerResponse, reply: Reply): void {
  if (res.writableEnded || res.destroyed) return;
  const isText = typeof reply.body === "string";
  const payload = reply.body === undefined ? "" : isText ? (reply.body as string) : JSON.stringify(reply.body);
  sent.bytes += Buffer.byteLength(payload);
  const headers: Record<string, string> = {
    ...(payload && !isText ? { "content-type": "application/json" } : {}),
    ...reply.headers,
  };
  res.writeHead(reply.status, headers);
  res.end(payload);
}

/** CNs up the client's certificate chain (the proxy, then the user it was signed by). */
function peerNames(socket: Socket): string[] {
  if (!(socket instanceof TLSSocket)) return [];
  const names: string[] = [];
  let cert: DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  for (let i = 0; cert && Object.keys(cert).length > 0 && i < 10; i++) {
    const cn = cert.subject?.CN;
    names.push(Array.isArray(cn) ? cn.join("/") : String(cn ?? ""));
    if (cert.issuerCertificate === cert) break;
    cert = cert.issuerCertificate;
  }
  return names;
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
