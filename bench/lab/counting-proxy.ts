/**
 * A counting proxy in front of the lab's OpenStack services: one 127.0.0.1
 * port per service, each forwarding to the lab and counting calls by
 * service and method. Keystone's catalog is rewritten on the way back, so a
 * client that logs in through the proxy sends every later call through it
 * too. Written by hand: a few lines of node:http do what is needed, and no
 * proxy library rewrites a Keystone catalog.
 */

import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Service name → the lab's base URL (scheme, host and port). */
export const LAB_SERVICES: Readonly<Record<string, string>> = {
  identity: "http://127.0.0.1:5000",
  compute: "http://127.0.0.1:8774",
  image: "http://127.0.0.1:9292",
  network: "http://127.0.0.1:9696",
  placement: "http://127.0.0.1:8778",
};

/** One forwarded call: when it started and how long the lab took, in ms since the last reset. */
export interface TracedCall {
  readonly call: string;
  readonly path: string;
  readonly startMs: number;
  readonly ms: number;
}

export interface CountingProxy {
  /** Keystone through the proxy (Driver_ex_force_auth_url). */
  readonly authUrl: string;
  /** Calls since the last reset, keyed `compute POST`, `identity POST`, … */
  counts(): Record<string, number>;
  total(): number;
  /** Every call since the last reset, in the order they ended. */
  trace(): readonly TracedCall[];
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingProxy(
  services: Readonly<Record<string, string>> = LAB_SERVICES,
): Promise<CountingProxy> {
  const counts = new Map<string, number>();
  let traced: TracedCall[] = [];
  let epoch = performance.now();
  const servers: Server[] = [];
  const rewrites: [string, string][] = [];
  for (const [service, upstream] of Object.entries(services)) {
    const server = createServer((req, res) => forward(service, upstream, req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    rewrites.push([upstream, `http://127.0.0.1:${(server.address() as AddressInfo).port}`]);
  }
  const rewrite = (text: string): string => rewrites.reduce((t, [from, to]) => t.split(from).join(to), text);

  function forward(service: string, upstream: string, req: IncomingMessage, res: ServerResponse): void {
    const key = `${service} ${req.method ?? "GET"}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const target = new URL(req.url ?? "/", upstream);
    const started = performance.now();
    res.on("finish", () =>
      traced.push({ call: key, path: target.pathname, startMs: started - epoch, ms: performance.now() - started }),
    );
    // The lab closes every connection after one answer; say so, so that neither side waits on keep-alive.
    const headers = { ...req.headers, host: target.host, connection: "close" };
    const out = request(target, { method: req.method, headers, agent: false }, (up) => {
      const isToken = service === "identity" && /\/auth\/tokens/.test(target.pathname);
      if (!isToken) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on("data", (c: Buffer) => chunks.push(c));
      up.on("end", () => {
        const body = Buffer.from(rewrite(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(up.statusCode ?? 502, { ...up.headers, "content-length": String(body.length) });
        res.end(body);
      });
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  }

  return {
    authUrl: rewrites[0]![1],
    counts: () => Object.fromEntries(counts),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    trace: () => traced,
    reset: () => {
      counts.clear();
      traced = [];
      epoch = performance.now();
    },
    close: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections();
              s.close(() => r());
            }),
        ),
      ).then(() => undefined),
  };
}
