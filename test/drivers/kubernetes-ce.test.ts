/**
 * The CE on KUBERNETES, end to end against the stand-in: the shipped pod
 * template, pilots that really run, their output, kill, cleanup, the boot
 * timeout, the quota and the fizzle backoff. The site setup is etc/kubernetes/.
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudComputingElement } from "../../src/ce/index.js";
import { silentLogger } from "../../src/log.js";
import { NAMESPACE, siteObject, writeKubeconfig } from "../servers/kubernetes/driver-fixture.js";
import { startKubeServer, type KubeServer } from "../servers/kubernetes/server.js";
import { eventually } from "./conformance.js";
import { ok } from "../support/results.js";

const CE_NAME = "k8s.mysite.example";
const IMAGE = "registry.example.org/dirac/pilot:el9";
let server: KubeServer;
let dir: string;
let kubeconfig: string;
const ces: CloudComputingElement[] = [];

const podOf = (ref: string): string => ref.slice("cloud://".length);

async function pilot(name: string, body: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `#!/bin/bash\n${body}\n`);
  return path;
}

async function newCe(options: Record<string, string> = {}): Promise<CloudComputingElement> {
  const ce = new CloudComputingElement(CE_NAME, { logger: silentLogger, metrics: null });
  ok(
    await ce.setParameters({
      CloudType: "KUBERNETES",
      Driver_kubeconfig: kubeconfig,
      Instance_Image: IMAGE,
      Instance_Flavor: "1cpu-2gb",
      MaxTotalJobs: "50",
      MaxWaitingJobs: "50",
      Queue: "default",
      ...options,
    }),
  );
  ces.push(ce);
  return ce;
}

async function statusOf(ce: CloudComputingElement, ref: string): Promise<string> {
  return ok(await ce.getJobStatus([ref]))[ref]!;
}

const reaches = (ce: CloudComputingElement, ref: string, status: string) =>
  eventually(
    () => statusOf(ce, ref),
    (s) => s === status,
    20_000,
    `${ref} to read ${status}`,
  );

beforeAll(async () => {
  server = await startKubeServer({ namespaces: [NAMESPACE] });
  server.applyRole(siteObject("role.yaml"));
  dir = await mkdtemp(join(tmpdir(), "cloudce-k8s-ce-"));
  kubeconfig = writeKubeconfig(server, dir);
});

afterAll(async () => {
  for (const ce of ces) await ce.shutdown();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("CloudComputingElement with CloudType = KUBERNETES", () => {
  it("validates, and names an unknown Driver_ option and a prefix no pod can have", async () => {
    const ce = await newCe();
    expect(await ce.isValid()).toEqual({ OK: true, Value: null });
    expect(await ce.isValid({ online: true })).toEqual({ OK: true, Value: null });
    expect(await ce.setParameters({ Instance_NamePrefix: "VMDIRAC3_" })).toMatchObject({
      OK: false,
      Message: expect.stringMatching(
        /^Instance_NamePrefix: 'VMDIRAC3_' cannot start a pod name.*Instance_NamePrefix = dirac-pilot-/,
      ),
    });
    const other = await newCe({ Driver_namespaces: "x" });
    expect(await other.isValid()).toMatchObject({ OK: false, Message: expect.stringContaining("Driver_namespaces") });
  });

  it("isValid() names a template field the API does not have, before any pod is sent", async () => {
    const { readFile } = await import("node:fs/promises");
    const { DEFAULT_MANIFEST_TEMPLATE_PATH } = await import("../../src/context/index.js");
    const template = join(dir, "typo.yaml.hbs");
    await writeFile(
      template,
      (await readFile(DEFAULT_MANIFEST_TEMPLATE_PATH, "utf8")).replace(
        "terminationGracePeriodSeconds:",
        "terminationGracePeriod:",
      ),
    );
    const ce = await newCe({ Context_Template: template });
    const r = await ce.isValid();
    expect(r).toMatchObject({
      OK: false,
      Message: expect.stringContaining("typo.yaml.hbs: a sample pilot renders to user-data the cloud refuses"),
    });
    expect(r.OK ? "" : r.Message).toContain("Pod.spec.terminationGracePeriod: not a field of PodSpec");
    server.reset();
    expect(await ce.submitJob(await pilot("typo.sh", "echo x"), null, 1)).toMatchObject({ OK: false });
    expect(server.calls["create pods"] ?? 0).toBe(0);
  });

  it("runs pilots as pods: the pilot sees its reference and stamp, its output is the pod's log, and it reads Done", async () => {
    const ce = await newCe();
    const exe = await pilot("quick.sh", 'echo "PILOT_UUID=$PILOT_UUID STAMP=$DIRAC_PILOT_STAMP QUEUE=$CLOUDCE_QUEUE"');
    const submitted = await ce.submitJob(exe, null, 2);
    const refs = ok(submitted);
    expect(refs).toHaveLength(2);
    const stamps = submitted.OK ? submitted.PilotStampDict : {};
    for (const ref of refs) {
      expect(ref).toMatch(/^cloud:\/\/dirac-pilot-[0-9a-f]{8}$/);
      await reaches(ce, ref, "Done");
      const [out] = ok(await ce.getJobOutput(ref));
      expect(out).toContain(`PILOT_UUID=${ref} STAMP=${stamps[ref]} QUEUE=default`);
      expect(out).toContain(`cloudce: pilot ${ref} stamp ${stamps[ref]} exited with status 0`);
      const secret = server.cluster.get("secrets", NAMESPACE, `${podOf(ref)}-pilot`);
      expect(secret?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: "Pod", name: podOf(ref) })]);
    }
    const cleaned = ok(await ce.cleanupPilots());
    expect(cleaned.deleted.length).toBeGreaterThanOrEqual(2);
    for (const ref of refs) {
      await eventually(
        async () => server.cluster.get("pods", NAMESPACE, podOf(ref)),
        (p) => p === undefined,
        20_000,
        "the pod to go",
      );
      await eventually(
        async () => server.cluster.get("secrets", NAMESPACE, `${podOf(ref)}-pilot`),
        (s) => s === undefined,
        20_000,
        "the Secret to follow its pod",
      );
      // The CE remembers that the pilot it removed had finished.
      expect(await statusOf(ce, ref)).toBe("Done");
    }
  });

  it("kills exactly the pilot it is asked to: its process ends and nothing recreates it", async () => {
    const ce = await newCe();
    const exe = await pilot("long.sh", "echo started; sleep 300");
    const [keep, kill] = ok(await ce.submitJob(exe, null, 2));
    await reaches(ce, kill!, "Running");
    await reaches(ce, keep!, "Running");
    ok(await ce.killJob([kill!]));
    await reaches(ce, kill!, "Deleted");
    expect(await statusOf(ce, keep!)).toBe("Running");
    await eventually(
      async () => server.cluster.all("pods").filter((p) => p.metadata.name === podOf(kill!)).length,
      (n) => n === 0,
      20_000,
      "the killed pod to be gone",
    );
    ok(await ce.killJob([keep!]));
    await reaches(ce, keep!, "Deleted");
  });

  it("a failed pilot reads Aborted with its reason, and Kubernetes does not retry it", async () => {
    const ce = await newCe();
    const exe = await pilot("fail.sh", "echo failing; exit 3");
    const [ref] = ok(await ce.submitJob(exe, null, 1));
    await reaches(ce, ref!, "Aborted");
    const info = ok(await ce.listPilots()).find((p) => p.ref === ref);
    expect(info?.cloudState).toBe("Failed: Error, exit code 3");
    expect(server.cluster.all("pods").filter((p) => p.metadata.name === podOf(ref!))).toHaveLength(1);
    const oom = ok(await ce.submitJob(await pilot("oom.sh", "sleep 300"), null, 1))[0]!;
    await reaches(ce, oom, "Running");
    server.kubelet.kill(podOf(oom), "OOMKilled");
    await reaches(ce, oom, "Aborted");
    expect(ok(await ce.listPilots()).find((p) => p.ref === oom)?.cloudState).toBe("Failed: OOMKilled, exit code 137");
    ok(await ce.killJob([ref!, oom]));
  });

  it("a pod stuck pulling its image reads Aborted once Instance_MaxBootSeconds has passed, and cleanup removes it", async () => {
    const missing = "registry.example.org/dirac/no-such:1";
    server.kubelet.missingImages.add(missing);
    const ce = await newCe({ Instance_Image: missing, Instance_MaxBootSeconds: "2" });
    const [ref] = ok(await ce.submitJob(await pilot("never.sh", "echo never"), null, 1));
    await eventually(
      async () => ok(await ce.listPilots()).find((p) => p.ref === ref)?.cloudState,
      (s) => s === "Pending: ImagePullBackOff",
      20_000,
      "the pull to back off",
    );
    expect(await statusOf(ce, ref!)).toBe("Waiting");
    await reaches(ce, ref!, "Aborted");
    expect(ok(await ce.listPilots()).find((p) => p.ref === ref)?.cloudState).toBe("Pending: ImagePullBackOff");
    const report = ok(await ce.cleanupPilots());
    expect(report.deleted.map((d) => d.ref ?? d)).toContainEqual(expect.stringContaining(podOf(ref!)));
    await reaches(ce, ref!, "Deleted");
  });

  it("offers what the namespace's ResourceQuota leaves (etc/kubernetes/resourcequota.yaml)", async () => {
    const quota = siteObject("resourcequota.yaml");
    server.cluster.create("resourcequotas", NAMESPACE, {
      metadata: { name: quota["metadata"]["name"] },
      spec: quota["spec"],
    });
    try {
      const ce = await newCe({ MaxTotalJobs: "1000", MaxWaitingJobs: "1000" });
      const hard = Number(quota.spec?.hard?.["pods"]);
      const used = server.cluster.usage(NAMESPACE)["pods"]!;
      expect(ok(await ce.available())).toBe(hard - used);
      server.cluster.remove("resourcequotas", NAMESPACE, quota["metadata"]["name"]);
      server.cluster.create("resourcequotas", NAMESPACE, {
        metadata: { name: "full" },
        spec: { hard: { pods: String(used) } },
      });
      expect(ok(await ce.available())).toBe(0);
      expect(await ce.submitJob(await pilot("q.sh", "echo q"), null, 1)).toMatchObject({
        OK: false,
        Message: expect.stringContaining("ResourceQuota has no room"),
      });
    } finally {
      server.cluster.remove("resourcequotas", NAMESPACE, quota["metadata"]["name"]);
      server.cluster.remove("resourcequotas", NAMESPACE, "full");
    }
  });

  it("pilots that end as soon as they start make available() back off (fizzle)", async () => {
    const ce = await newCe({
      Fizzle_Seconds: "60",
      Fizzle_Count: "2",
      Backoff_Seconds: "900",
      Instance_NamePrefix: "fizzle-",
    });
    const refs = ok(await ce.submitJob(await pilot("fizzle.sh", "exit 0"), null, 2));
    for (const ref of refs) await reaches(ce, ref, "Done");
    const r = await ce.available();
    expect(r).toMatchObject({ OK: true, Value: 0 });
    expect(r.OK ? r.CEInfoDict.Reason : "").toMatch(/stopped within Fizzle_Seconds \(60 s\)/);
  });
});
