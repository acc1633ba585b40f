/** The drivers' shared REST client: retries and Retry-After, one token renewal after a 401, typed errors, redacted bodies, deadlines. */

import type { IncomingMessage, ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { classifyByStatus, parseRetryAfter, redactBody } from "../../src/drivers/http/errors.js";
import { RestClient, type RestClientOptions } from "../../src/drivers/http/rest-client.js";
import { TokenCache } from "../../src/drivers/http/token-cache.js";
import { CloudceError, isCloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { listenLoopback, type LoopbackServer } from "../servers/http-util.js";

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;
const open: { server: LoopbackServer; client: RestClient }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.client.close();
    await o.server.close();
  }
});

async function setup(
  handler: Handler,
  options: Partial<RestClientOptions> = {},
): Promise<{ client: RestClient; waits: number[]; calls: () => number }> {
  let n = 0;
  const server = await listenLoopback(async (req, res) => handler(req, res, ++n));
  const waits: number[] = [];
  const client = new RestClient({
    driver: "TEST",
    baseUrl: server.url,
    timeoutMs: 2_000,
    attempts: 3,
    logger: silentLogger,
    sleep: async (ms) => void waits.push(ms),
    ...options,
  });
  open.push({ server, client });
  return { client, waits, calls: () => n };
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void =>
  void res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));

describe("RestClient", () => {
  it("retries a 429 after the Retry-After it names, and a 503, then answers", async () => {
    const { client, waits, calls } = await setup((_q, res, n) =>
      n === 1 ? json(res, 429, {}, { "retry-after": "2" }) : n === 2 ? json(res, 503, {}) : json(res, 200, { ok: 1 }),
    );
    expect(await client.json<{ ok: number }>({ method: "GET", path: "/x" })).toEqual({ ok: 1 });
    expect(calls()).toBe(3);
    expect(waits[0]).toBe(2_000);
  });

  it("never retries what a retry cannot fix, and one attempt only when asked", async () => {
    const a = await setup((_q, res) => json(res, 403, { message: "no" }));
    const err = await a.client.send({ method: "GET", path: "/x" }).catch((e: unknown) => e);
    expect(isCloudceError(err, "Forbidden")).toBe(true);
    expect(a.calls()).toBe(1);
    const b = await setup((_q, res) => json(res, 503, {}));
    await b.client.send({ method: "PUT", path: "/x", retry: false }).catch(() => undefined);
    expect(b.calls()).toBe(1);
  });

  it("renews the token once after a 401 and sends the new one", async () => {
    let issued = 0;
    const tokens = new TokenCache(async () => ({ accessToken: `t${++issued}`, expiresInSeconds: 3600 }));
    const seen: string[] = [];
    const { client } = await setup(
      (req, res) => {
        seen.push(req.headers.authorization ?? "");
        json(res, req.headers.authorization === "Bearer t2" ? 200 : 401, {});
      },
      { tokens },
    );
    await client.send({ method: "GET", path: "/x" });
    expect(seen).toEqual(["Bearer t1", "Bearer t2"]);
  });

  it("classifies with the driver's classifier, and quotes a body only redacted and cut short", async () => {
    const secret = "the-user-data-sent-in-this-call";
    const { client } = await setup((_q, res) => json(res, 400, { echo: secret, filler: "x".repeat(1000) }));
    const err = await client
      .send({ method: "POST", path: "/x?sig=abc", json: {}, redact: [secret] })
      .catch((e: unknown) => e);
    expect(isCloudceError(err, "CloudError")).toBe(true);
    const message = (err as Error).message;
    expect(message).not.toContain(secret);
    expect(message).not.toContain("sig=abc");
    expect(message.length).toBeLessThan(500);
  });

  it("gives the classifier a long body whole, so that it still parses, with redacted values masked", async () => {
    const secret = "the-user-data-sent-in-this-call";
    const bodies: string[] = [];
    const { client } = await setup(
      (_q, res) => json(res, 409, { error: { code: "SkuNotAvailable", message: `${secret} ${"x".repeat(600)}` } }),
      {
        classify: (f) => {
          bodies.push(f.body);
          return new CloudceError("CapacityExceeded", "full", { driver: f.driver });
        },
      },
    );
    const err = await client.send({ method: "PUT", path: "/vm", redact: [secret] }).catch((e: unknown) => e);
    expect(isCloudceError(err, "CapacityExceeded")).toBe(true);
    const parsed = JSON.parse(bodies[0]!) as { error: { code: string; message: string } };
    expect(parsed.error.code).toBe("SkuNotAvailable");
    expect(parsed.error.message).not.toContain(secret);
  });

  it("a failure status taken as an answer is returned even when a proxy said it in HTML", async () => {
    const { client } = await setup(
      (_q, res) => void res.writeHead(404, { "content-type": "text/html" }).end("<h1>no</h1>"),
    );
    const res = await client.send({ method: "GET", path: "/gone", accept: [404] });
    expect(res).toMatchObject({ status: 404, body: undefined });
  });

  it("a request with no answer within the deadline is a retryable Timeout", async () => {
    const { client, calls } = await setup(() => undefined, { timeoutMs: 100, attempts: 2 });
    const err = await client.send({ method: "GET", path: "/hang" }).catch((e: unknown) => e);
    expect(isCloudceError(err, "Timeout") && err.retryable).toBe(true);
    // A fact the CE words: it names Cloud_RequestTimeout, the driver does not.
    expect(err).toMatchObject({ requestTimedOut: true, message: expect.not.stringContaining("Cloud_") });
    expect(calls()).toBe(2);
  });

  it("reads Retry-After as seconds or a date; the default classifier goes by the status", () => {
    expect(parseRetryAfter("3")).toBe(3);
    expect(parseRetryAfter(new Date(Date.now() + 5_000).toUTCString(), Date.now())).toBeGreaterThanOrEqual(4);
    expect(parseRetryAfter("soon")).toBeUndefined();
    // A wait the cloud asks for is bounded to an hour, whichever way it is written.
    expect(parseRetryAfter("86400")).toBe(3600);
    expect(parseRetryAfter(new Date(Date.now() + 86_400_000).toUTCString(), Date.now())).toBe(3600);
    expect(redactBody("<html><b>bad gateway</b></html>")).toBe("bad gateway");
    expect(classifyByStatus({ driver: "T", what: "GET /", status: 502, body: "", headers: {} }).code).toBe(
      "CloudUnavailable",
    );
  });
});
