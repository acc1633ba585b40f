/** The KUBERNETES driver against the stand-in: creates, retries, paging, pod states and garbage collection. */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kubeDriver, NAMESPACE, writeKubeconfig } from "../servers/kubernetes/driver-fixture.js";
import { startKubeServer } from "../servers/kubernetes/server.js";
import { HANG_TIMEOUT_MS } from "../support/wait.js";
import { eventually } from "./conformance.js";
import { failure, kubeDriverSuite, OWNER, request } from "./kube-driver-setup.js";

const k = kubeDriverSuite();

describe("creates, listings and deletes", () => {
  it("a create whose answer was lost finds its own pod by name instead of sending it again: exactly one pod", async () => {
    k.server.inject({ call: "create pods", kind: "dropAfter" });
    const r = request();
    const { created } = await k.driver.createNodes(r);
    expect(created).toHaveLength(1);
    expect(k.server.cluster.all("pods").filter((p) => p.metadata.name === created[0]!.id)).toHaveLength(1);
    expect(k.server.calls["create pods"]).toBe(1);
    expect(k.server.calls["get pods"]).toBeGreaterThanOrEqual(1);
    expect(created[0]!.name).toBe(r.nodes[0]!.name);
    await k.driver.destroyNodes([created[0]!.id]);
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
    k.server.denied.add("create secrets");
    const req = request();
    const err = await failure(k.driver.createNodes(req));
    expect(err.code).toBe("Forbidden");
    expect(err.message).toContain("verb 'create' on 'secrets'");
    await eventually(
      async () =>
        k.server.cluster
          .all("pods")
          .filter(
            (p) => !p.metadata.deletionTimestamp && p.metadata.annotations?.["cloudce.dirac/request"] === req.requestId,
          ).length,
      (c) => c === 0,
      10_000,
      "the pod to be deleted",
    );
  });

  it("lists by label selector over pages, starting over when the continue token expired (410)", async () => {
    const made = [];
    for (let i = 0; i < 3; i++) made.push(...(await k.driver.createNodes(request())).created);
    let compacted = false;
    k.server.inject({
      call: "list pods",
      kind: "delay",
      ms: 0,
      times: 2,
      before: () => {
        // The second page's request finds its token compacted away.
        if (k.server.calls["list pods"] === 2 && !compacted) {
          compacted = true;
          k.server.cluster.compact();
        }
      },
    });
    const listed = await k.driver.listNodes({ namePrefix: "drv-", metadata: { "cloudce-ce": OWNER["cloudce-ce"] } });
    expect(compacted).toBe(true);
    for (const m of made) expect(listed.map((l) => l.id)).toContain(m.id);
    expect(listed.every((l) => l.metadata["cloudce-queue"] === "Long Queue")).toBe(true);
    expect(await k.driver.listNodes({ namePrefix: "drv-", metadata: { "cloudce-ce": "someone-else" } })).toEqual([]);
    await k.driver.destroyNodes(made.map((m) => m.id));
  });

  it("maps evictions and deadlines to error with the reason, interrupted where the cluster ended the pilot", async () => {
    const [evicted] = (await k.driver.createNodes(request())).created;
    await eventually(
      () => k.driver.getNode(evicted!.id),
      (x) => x?.state === "running",
      10_000,
      "running",
    );
    k.server.kubelet.kill(evicted!.id, "Evicted");
    const node = await eventually(
      () => k.driver.getNode(evicted!.id),
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
      await k.driver.createNodes({
        ...short,
        nodes: [{ ...short.nodes[0]!, userData: new Uint8Array(Buffer.from(manifest)) }],
      })
    ).created;
    const ended = await eventually(
      () => k.driver.getNode(deadline!.id),
      (x) => x?.state === "error",
      10_000,
      "deadline",
    );
    expect(ended?.cloudState).toBe("Failed: DeadlineExceeded");
    await k.driver.destroyNodes([evicted!.id, deadline!.id]);
  });

  it("deleting a pod garbage-collects its Secret; deleting again, or an unknown pod, is done", async () => {
    const [node] = (await k.driver.createNodes(request())).created;
    expect(k.server.cluster.get("secrets", NAMESPACE, `${node!.id}-pilot`)).toBeDefined();
    expect(await k.driver.destroyNodes([node!.id])).toEqual({ done: [node!.id], failed: [] });
    await eventually(
      async () => k.server.cluster.get("secrets", NAMESPACE, `${node!.id}-pilot`),
      (s) => s === undefined,
      10_000,
      "the Secret to go",
    );
    await eventually(
      async () => k.server.cluster.get("pods", NAMESPACE, node!.id),
      (p) => p === undefined,
      10_000,
      "the pod to go",
    );
    expect(await k.driver.destroyNodes([node!.id, "never-was"])).toMatchObject({
      failed: [],
      gone: expect.arrayContaining([node!.id, "never-was"]),
    });
  });
});
