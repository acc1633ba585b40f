/** The KUBERNETES driver against the stand-in: connection, typed errors, retries, paging, ownership and garbage collection. */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CloudDriver, CreateNodesRequest } from "../../src/drivers/driver.js";
import { KubernetesDriver } from "../../src/drivers/kubernetes/index.js";
import { parseOptions } from "../../src/drivers/kubernetes/options.js";
import { isCloudceError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { scrubSecrets } from "../../src/secrets.js";
import {
  kubeDriver,
  NAMESPACE,
  siteObject,
  testManifest,
  writeKubeconfig,
} from "../servers/kubernetes/driver-fixture.js";
import { startKubeServer, type KubeServer } from "../servers/kubernetes/server.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { eventually } from "./conformance.js";

let server: KubeServer;
let dir: string;
let kubeconfig: string;
let driver: CloudDriver;
let n = 0;

const OWNER = { "cloudce-ce": "drv.example.org", "cloudce-queue": "Long Queue" };

function request(script = "sleep 300", nodes = 1): CreateNodesRequest {
  return {
    imageId: "registry.example.org/dirac/pilot:el9",
    flavorId: "1cpu-2gb",
    networkIds: [],
    requestId: `req-${++n}`,
    nodes: Array.from({ length: nodes }, (_, i) => ({
      name: `drv-${String(n).padStart(4, "0")}${i}ABC`,
      userData: testManifest(script),
      metadata: { ...OWNER, "cloudce-batch": `b${n}` },
    })),
  };
}

async function failure(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (isCloudceError(err)) return err;
    throw err;
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  server = await startKubeServer({ namespaces: [NAMESPACE] });
  server.applyRole(siteObject("role.yaml"));
  dir = mkdtempSync(join(tmpdir(), "kube-driver-"));
  kubeconfig = writeKubeconfig(server, dir);
  driver = await kubeDriver(kubeconfig, { page_size: "2" });
});

afterEach(() => {
  server.reset();
  server.denied.clear();
});

afterAll(async () => {
  await driver?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("connection", () => {
  it("names a missing kubeconfig and an unknown context", async () => {
    await expect(kubeDriver(join(dir, "nope"))).rejects.toThrow(
      /KUBERNETES: no kubeconfig at .*nope: set Driver_kubeconfig/,
    );
    await expect(kubeDriver(kubeconfig, { context: "other" })).rejects.toThrow(
      /Driver_context: no context 'other' in .*; it has: stand-in/,
    );
  });

  it("takes the namespace from the context, and Driver_namespace over it", async () => {
    expect((driver as KubernetesDriver).namespace).toBe(NAMESPACE);
    const other = await kubeDriver(kubeconfig, { namespace: "elsewhere" });
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
      writeKubeconfig(server, mkdtempSync(join(tmpdir(), "kube-bad-")), "a-wrong-token-7d2e9c41b"),
    );
    const err = await failure(bad.listNodes({ namePrefix: "", metadata: OWNER }));
    expect(err.code).toBe("AuthFailed");
    expect(err.message).toMatch(
      /list pods in namespace dirac-pilots: HTTP 401.*check Driver_kubeconfig and Driver_context/,
    );
    expect(scrubSecrets("token a-wrong-token-7d2e9c41b")).toBe("token [secret]");
  });

  it("403: names the verb, resource and namespace the Role lacks", async () => {
    server.denied.add("list pods");
    const err = await failure(driver.listNodes({ namePrefix: "", metadata: OWNER }));
    expect(err.code).toBe("Forbidden");
    expect(err.message).toContain(
      "may not list pods in namespace dirac-pilots: its Role needs verb 'list' on 'pods' (see etc/kubernetes/role.yaml)",
    );
  });

  it("429 with Retry-After and 5xx are retried; throttling that persists is RateLimited with the wait", async () => {
    server.inject({ call: "list pods", kind: "rateLimit", retryAfter: 0 });
    server.inject({ call: "list pods", kind: "error", status: 503 });
    expect(await driver.listNodes({ namePrefix: "zzz", metadata: OWNER })).toEqual([]);
    expect(server.calls["list pods"]).toBe(3);
    server.inject({ call: "get pods", kind: "rateLimit", retryAfter: 0, times: 10 });
    const err = await failure(driver.getNode("drv-none"));
    expect(err).toMatchObject({ code: "RateLimited", retryAfterSeconds: 0 });
  });

  it("422: UserDataInvalid, naming the field and pointing at Context_Template", async () => {
    server.inject({
      call: "create pods",
      kind: "error",
      status: 422,
      field: "spec.containers[0].securityContext.runAsUser",
    });
    const err = await failure(driver.createNodes(request()));
    expect(err.code).toBe("UserDataInvalid");
    expect(err.message).toContain(
      "the cluster refused the object at spec.containers[0].securityContext.runAsUser: fix Context_Template",
    );
  });

  it("a full ResourceQuota is QuotaExceeded naming what ran out", async () => {
    server.cluster.create("resourcequotas", NAMESPACE, {
      metadata: { name: "tiny" },
      spec: { hard: { "requests.cpu": "0" } },
    });
    try {
      const err = await failure(driver.createNodes(request()));
      expect(err).toMatchObject({ code: "QuotaExceeded", quotaResource: "cores" });
      expect(await driver.getLimits()).toMatchObject({ cores: 0 });
    } finally {
      server.cluster.remove("resourcequotas", NAMESPACE, "tiny");
    }
  });
});

describe("creates, listings and deletes", () => {
  it("a create whose answer was lost finds its own pod by name instead of sending it again: exactly one pod", async () => {
    server.inject({ call: "create pods", kind: "dropAfter" });
    const r = request();
    const { created } = await driver.createNodes(r);
    expect(created).toHaveLength(1);
    expect(server.cluster.all("pods").filter((p) => p.metadata.name === created[0]!.id)).toHaveLength(1);
    expect(server.calls["create pods"]).toBe(1);
    expect(server.calls["get pods"]).toBeGreaterThanOrEqual(1);
    expect(created[0]!.name).toBe(r.nodes[0]!.name);
    await driver.destroyNodes([created[0]!.id]);
  });

  it("a create slower than the timeout is looked for, not sent again: no late attempt recreates the pod after its delete", async () => {
    // Pods without processes are deleted at once; no jitter: a retry would follow the timeout at once.
    const fast = await startKubeServer({ namespaces: [NAMESPACE], runProcesses: false });
    // A timeout that a busy machine does not exhaust on the calls the cluster answers (the look-ups).
    const quick = await kubeDriver(
      writeKubeconfig(fast, mkdtempSync(join(tmpdir(), "kube-late-"))),
      {},
      HANG_TIMEOUT_MS,
      {
        random: () => 0,
      },
    );
    try {
      // The create acts 150 ms after the client gave up on it, well inside the look-up's one timeout.
      fast.inject({ call: "create pods", kind: "delay", ms: HANG_TIMEOUT_MS + 150 });
      const { created } = await quick.createNodes(request());
      expect(created).toHaveLength(1);
      await quick.destroyNodes([created[0]!.id]);
      await eventually(
        async () => fast.inFlight(),
        (n) => n === 0,
        10_000,
        "every request to be answered",
      );
      expect([...fast.cluster.podHistory.values()].filter((p) => p.metadata.name === created[0]!.id)).toHaveLength(1);
      expect(fast.cluster.get("pods", NAMESPACE, created[0]!.id)).toBeUndefined();
      expect(fast.calls["create pods"]).toBe(1);
    } finally {
      await quick.close();
      await fast.close();
    }
  });

  it("a pod whose Secret cannot be made is deleted again, and the failure says why", async () => {
    server.denied.add("create secrets");
    const err = await failure(driver.createNodes(request()));
    expect(err.code).toBe("Forbidden");
    expect(err.message).toContain("verb 'create' on 'secrets'");
    await eventually(
      async () =>
        server.cluster
          .all("pods")
          .filter(
            (p) => !p.metadata.deletionTimestamp && p.metadata.annotations?.["cloudce.dirac/request"] === `req-${n}`,
          ).length,
      (c) => c === 0,
      10_000,
      "the pod to be deleted",
    );
  });

  it("lists by label selector over pages, starting over when the continue token expired (410)", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(...(await driver.createNodes(request())).created);
    let compacted = false;
    server.inject({
      call: "list pods",
      kind: "delay",
      ms: 0,
      times: 2,
      before: () => {
        // The second page's request finds its token compacted away.
        if (server.calls["list pods"] === 2 && !compacted) {
          compacted = true;
          server.cluster.compact();
        }
      },
    });
    const listed = await driver.listNodes({ namePrefix: "drv-", metadata: { "cloudce-ce": OWNER["cloudce-ce"] } });
    expect(compacted).toBe(true);
    for (const m of made) expect(listed.map((l) => l.id)).toContain(m.id);
    expect(listed.every((l) => l.metadata["cloudce-queue"] === "Long Queue")).toBe(true);
    expect(await driver.listNodes({ namePrefix: "drv-", metadata: { "cloudce-ce": "someone-else" } })).toEqual([]);
    await driver.destroyNodes(made.map((m) => m.id));
  });

  it("maps evictions and deadlines to error with the reason, interrupted where the cluster ended the pilot", async () => {
    const [evicted] = (await driver.createNodes(request())).created;
    await eventually(
      () => driver.getNode(evicted!.id),
      (x) => x?.state === "running",
      10_000,
      "running",
    );
    server.kubelet.kill(evicted!.id, "Evicted");
    const node = await eventually(
      () => driver.getNode(evicted!.id),
      (x) => x?.state === "error",
      10_000,
      "evicted",
    );
    expect(node).toMatchObject({
      cloudState: "Failed: Evicted",
      interrupted: true,
      fault: { message: "the pod failed: Evicted" },
    });
    const short = request();
    const manifest = Buffer.from(short.nodes[0]!.userData)
      .toString()
      .replace("spec:\n", "spec:\n  activeDeadlineSeconds: 1\n");
    const [deadline] = (
      await driver.createNodes({
        ...short,
        nodes: [{ ...short.nodes[0]!, userData: new Uint8Array(Buffer.from(manifest)) }],
      })
    ).created;
    const ended = await eventually(
      () => driver.getNode(deadline!.id),
      (x) => x?.state === "error",
      10_000,
      "deadline",
    );
    expect(ended?.cloudState).toBe("Failed: DeadlineExceeded");
    await driver.destroyNodes([evicted!.id, deadline!.id]);
  });

  it("deleting a pod garbage-collects its Secret; deleting again, or an unknown pod, is done", async () => {
    const [node] = (await driver.createNodes(request())).created;
    expect(server.cluster.get("secrets", NAMESPACE, `${node!.id}-pilot`)).toBeDefined();
    expect(await driver.destroyNodes([node!.id])).toEqual({ done: [node!.id], failed: [] });
    await eventually(
      async () => server.cluster.get("secrets", NAMESPACE, `${node!.id}-pilot`),
      (s) => s === undefined,
      10_000,
      "the Secret to go",
    );
    await eventually(
      async () => server.cluster.get("pods", NAMESPACE, node!.id),
      (p) => p === undefined,
      10_000,
      "the pod to go",
    );
    expect(await driver.destroyNodes([node!.id, "never-was"])).toMatchObject({
      failed: [],
      gone: expect.arrayContaining([node!.id, "never-was"]),
    });
  });
});
