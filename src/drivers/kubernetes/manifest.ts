/**
 * The user-data of a KUBERNETES node is a manifest: a YAML stream holding
 * one Pod and the Secrets it mounts (the CE renders it from a template such
 * as templates/kubernetes-pod.yaml.hbs). Before any call the driver checks
 * it against the API's models, names the pod, labels it, gives containers
 * without an image the requested one and the first container the flavor's
 * CPU and memory, and renames the manifest's own Secrets after the pod so
 * that every pod has its own. Nothing here knows what runs in the pod.
 */

import { parseAllDocuments } from "yaml";
import type { V1Pod, V1Secret } from "@kubernetes/client-node";
import { CloudceError } from "../../errors.js";
import { DRIVER_NAME } from "./options.js";
import { metadataObjects, NAME_ANNOTATION, REQUEST_ANNOTATION } from "./names.js";
import { schemaProblem } from "./schema.js";

/** Kubernetes refuses a Secret whose data exceeds 1 MiB. */
export const SECRET_MAX_BYTES = 1_048_576;

type Obj = Record<string, unknown>;

export interface ParsedManifest {
  readonly pod: Obj;
  readonly secrets: readonly Obj[];
}

export interface PodTarget {
  readonly podName: string;
  readonly namespace: string;
  readonly vmName: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly requestId: string;
  readonly image: string;
  readonly cpu: string;
  readonly memory: string;
}

export interface PodPlan {
  readonly pod: V1Pod;
  /** Created once the pod exists, owned by it. */
  readonly secrets: readonly V1Secret[];
}

const isMapping = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function invalid(problem: string): CloudceError {
  return new CloudceError("UserDataInvalid", `${DRIVER_NAME}: the rendered pod manifest ${problem}`, {
    driver: DRIVER_NAME,
    refused: { input: "user-data", problem: "malformed" },
  });
}

function secretBytes(secret: Obj): number {
  const data = isMapping(secret["data"]) ? Object.values(secret["data"]) : [];
  const strings = isMapping(secret["stringData"]) ? Object.values(secret["stringData"]) : [];
  return (
    data.reduce<number>((n, v) => n + Buffer.from(String(v), "base64").length, 0) +
    strings.reduce<number>((n, v) => n + Buffer.byteLength(String(v), "utf8"), 0)
  );
}

function checkSecret(secret: Obj, index: number): void {
  const name = isMapping(secret["metadata"]) ? secret["metadata"]["name"] : undefined;
  if (typeof name !== "string" || !/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/.test(name)) {
    throw invalid(
      `document ${index + 1}: a Secret needs metadata.name, a short local name such as 'pilot' (lower-case letters, digits, '-', at most 32)`,
    );
  }
  const problem = schemaProblem(secret, "V1Secret", "Secret");
  if (problem) throw invalid(`document ${index + 1}: ${problem}`);
  const bytes = secretBytes(secret);
  if (bytes > SECRET_MAX_BYTES) {
    throw new CloudceError(
      "UserDataTooLarge",
      `${DRIVER_NAME}: Secret '${name}' of the pod manifest holds ${bytes} bytes, ` +
        `over Kubernetes' limit of ${SECRET_MAX_BYTES} bytes for a Secret: use a smaller pilot executable`,
      { driver: DRIVER_NAME },
    );
  }
}

function checkPod(pod: Obj, index: number): void {
  const problem = schemaProblem(pod, "V1Pod", "Pod");
  if (problem) throw invalid(`document ${index + 1}: ${problem}`);
  const spec = pod["spec"];
  if (!isMapping(spec) || !Array.isArray(spec["containers"]) || spec["containers"].length === 0)
    throw invalid(`document ${index + 1}: the Pod needs spec.containers with at least one container`);
  for (const [i, c] of (spec["containers"] as unknown[]).entries()) {
    if (!isMapping(c) || typeof c["name"] !== "string" || c["name"] === "")
      throw invalid(`document ${index + 1}: spec.containers[${i}] needs a name`);
  }
  const restart = spec["restartPolicy"];
  if (restart !== undefined && restart !== "Never") {
    throw invalid(
      `document ${index + 1}: spec.restartPolicy is '${String(restart).slice(0, 20)}': it must be Never (or absent), ` +
        `so that Kubernetes never retries a pilot; the site director decides`,
    );
  }
  if (isMapping(pod["metadata"]) && pod["metadata"]["ownerReferences"] !== undefined)
    throw invalid(
      `document ${index + 1}: the Pod may not have metadata.ownerReferences: nothing else may delete a pilot`,
    );
}

/** Parses and checks a manifest; throws UserDataInvalid or UserDataTooLarge naming the document and field. */
export function parseManifest(userData: Uint8Array): ParsedManifest {
  // YAML 1.1, as kubectl reads manifests: `defaultMode: 0500` is octal.
  const docs = parseAllDocuments(Buffer.from(userData).toString("utf8"), { version: "1.1" });
  if (!Array.isArray(docs)) throw invalid("is empty: it needs one Pod");
  const objects: Obj[] = [];
  for (const [i, doc] of docs.entries()) {
    if (doc.errors.length > 0)
      throw invalid(`document ${i + 1} is not valid YAML (line ${doc.errors[0]!.linePos?.[0].line ?? "?"})`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isMapping(value) || value["apiVersion"] !== "v1" || (value["kind"] !== "Pod" && value["kind"] !== "Secret")) {
      throw invalid(
        `document ${i + 1}: only apiVersion v1 kinds Pod and Secret are created ` +
          `(got ${isMapping(value) ? `${String(value["apiVersion"]).slice(0, 30)} ${String(value["kind"]).slice(0, 30)}` : "no mapping"})`,
      );
    }
    if (value["kind"] === "Pod") checkPod(value, i);
    else checkSecret(value, i);
    objects.push(value);
  }
  const pods = objects.filter((o) => o["kind"] === "Pod");
  if (pods.length !== 1) throw invalid(`holds ${pods.length} Pods: it needs exactly one`);
  const secrets = objects.filter((o) => o["kind"] === "Secret");
  const names = secrets.map((s) => (s["metadata"] as Obj)["name"]);
  if (new Set(names).size !== names.length) throw invalid("names a Secret twice");
  return { pod: pods[0]!, secrets };
}

/** Points every reference to one of the manifest's Secrets at its per-pod name. */
function renameSecretRefs(spec: Obj, rename: (name: unknown) => unknown): void {
  const each = (v: unknown, f: (o: Obj) => void): void => {
    if (Array.isArray(v)) for (const o of v) if (isMapping(o)) f(o);
  };
  each(spec["volumes"], (vol) => {
    if (isMapping(vol["secret"])) vol["secret"]["secretName"] = rename(vol["secret"]["secretName"]);
    if (isMapping(vol["projected"]))
      each(vol["projected"]["sources"], (src) => {
        if (isMapping(src["secret"])) src["secret"]["name"] = rename(src["secret"]["name"]);
      });
  });
  for (const list of ["containers", "initContainers"]) {
    each(spec[list], (c) => {
      each(c["env"], (e) => {
        const ref = isMapping(e["valueFrom"]) ? e["valueFrom"]["secretKeyRef"] : undefined;
        if (isMapping(ref)) ref["name"] = rename(ref["name"]);
      });
      each(c["envFrom"], (e) => {
        if (isMapping(e["secretRef"])) e["secretRef"]["name"] = rename(e["secretRef"]["name"]);
      });
    });
  }
}

function withDefaults(container: Obj, target: PodTarget, first: boolean): Obj {
  const out: Obj = { ...container, image: container["image"] ?? target.image };
  if (!first) return out;
  const resources: Obj = isMapping(container["resources"]) ? { ...container["resources"] } : {};
  const wanted = { cpu: target.cpu, memory: target.memory };
  resources["requests"] = { ...wanted, ...(isMapping(resources["requests"]) ? resources["requests"] : {}) };
  resources["limits"] = { ...wanted, ...(isMapping(resources["limits"]) ? resources["limits"] : {}) };
  return { ...out, resources };
}

/** The pod and secrets to send for one node. */
export function planPod(parsed: ParsedManifest, target: PodTarget): PodPlan {
  const manifest = structuredClone(parsed);
  const { labels, annotations } = metadataObjects(target.metadata);
  const local = new Set(manifest.secrets.map((s) => (s["metadata"] as Obj)["name"] as string));
  const rename = (name: unknown): unknown =>
    typeof name === "string" && local.has(name) ? `${target.podName}-${name}` : name;
  const spec = manifest.pod["spec"] as Obj;
  renameSecretRefs(spec, rename);
  spec["containers"] = (spec["containers"] as Obj[]).map((c, i) => withDefaults(c, target, i === 0));
  if (Array.isArray(spec["initContainers"]))
    spec["initContainers"] = (spec["initContainers"] as Obj[]).map((c) => withDefaults(c, target, false));
  spec["restartPolicy"] = "Never";
  const meta = isMapping(manifest.pod["metadata"]) ? manifest.pod["metadata"] : {};
  const pod = {
    ...manifest.pod,
    metadata: {
      ...meta,
      name: target.podName,
      namespace: target.namespace,
      labels: { ...(isMapping(meta["labels"]) ? meta["labels"] : {}), ...labels },
      annotations: {
        ...(isMapping(meta["annotations"]) ? meta["annotations"] : {}),
        ...annotations,
        [NAME_ANNOTATION]: target.vmName,
        [REQUEST_ANNOTATION]: target.requestId,
      },
    },
    spec,
  } as unknown as V1Pod;
  delete (pod.metadata as Obj)["generateName"];
  const secrets = manifest.secrets.map(
    (s) =>
      ({
        ...s,
        metadata: {
          ...(s["metadata"] as Obj),
          name: rename((s["metadata"] as Obj)["name"]),
          namespace: target.namespace,
          labels,
        },
      }) as unknown as V1Secret,
  );
  return { pod, secrets };
}
