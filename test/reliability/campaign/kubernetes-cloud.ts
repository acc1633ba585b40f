/** The Kubernetes stand-in for the fault campaign (pods without processes: the campaign finishes them). */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kubernetesFactory from "../../../src/drivers/kubernetes/index.js";
import { encodeLabelValue, KUBERNETES_NAME_RULE } from "../../../src/drivers/kubernetes/names.js";
import { instantiateDriver, registerDriver } from "../../../src/drivers/registry.js";
import type { KubeObject } from "../../servers/kubernetes/objects.js";
import { NAMESPACE, siteObject, writeKubeconfig } from "../../servers/kubernetes/driver-fixture.js";
import { startKubeServer, type KubeFault, type KubeServer } from "../../servers/kubernetes/server.js";
import { CAMPAIGN_TIMEOUT_MS, connectionFault, pageChange, whenIdle, type CampaignCloud } from "./campaign-cloud.js";
import type { Fault, FaultTarget, Scenario } from "./scenario.js";

const CALLS: Record<FaultTarget, string | undefined> = {
  create: "create pods",
  list: "list pods",
  delete: "delete pods",
  lookup: "get pods",
  // A kubeconfig token needs no login.
  auth: undefined,
};

registerDriver(
  "KUBERNETES_CAMPAIGN",
  (config) => instantiateDriver(kubernetesFactory, { ...config, requestTimeoutMs: CAMPAIGN_TIMEOUT_MS }, "KUBERNETES"),
  KUBERNETES_NAME_RULE,
);

const QUOTA = "campaign";
const cpusOf = (pod: KubeObject): number => Number(pod.spec?.containers?.[0]?.resources?.requests?.cpu ?? 0);

export async function startKubernetesCampaignCloud(sc: Scenario): Promise<CampaignCloud> {
  const server = await startKubeServer({ namespaces: [NAMESPACE], runProcesses: false });
  server.applyRole(siteObject("role.yaml"));
  const dir = mkdtempSync(join(tmpdir(), "cloudce-campaign-k8s-"));
  const kubeconfig = writeKubeconfig(server, dir);
  const cluster = server.cluster;
  // Another CE's pod with this CE's prefix: a listing that drops its selector shows it.
  addForeign(server);
  const ours = (ce: string): KubeObject[] =>
    [...cluster.podHistory.values()].filter(
      (p) => p.metadata.labels?.["cloudce.dirac/cloudce-ce"] === encodeLabelValue(ce),
    );
  const gone = (pod: KubeObject): boolean =>
    pod.metadata.deletionTimestamp !== undefined ||
    cluster.get("pods", NAMESPACE, pod.metadata.name)?.metadata.uid !== pod.metadata.uid;
  const firstCpus = sc.fallback ? 2 : 1;
  const setQuota = (hard: Record<string, string>): void => {
    cluster.remove("resourcequotas", NAMESPACE, QUOTA);
    cluster.create("resourcequotas", NAMESPACE, { metadata: { name: QUOTA }, spec: { hard } });
  };
  return {
    name: "kubernetes",
    ceOptions: {
      CloudType: "KUBERNETES_CAMPAIGN",
      Driver_kubeconfig: kubeconfig,
      Driver_page_size: sc.smallPages ? "2" : "500",
      Instance_Image: "registry.example.org/dirac/pilot:el9",
      Instance_Flavor: sc.fallback ? "2cpu-4gb, 1cpu-2gb" : "1cpu-2gb",
    },
    secrets: () => [server.token],
    inject: (f) => {
      const usage = cluster.usage(NAMESPACE);
      // Room for fewer pods than asked; or a CPU quota with room for times - 1 pods of the first flavor, and one CPU more.
      if (f.kind === "partial") return setQuota({ pods: String(usage["pods"]! + f.times - 1) });
      if (f.kind === "clip")
        return setQuota({ "requests.cpu": String(usage["requests.cpu"]! + (f.times - 1) * firstCpus + 1) });
      for (const spec of specs(server, f)) server.inject(spec);
    },
    clearFaults: () => {
      server.reset();
      cluster.remove("resourcequotas", NAMESPACE, QUOTA);
    },
    createCalls: () => server.calls["create pods"] ?? 0,
    // Creates in flight (Submit_Concurrency 3), each retried up to three more times with its request token.
    createsAfterStop: 12,
    faultsFired: () => server.faultsFired(),
    vms: (ce) =>
      ours(ce).map((p) => ({
        id: p.metadata.name,
        name: p.metadata.annotations?.["cloudce.dirac/vm-name"] ?? "",
        live: !gone(p),
      })),
    // A fallback round sends the same name with another flavor: only a name twice on one flavor is a double.
    doubled: (ce) => {
      const byName = new Map<string, number>();
      for (const p of ours(ce)) {
        const key = `${p.metadata.name} ${cpusOf(p)}`;
        byName.set(key, (byName.get(key) ?? 0) + 1);
      }
      return [...byName.values()].reduce((n, c) => n + c - 1, 0);
    },
    deleting: (id) => {
      const pod = cluster.get("pods", NAMESPACE, id);
      return pod === undefined || pod.metadata.deletionTimestamp !== undefined;
    },
    quiesce: () => whenIdle(() => server.inFlight()),
    finish: (ids) => {
      for (const id of ids) server.kubelet.finish(id);
    },
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function specs(server: KubeServer, f: Fault): KubeFault[] {
  const call = CALLS[f.target];
  if (call === undefined) return [];
  const times = f.times;
  switch (f.kind) {
    case "latency":
    case "reset":
    case "lost":
      return [{ call, ...connectionFault(f.kind, times) }];
    case "5xx":
      return [{ call, kind: "error", status: [500, 502, 503][times - 1]!, times }];
    case "429":
      return [{ call, kind: "rateLimit", retryAfter: 0, times }];
    case "tokenRevoked":
      return [{ call, kind: "unauthorized", times }];
    case "pageChange":
      // Between two pages another CE's pod with this CE's prefix appears.
      return pageChange(times, () => addForeign(server)).map((spec) => ({ call: "list pods", ...spec }));
    case "unfiltered":
      return [{ call: "list pods", kind: "unfiltered", times }];
    case "partial":
    case "clip":
    case "lag":
      // An API server lists what it stored: a listing never lags behind a create.
      return [];
  }
}

function addForeign(server: KubeServer): void {
  const name = `dirac-pilot-${Math.floor(Math.random() * 0xffffffff)
    .toString(16)
    .padStart(8, "0")}`;
  server.cluster.create("pods", NAMESPACE, {
    metadata: {
      name,
      labels: { "cloudce.dirac/cloudce-ce": "someone-else.example.org" },
      annotations: { "cloudce.dirac/vm-name": name, "meta.cloudce.dirac/cloudce-ce": "someone-else.example.org" },
    },
    spec: { containers: [{ name: "pilot", image: "registry.example.org/dirac/pilot:el9" }] },
  });
}
