/** The pod manifest: the shipped template renders one, and the driver checks and completes it before any call. */

import { describe, expect, it } from "vitest";
import { DEFAULT_MANIFEST_TEMPLATE_PATH, encodeUserData, loadContextRenderer } from "../../src/context/index.js";
import { isCloudceError } from "../../src/errors.js";
import { parseManifest, planPod, SECRET_MAX_BYTES } from "../../src/drivers/kubernetes/manifest.js";
import { encodeLabelValue, podName } from "../../src/drivers/kubernetes/names.js";
import { testManifest } from "../servers/kubernetes/driver-fixture.js";

const target = {
  podName: "dirac-pilot-abcd1234",
  namespace: "pilots",
  vmName: "dirac-pilot-ABCD1234",
  metadata: { "cloudce-ce": "cloud.mysite.example", "cloudce-queue": "Long Queue" },
  requestId: "req-1",
  image: "registry.example.org/dirac/pilot:el9",
  cpu: "4",
  memory: "8192Mi",
};
const bytes = (text: string) => new Uint8Array(Buffer.from(text));
const input = (executable: string) => ({
  executable,
  stamp: { literal: "0123456789abcdef0123456789abcdef" },
  ceName: "cloud.mysite.example",
  queue: "Long Queue",
  vmName: "dirac-pilot-ABCD1234",
  extPackages: [],
  options: { Context_MaxLifetime: "7200" },
});

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isCloudceError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return "no error";
}

describe("the shipped pod template", () => {
  it("renders a Secret with the pilot byte-exact and a Pod that runs it with the stamp, the reference and the lifetime", async () => {
    const renderer = await loadContextRenderer(DEFAULT_MANIFEST_TEMPLATE_PATH, "kubernetes-manifest");
    const pilot = "#!/bin/bash\necho \"pilot\" 'quoted' # {{x}} é\n";
    const plan = planPod(parseManifest(bytes(renderer.render(input(pilot)))), target);
    const [secret] = plan.secrets;
    expect(secret?.metadata?.name).toBe("dirac-pilot-abcd1234-pilot");
    expect(secret?.stringData?.["run_pilot.sh"]).toBe(pilot);
    const spec = plan.pod.spec!;
    expect(spec.restartPolicy).toBe("Never");
    expect(spec.activeDeadlineSeconds).toBe(7200);
    expect(spec.volumes?.find((v) => v.name === "pilot")?.secret).toEqual({
      secretName: "dirac-pilot-abcd1234-pilot",
      defaultMode: 0o440,
    });
    const c = spec.containers[0]!;
    expect(c.image).toBe(target.image);
    expect(c.resources).toEqual({ requests: { cpu: "4", memory: "8192Mi" }, limits: { cpu: "4", memory: "8192Mi" } });
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({
      PILOT_UUID: "cloud://$(POD_NAME)",
      DIRAC_PILOT_STAMP: "0123456789abcdef0123456789abcdef",
      CLOUDCE_QUEUE: "Long Queue",
    });
    expect(plan.pod.metadata?.annotations?.["cluster-autoscaler.kubernetes.io/safe-to-evict"]).toBe("false");
    expect(plan.pod.metadata?.labels).toEqual({
      "cloudce.dirac/cloudce-ce": "cloud.mysite.example",
      "cloudce.dirac/cloudce-queue": encodeLabelValue("Long Queue"),
    });
  });

  it("is refused at load when no Secret carries the pilot", async () => {
    const { writeFile, mkdtemp } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const path = join(await mkdtemp(join(tmpdir(), "kube-tpl-")), "pod.yaml.hbs");
    await writeFile(
      path,
      "apiVersion: v1\nkind: Pod\nmetadata: {}\nspec:\n  containers:\n    - name: pilot\n      args: [{{yamlString executable}}]\n",
    );
    await expect(loadContextRenderer(path, "kubernetes-manifest")).rejects.toThrow(
      /pod\.yaml\.hbs:\d+: no Secret carries the pilot executable byte-exact/,
    );
  });
});

describe("the driver's manifest checks (before any call)", () => {
  it("names a misspelt field with its path", () => {
    const text = Buffer.from(testManifest("echo hi")).toString().replace("volumeMounts:", "volumeMount:");
    expect(problem(() => parseManifest(bytes(text)))).toMatch(
      /^UserDataInvalid: .*document 2: Pod\.spec\.containers\[0\]\.volumeMount: not a field of Container/,
    );
  });

  it("refuses a restart policy that would make Kubernetes retry a pilot", () => {
    const text = `${Buffer.from(testManifest("echo hi")).toString()}  restartPolicy: OnFailure\n`;
    expect(problem(() => parseManifest(bytes(text)))).toMatch(/restartPolicy is 'OnFailure': it must be Never/);
  });

  it("refuses anything but one Pod and its Secrets", () => {
    expect(problem(() => parseManifest(bytes("apiVersion: batch/v1\nkind: Job\nmetadata: {}\n")))).toMatch(
      /only apiVersion v1 kinds Pod and Secret/,
    );
    expect(problem(() => parseManifest(bytes("apiVersion: v1\nkind: Secret\nmetadata: {name: pilot}\n")))).toMatch(
      /holds 0 Pods/,
    );
  });

  it("refuses a pilot too big for a Secret in one line, and the CE refuses the manifest before compressing it", () => {
    const big = "x".repeat(SECRET_MAX_BYTES + 1);
    const text = Buffer.from(testManifest(big)).toString();
    expect(problem(() => parseManifest(bytes(text)))).toMatch(
      /^UserDataTooLarge: KUBERNETES: Secret 'pilot' of the pod manifest holds \d+ bytes, over Kubernetes' limit of 1048576 bytes/,
    );
    expect(
      problem(() =>
        encodeUserData(text, { maxBytes: SECRET_MAX_BYTES, measuredAs: "raw", format: "kubernetes-manifest" }),
      ),
    ).toMatch(/^UserDataTooLarge: the pod manifest is \d+ bytes, over the cloud's limit of 1048576 bytes/);
  });
});

describe("names and labels", () => {
  it("encodes label values without collisions and keeps valid ones readable", () => {
    const values = [
      "cloud.mysite.example",
      "Long Queue",
      "x_4c",
      "a_b",
      "a-",
      "-a",
      "é",
      "",
      "x".repeat(70),
      "x".repeat(71),
    ];
    const encoded = values.map(encodeLabelValue);
    expect(encoded[0]).toBe("cloud.mysite.example");
    expect(new Set(encoded).size).toBe(values.length);
    for (const e of encoded) expect(e).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
    for (const e of encoded) expect(e.length).toBeLessThanOrEqual(63);
  });

  it("gives a pod the name the CE gave, and refuses one that is no pod name rather than rewrite it", () => {
    expect(podName("dirac-pilot-abcd1234")).toBe("dirac-pilot-abcd1234");
    for (const bad of ["VMDIRAC3_abcd1234", "dirac-pilot-ABCD1234"])
      expect(problem(() => podName(bad))).toMatch(/^OptionInvalid: KUBERNETES: .* cannot be a pod name/);
  });
});
