/** Cloud health with its circuit breaker, and credential expiry, on the in-memory cloud with an injected clock. */

import { describe, expect, it } from "vitest";
import { CloudceError } from "../../src/errors.js";
import { makeProxyChain } from "../auth/fixtures/proxy-chain.js";
import { START, harness, ok } from "./policy-harness.js";

const down = () => new CloudceError("CloudUnavailable", "compute GET /servers/detail: HTTP 503");

describe("cloud health and the circuit breaker (Health_FailureThreshold, Health_CoolDownSeconds)", () => {
  const BREAKER = { Health_FailureThreshold: "3", Health_CoolDownSeconds: "100" };

  it("a failed listing gives 0 slots with the reason, never an offer on unknown state", async () => {
    const h = await harness(BREAKER);
    h.cloud.faults.listFailure = down();
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: {
        CloudHealth: "failing",
        Reason: expect.stringContaining("the state of the cloud is unknown: compute GET /servers/detail: HTTP 503"),
      },
    });
  });

  it("after K failures it stops calling the cloud for the cool-down, then lets one probe through", async () => {
    const h = await harness(BREAKER);
    h.cloud.faults.listFailure = down();
    for (let i = 0; i < 3; i++) await h.ce.available();
    expect(h.calls("listNodes")).toBe(3);
    const open = await h.ce.available();
    expect(open).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: {
        CloudHealth: "circuit-open",
        Reason: expect.stringContaining(
          "circuit breaker open after 3 failed listings: not calling the cloud until 2026-06-01T12:01:40.000Z",
        ),
      },
    });
    expect(await h.ce.getJobStatus(["cloud://x"])).toEqual({ OK: true, Value: { "cloud://x": "Unknown" } });
    expect(await h.ce.submitJob(h.pilot, null, 1)).toMatchObject({ OK: false, Code: "CloudUnavailable" });
    h.advance(99);
    await h.ce.available();
    expect(h.calls("listNodes")).toBe(3);
    expect(h.calls("createNodes")).toBe(0);
    h.advance(1);
    // Two callers at probe time: one probe reaches the cloud.
    await Promise.all([h.ce.available(), h.ce.available()]);
    expect(h.calls("listNodes")).toBe(4);
    expect(await h.decisions()).toEqual([
      expect.stringMatching(
        /^circuit-open: 3 consecutive listings failed; not calling the cloud until 2026-06-01T12:01:40.000Z \(Health_CoolDownSeconds 100\)/,
      ),
      expect.stringMatching(
        /^circuit-open: the probe listing failed; not calling the cloud until 2026-06-01T12:03:20.000Z/,
      ),
    ]);
  });

  it("a probe that succeeds closes the breaker: slots again, and the decision is journaled", async () => {
    const h = await harness(BREAKER);
    h.cloud.faults.listFailure = down();
    for (let i = 0; i < 3; i++) await h.ce.available();
    h.cloud.faults.listFailure = undefined;
    h.advance(100);
    expect(await h.ce.available()).toMatchObject({ OK: true, Value: 4, CEInfoDict: { CloudHealth: "ok" } });
    expect((await h.decisions()).map((d) => d.split(":")[0])).toEqual(["circuit-open", "circuit-closed"]);
    expect(h.logs.some((l) => l.msg === "policy: circuit-open")).toBe(true);
  });

  it("jitters the probe time by up to ±10% of the cool-down", async () => {
    for (const [random, wait] of [
      [0, 90],
      [0.999999, 110],
    ] as const) {
      const h = await harness(BREAKER, {}, random);
      h.cloud.faults.listFailure = down();
      for (let i = 0; i < 3; i++) await h.ce.available();
      h.advance(wait - 1);
      await h.ce.available();
      expect(h.calls("listNodes")).toBe(3);
      h.advance(1);
      await h.ce.available();
      expect(h.calls("listNodes")).toBe(4);
    }
  });

  it("off (Health_FailureThreshold 0): every call still reaches the cloud; still 0 slots while listings fail", async () => {
    const h = await harness({ Health_FailureThreshold: "0" });
    h.cloud.faults.listFailure = down();
    for (let i = 0; i < 6; i++) expect(ok(await h.ce.available())).toBe(0);
    expect(h.calls("listNodes")).toBe(6);
    expect(await h.decisions()).toEqual([]);
  });
});

function jwt(expSeconds: number): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "RS256" })}.${part({ sub: "pilot", exp: expSeconds })}.c2lnbmF0dXJl`;
}

describe("credential expiry (Credential_WarnDays)", () => {
  const inDays = (d: number) => Math.floor((START + d * 86_400_000) / 1000);

  it("warns in validate and the log when less than 7 days are left, and shows the expiry in CEInfoDict", async () => {
    const h = await harness();
    await h.ce.setToken(jwt(inDays(3)));
    const valid = await h.ce.isValid();
    expect(valid).toMatchObject({
      OK: true,
      Warnings: [
        expect.stringMatching(
          /^the token expires in 3 d 0 h \(at 2026-06-04T12:00:00.000Z; Credential_WarnDays 7\): renew it$/,
        ),
      ],
    });
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 4,
      CEInfoDict: {
        CredentialKind: "token",
        CredentialExpiry: "2026-06-04T12:00:00.000Z",
        CredentialSecondsLeft: 3 * 86_400,
      },
    });
    await h.ce.available();
    expect(h.logs.filter((l) => l.level === "warn" && l.msg.startsWith("credentials: the token expires"))).toHaveLength(
      1,
    );
    // A renewed token that runs out in turn is warned about again.
    await h.ce.setToken(jwt(inDays(5)));
    await h.ce.available();
    expect(h.logs.filter((l) => l.level === "warn" && l.msg.startsWith("credentials: the token expires"))).toHaveLength(
      2,
    );
  });

  it("once expired: available() gives 0 slots with the reason, validate fails, and the journal records it once", async () => {
    const h = await harness();
    await h.ce.setToken(jwt(inDays(1)));
    expect(ok(await h.ce.available())).toBe(4);
    h.advance(86_400);
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: {
        Reason: "the token expired at 2026-06-02T12:00:00.000Z: renew it; no new VMs until then",
        CredentialSecondsLeft: 0,
      },
    });
    await h.ce.available();
    expect(await h.ce.isValid()).toMatchObject({
      OK: false,
      Message: expect.stringContaining("credentials: the token expired"),
    });
    expect(await h.decisions()).toEqual([expect.stringMatching(/^credentials-expired: the token expired/)]);
    // Renewed: slots again.
    await h.ce.setToken(jwt(inDays(30)));
    expect(ok(await h.ce.available())).toBe(4);
  });

  it("reads what the driver says, e.g. a Keystone application credential's expires_at", async () => {
    const h = await harness(
      {},
      {
        credentialExpiry: [
          { kind: "application-credential", expiresAt: new Date(START + 2 * 86_400_000) },
          { kind: "token", expiresAt: undefined },
        ],
      },
    );
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 4,
      CEInfoDict: {
        CredentialKind: "application-credential",
        CredentialWarnings: [expect.stringContaining("the application-credential expires in 2 d")],
      },
    });
  });

  it("the threshold is an option; 0 turns the warning off (an expired credential still stops new VMs)", async () => {
    const h = await harness({ Credential_WarnDays: "2" });
    await h.ce.setToken(jwt(inDays(3)));
    expect(await h.ce.isValid()).toEqual({ OK: true, Value: null });
    const off = await harness({ Credential_WarnDays: "0" });
    await off.ce.setToken(jwt(inDays(1)));
    expect(await off.ce.isValid()).toEqual({ OK: true, Value: null });
    off.advance(86_400);
    expect(ok(await off.ce.available())).toBe(0);
  });

  it("reads a proxy's time left, its VOMS attributes' when they end first", async () => {
    const h = await harness();
    const chain = await makeProxyChain({
      secondsLeft: 10 * 86_400,
      voms: { vo: "dteam", secondsLeft: 2 * 86_400 },
      now: new Date(START),
    });
    ok(await h.ce.setProxy(chain.proxyPem));
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 4,
      CEInfoDict: { CredentialKind: "proxy", CredentialSecondsLeft: 2 * 86_400 },
    });
    h.advance(2 * 86_400);
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringMatching(/^the proxy expired at/) },
    });
    expect(await h.ce.isValid()).toMatchObject({ OK: false, Code: "ProxyExpired" });
  });

  it("never warns about the proxy SiteDirector hands over (it renews that one itself), in validate or the log", async () => {
    const h = await harness();
    const chain = await makeProxyChain({ secondsLeft: 3 * 86_400, now: new Date(START) });
    ok(await h.ce.setProxy(chain.proxyPem, 3 * 86_400));
    expect(await h.ce.isValid()).toEqual({ OK: true, Value: null });
    const r = await h.ce.available();
    expect(r).toMatchObject({
      OK: true,
      Value: 4,
      CEInfoDict: { CredentialKind: "proxy", CredentialSecondsLeft: 3 * 86_400 },
    });
    expect((r as unknown as { CEInfoDict: Record<string, unknown> }).CEInfoDict["CredentialWarnings"] ?? []).toEqual(
      [],
    );
    expect(h.logs.filter((l) => l.level === "warn" && l.msg.startsWith("credentials:"))).toEqual([]);
  });

  it("counts the proxy as ending when the validity given with setProxy ends, if that comes first", async () => {
    const h = await harness();
    const chain = await makeProxyChain({ secondsLeft: 10 * 86_400, now: new Date(START) });
    ok(await h.ce.setProxy(chain.proxyPem, 3600));
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 4,
      CEInfoDict: { CredentialKind: "proxy", CredentialSecondsLeft: 3600 },
    });
    h.advance(3600);
    expect(await h.ce.available()).toMatchObject({
      OK: true,
      Value: 0,
      CEInfoDict: { Reason: expect.stringMatching(/^the proxy expired at 2026-06-01T13:00:00.000Z/) },
    });
    expect(await h.ce.setProxy(chain.proxyPem, -5)).toMatchObject({ OK: false, Code: "ProxyInvalid" });
  });

  it("warns about a proxy file an admin keeps (cloudce --proxy), naming the file", async () => {
    const h = await harness();
    const chain = await makeProxyChain({ secondsLeft: 2 * 86_400, now: new Date(START) });
    ok(await h.ce.setProxy(chain.proxyPem, 0, { file: "/etc/grid/pilot.proxy" }));
    expect(await h.ce.isValid()).toMatchObject({
      OK: true,
      Warnings: [expect.stringMatching(/^the proxy file \/etc\/grid\/pilot\.proxy expires in 2 d 0 h .*: renew it$/)],
    });
    await h.ce.available();
    expect(
      h.logs.filter(
        (l) => l.level === "warn" && l.msg.startsWith("credentials: the proxy file /etc/grid/pilot.proxy expires"),
      ),
    ).toHaveLength(1);
  });

  it("a token that says nothing of its end changes nothing", async () => {
    const h = await harness();
    await h.ce.setToken("opaque-bearer-token-value");
    expect(await h.ce.available()).toMatchObject({ OK: true, Value: 4 });
    expect(await h.ce.isValid()).toEqual({ OK: true, Value: null });
  });
});
