/** The KUBERNETES driver against the stand-in: connection and typed errors. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { withCeHint } from "../../src/ce/driver-hints.js";
import { KubernetesDriver } from "../../src/drivers/kubernetes/index.js";
import { parseOptions } from "../../src/drivers/kubernetes/options.js";
import { silentLogger } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import { kubeDriver, NAMESPACE, writeKubeconfig } from "../servers/kubernetes/driver-fixture.js";
import { failure, kubeDriverSuite, OWNER, request } from "./kube-driver-setup.js";

const k = kubeDriverSuite();

describe("connection", () => {
  it("names a missing kubeconfig and an unknown context", async () => {
    await expect(kubeDriver(join(k.dir, "nope"))).rejects.toThrow(
      /KUBERNETES: no kubeconfig at .*nope: set Driver_kubeconfig/,
    );
    await expect(kubeDriver(k.kubeconfig, { context: "other" })).rejects.toThrow(
      /Driver_context: no context 'other' in .*; it has: stand-in/,
    );
  });

  it("takes the namespace from the context, and Driver_namespace over it", async () => {
    expect((k.driver as KubernetesDriver).namespace).toBe(NAMESPACE);
    const other = await kubeDriver(k.kubeconfig, { namespace: "elsewhere" });
    expect((other as KubernetesDriver).namespace).toBe("elsewhere");
    await expect(other.createNodes(request())).rejects.toThrow(
      /namespace elsewhere does not exist: create it \(etc\/kubernetes\/namespace.yaml\) or set Driver_namespace/,
    );
  });

  it("reads the service account in a pod (Driver_in_cluster), and scrubs the token it sends", async () => {
    const sa = mkdtempSync(join(tmpdir(), "kube-sa-"));
    const token = "in-cluster-token-5f0c1e2d3a4b";
    // The client reads <prefix>/var/run/secrets/kubernetes.io/serviceaccount/{token,namespace,ca.crt}.
    const files = join(sa, "var/run/secrets/kubernetes.io/serviceaccount");
    mkdirSync(files, { recursive: true });
    for (const [f, v] of [
      ["token", token],
      ["namespace", "grid"],
      ["ca.crt", ""],
    ])
      writeFileSync(join(files, f!), v!);
    const saved = { host: process.env["KUBERNETES_SERVICE_HOST"], port: process.env["KUBERNETES_SERVICE_PORT"] };
    process.env["KUBERNETES_SERVICE_HOST"] = "127.0.0.1";
    // Nothing listens on port 1: the call fails, after the token was put on it.
    process.env["KUBERNETES_SERVICE_PORT"] = "1";
    try {
      const config = {
        options: {},
        credentials: async () => ({ extra: {} }),
        ceName: "x",
        logger: silentLogger,
        requestTimeoutMs: 1000,
      };
      const d = new KubernetesDriver(config, parseOptions({ in_cluster: "yes" }), { serviceAccountDir: sa });
      expect(d.namespace).toBe("grid");
      expect(await failure(d.getNode("x"))).toMatchObject({ code: "CloudUnavailable" });
      expect(scrubSecrets(`Bearer ${token}`)).toBe("Bearer [secret]");
    } finally {
      for (const [k, v] of [
        ["KUBERNETES_SERVICE_HOST", saved.host],
        ["KUBERNETES_SERVICE_PORT", saved.port],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(sa, { recursive: true, force: true });
    }
  });
});

describe("typed errors", () => {
  it("401: AuthFailed, and the refused token is never printed", async () => {
    const bad = await kubeDriver(
      writeKubeconfig(k.server, mkdtempSync(join(tmpdir(), "kube-bad-")), "a-wrong-token-7d2e9c41b"),
    );
    const err = await failure(bad.listNodes({ namePrefix: "", metadata: OWNER }));
    expect(err.code).toBe("AuthFailed");
    expect(err.message).toMatch(
      /list pods in namespace dirac-pilots: HTTP 401.*check Driver_kubeconfig and Driver_context/,
    );
    expect(scrubSecrets("token a-wrong-token-7d2e9c41b")).toBe("token [secret]");
  });

  it("403: names the verb, resource and namespace the Role lacks", async () => {
    k.server.denied.add("list pods");
    const err = await failure(k.driver.listNodes({ namePrefix: "", metadata: OWNER }));
    expect(err.code).toBe("Forbidden");
    expect(err.message).toContain(
      "may not list pods in namespace dirac-pilots: its Role needs verb 'list' on 'pods' (see etc/kubernetes/role.yaml)",
    );
  });

  it("429 with Retry-After and 5xx are retried; throttling that persists is RateLimited with the wait", async () => {
    k.server.inject({ call: "list pods", kind: "rateLimit", retryAfter: 0 });
    k.server.inject({ call: "list pods", kind: "error", status: 503 });
    expect(await k.driver.listNodes({ namePrefix: "zzz", metadata: OWNER })).toEqual([]);
    expect(k.server.calls["list pods"]).toBe(3);
    k.server.inject({ call: "get pods", kind: "rateLimit", retryAfter: 0, times: 10 });
    const err = await failure(k.driver.getNode("drv-none"));
    expect(err).toMatchObject({ code: "RateLimited", retryAfterSeconds: 0 });
  });

  it("422: UserDataInvalid, naming the field and pointing at Context_Template", async () => {
    k.server.inject({
      call: "create pods",
      kind: "error",
      status: 422,
      field: "spec.containers[0].securityContext.runAsUser",
    });
    const err = await failure(k.driver.createNodes(request()));
    expect(err).toMatchObject({ code: "UserDataInvalid", refused: { input: "user-data" } });
    expect(withCeHint(err).message).toContain(
      "the cluster refused the object at spec.containers[0].securityContext.runAsUser; fix Context_Template",
    );
  });

  it("a flavor, an image or networks pods cannot take: one line naming the option and the fix, in the CE's words", async () => {
    const refusal = async (change: Partial<ReturnType<typeof request>>) => {
      const err = await failure(k.driver.createNodes({ ...request(), ...change }));
      return { code: err.code, refused: err.refused?.input, line: withCeHint(err).message };
    };
    expect(await refusal({ flavorId: "2cpu" })).toEqual({
      code: "FlavorNotFound",
      refused: "flavor",
      line: "KUBERNETES: flavor '2cpu' is not a pod size; Instance_Flavor takes <cpus>cpu-<n>mb or <cpus>cpu-<n>gb, e.g. 4cpu-8gb",
    });
    expect(await refusal({ imageId: "not a reference" })).toMatchObject({
      code: "ImageNotFound",
      refused: "image",
      line: expect.stringMatching(
        /^KUBERNETES: image 'not a reference' is not an image reference; Instance_Image takes an image reference such as /,
      ),
    });
    expect(await refusal({ networkIds: ["net-1"] })).toEqual({
      code: "NetworkNotFound",
      refused: "network",
      line: "KUBERNETES: pods use the cluster's network; unset Instance_Networks",
    });
  });

  it("a full ResourceQuota is QuotaExceeded naming what ran out", async () => {
    k.server.cluster.create("resourcequotas", NAMESPACE, {
      metadata: { name: "tiny" },
      spec: { hard: { "requests.cpu": "0" } },
    });
    try {
      const err = await failure(k.driver.createNodes(request()));
      expect(err).toMatchObject({ code: "QuotaExceeded", quotaResource: "cores" });
      expect(await k.driver.getLimits()).toMatchObject({ cores: 0 });
    } finally {
      k.server.cluster.remove("resourcequotas", NAMESPACE, "tiny");
    }
  });
});
