/** EC2 faults: throttling and 5xx retried with backoff, dropped and hung connections, typed errors for the rest. */

import { afterEach, describe, expect, it, vi } from "vitest";
import { toEc2Error } from "../../src/drivers/ec2/errors.js";
import ec2Factory from "../../src/drivers/ec2/index.js";
import type { CreateNodesRequest } from "../../src/drivers/driver.js";
import { instantiateDriver } from "../../src/drivers/registry.js";
import { createLogger, type LogRecord } from "../../src/log.js";
import { TEST_SECRET_KEY } from "../servers/ec2/driver-fixture.js";
import { ec2FixturePerTest } from "../servers/ec2/vitest-scope.js";
import { startEc2Server, type Ec2Server } from "../servers/ec2/server.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";

const start = ec2FixturePerTest();
let bare: Ec2Server | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await bare?.close();
  bare = undefined;
});

const request = (count = 1): CreateNodesRequest => ({
  imageId: "ami-0a1b2c3d4e5f60001",
  flavorId: "t3.micro",
  networkIds: [],
  nodes: Array.from({ length: count }, () => ({
    name: "EC2F_00000000",
    userData: new Uint8Array(),
    metadata: { "cloudce-ce": "faults" },
  })),
  requestId: "faults-request-0001",
});

describe("EC2 retries", () => {
  it("retries throttling (RequestLimitExceeded) and succeeds", async () => {
    const f = await start();
    f.server.inject({ action: "DescribeImages", kind: "throttle", times: 2 });
    expect((await f.driver.listImages()).length).toBeGreaterThan(0);
    expect(f.server.calls["DescribeImages"]).toBe(3);
  });

  it("gives up after Driver_max_attempts with RateLimited", async () => {
    const f = await start({ options: { max_attempts: "2" } });
    f.server.inject({ kind: "throttle", times: 5 });
    await expect(f.driver.listFlavors()).rejects.toMatchObject({ code: "RateLimited", retryable: true, driver: "EC2" });
    expect(f.server.calls["DescribeInstanceTypes"]).toBe(2);
  });

  it("retries 5xx answers, a dropped connection and a hung call", async () => {
    const f = await start({ requestTimeoutMs: HANG_TIMEOUT_MS });
    f.server.inject({ action: "DescribeSubnets", kind: "error", code: "Unavailable", status: 503 });
    f.server.inject({ action: "DescribeSubnets", kind: "drop" });
    f.server.inject({ action: "DescribeSubnets", kind: "hang" });
    expect((await f.driver.listNetworks()).length).toBe(2);
    expect(f.server.calls["DescribeSubnets"]).toBe(4);
  });

  it("reports a call that never answers as Timeout", async () => {
    const f = await start({ requestTimeoutMs: HANG_TIMEOUT_MS, options: { max_attempts: "1" } });
    f.server.inject({ kind: "hang" });
    const err = await f.driver.getNode("i-0123456789abcdef0").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "Timeout", retryable: true });
  });

  it("reports a cloud slower than Cloud_RequestTimeout as Timeout", async () => {
    const f = await start({ server: { latencyMs: 1_000 }, requestTimeoutMs: 100, options: { max_attempts: "1" } });
    await expect(f.driver.listNetworks()).rejects.toMatchObject({ code: "Timeout" });
  });

  it("reports an endpoint that refuses connections as CloudUnavailable", async () => {
    bare = await startEc2Server();
    const url = bare.url;
    await bare.close();
    bare = undefined;
    const driver = await instantiateDriver(
      ec2Factory,
      {
        options: { region: "eu-west-1", endpoint: url, max_attempts: "1" },
        credentials: async () => ({ key: "AKIAREFUSED", secret: "refused-secret-123", extra: {} }),
        ceName: "t",
        logger: createLogger({ level: "silent" }),
        requestTimeoutMs: 2_000,
      },
      "EC2",
    );
    await expect(driver.listImages()).rejects.toMatchObject({ code: "CloudUnavailable" });
    await driver.close();
  });
});

describe("EC2 typed errors", () => {
  it.each([
    ["ETIMEDOUT", "Timeout"],
    ["ENOTFOUND", "CloudUnavailable"],
    ["EAI_AGAIN", "CloudUnavailable"],
  ])("a transport %s with no answer is %s and retried", (code, want) => {
    const err = toEc2Error(Object.assign(new Error(`connect ${code} 203.0.113.9:443`), { code }), "RunInstances");
    expect(err).toMatchObject({ code: want, retryable: true, driver: "EC2" });
  });

  const cases = [
    { code: "InsufficientInstanceCapacity", status: 500, want: "CapacityExceeded" },
    { code: "InstanceLimitExceeded", status: 400, want: "QuotaExceeded" },
    { code: "VcpuLimitExceeded", status: 400, want: "QuotaExceeded" },
    { code: "Unsupported", status: 400, want: "NotSupported" },
    { code: "UnauthorizedOperation", status: 403, want: "Forbidden" },
    { code: "InvalidKeyPair.NotFound", status: 400, want: "OptionInvalid" },
    { code: "SomethingNew", status: 400, want: "CloudError" },
  ] as const;
  for (const c of cases) {
    it(`${c.code} → ${c.want}, not retried, one line naming the action`, async () => {
      const f = await start();
      f.server.inject({
        action: "RunInstances",
        kind: "error",
        code: c.code,
        status: c.status,
        message: "line one\nline two",
      });
      const err = (await f.driver.createNodes(request(2)).catch((e: unknown) => e)) as Error & {
        code: string;
        status: string;
      };
      expect(err).toMatchObject({ code: c.want, retryable: false, status: c.code });
      expect(err.message).toMatch(/^EC2 RunInstances: /);
      expect(err.message).not.toContain("\n");
      expect(f.server.calls["RunInstances"]).toBe(1);
    });
  }

  it("turns the account's instance limit into QuotaExceeded", async () => {
    const f = await start({ server: { instanceLimit: 1 } });
    await f.driver.createNodes(request(1));
    await expect(f.driver.createNodes({ ...request(1), requestId: "other" })).rejects.toMatchObject({
      code: "QuotaExceeded",
    });
  });

  it("turns refused credentials into AuthFailed without retrying or leaking the secret", async () => {
    const lines: LogRecord[] = [];
    const f = await start({ server: { accessKeyIds: ["AKIASOMEONEELSE"] } });
    await f.driver.close();
    const driver = await instantiateDriver(
      ec2Factory,
      {
        options: { region: "eu-west-1", endpoint: f.server.url },
        credentials: async () => ({ key: "AKIAWRONG", secret: TEST_SECRET_KEY, extra: {} }),
        ceName: "t",
        logger: createLogger({ level: "debug", sink: (r) => lines.push(r) }),
        requestTimeoutMs: 2_000,
      },
      "EC2",
    );
    const err = (await driver.listImages().catch((e: unknown) => e)) as Error;
    await driver.close();
    expect(err).toMatchObject({ code: "AuthFailed", retryable: false });
    expect(err.message).toContain("auth file");
    expect(f.server.calls["DescribeImages"]).toBe(1);
    expect(JSON.stringify(lines) + err.message).not.toContain(TEST_SECRET_KEY);
  });

  it("asks for key and secret when the auth file has none", async () => {
    const f = await start({ credentials: async () => ({ extra: {} }) });
    await expect(f.driver.listImages()).rejects.toMatchObject({ code: "AuthKeyMissing" });
    expect(f.server.calls["DescribeImages"]).toBeUndefined();
  });

  it("uses the SDK's default chain with Driver_credentials = default-chain, and needs no auth file", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment");
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    const f = await start({
      options: { credentials: "default-chain" },
      credentials: async () => {
        throw new Error("the auth file must not be read");
      },
    });
    expect(f.driver.capabilities.requiresCredentials).toBe(false);
    await f.driver.listNetworks();
    expect(f.server.requests.at(-1)?.accessKeyId).toBe("AKIAFROMENVIRONMENT");
  });

  it("uses the default chain when the auth section says credentials = default-chain", async () => {
    vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT2");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "secret-from-the-environment");
    vi.stubEnv("AWS_EC2_METADATA_DISABLED", "true");
    const f = await start({
      credentials: async () => ({ key: "x", secret: "unused-secret", extra: { credentials: "default-chain" } }),
    });
    await f.driver.listNetworks();
    expect(f.server.requests.at(-1)?.accessKeyId).toBe("AKIAFROMENVIRONMENT2");
  });

  it("answers an id it never issued, or a malformed one, with undefined", async () => {
    const f = await start();
    expect(await f.driver.getNode("i-0123456789abcdef0")).toBeUndefined();
    expect(await f.driver.getNode("not-an-id")).toBeUndefined();
  });
});
