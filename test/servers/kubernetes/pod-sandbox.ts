/**
 * What a pod's container sees when the stand-in's kubelet runs it: the
 * Secrets it uses, its volumes as directories of a sandbox (Secret files
 * written), and its environment with field and Secret references resolved.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Cluster } from "./cluster.js";
import type { KubeObject, Pod } from "./objects.js";

/** The Secrets a pod uses, or undefined while one is missing. */
export function secretsOf(cluster: Cluster, pod: Pod): Map<string, KubeObject> | undefined {
  const names = new Set<string>();
  for (const v of pod.spec.volumes ?? []) if (v.secret?.secretName) names.add(v.secret.secretName);
  for (const c of pod.spec.containers)
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef?.name) names.add(e.valueFrom.secretKeyRef.name);
  const found = new Map<string, KubeObject>();
  for (const n of names) {
    const s = cluster.get("secrets", pod.metadata.namespace, n);
    if (!s) return undefined;
    found.set(n, s);
  }
  return found;
}

function secretValue(secret: KubeObject, key: string): string | undefined {
  const plain = secret.stringData?.[key];
  if (plain !== undefined) return String(plain);
  const encoded = secret.data?.[key];
  return encoded !== undefined ? Buffer.from(String(encoded), "base64").toString("utf8") : undefined;
}

/** Mount path → sandbox directory, with the Secrets' files written; longest mount path first. */
export function mountVolumes(sandbox: string, pod: Pod, secrets: Map<string, KubeObject>): [string, string][] {
  const out: [string, string][] = [];
  for (const [i, m] of (pod.spec.containers[0].volumeMounts ?? []).entries()) {
    const dir = join(sandbox, `vol${i}`);
    mkdirSync(dir, { recursive: true });
    const source = (pod.spec.volumes ?? []).find((v) => v.name === m.name)?.secret;
    const secret = source ? secrets.get(source.secretName) : undefined;
    if (source && secret) {
      for (const key of new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])) {
        const path = join(dir, (source.items ?? []).find((it) => it.key === key)?.path ?? key);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, secretValue(secret, key) ?? "", { mode: source.defaultMode ?? 0o644 });
      }
    }
    out.push([m.mountPath, dir]);
  }
  return out.sort((a, b) => b[0].length - a[0].length);
}

/** The container's environment: `home` as HOME, references resolved, mount paths mapped by `mapPath`. */
export function podEnvironment(
  pod: Pod,
  home: string,
  secrets: Map<string, KubeObject>,
  mapPath: (s: string) => string,
): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: home,
    HOSTNAME: pod.metadata.name,
  };
  const fields: Record<string, string> = {
    "metadata.name": pod.metadata.name,
    "metadata.namespace": pod.metadata.namespace,
    "metadata.uid": pod.metadata.uid,
    "spec.nodeName": pod.spec.nodeName ?? "",
  };
  for (const e of pod.spec.containers[0].env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    const raw = e.valueFrom?.fieldRef
      ? (fields[e.valueFrom.fieldRef.fieldPath] ?? "")
      : ref
        ? (secretValue(secrets.get(ref.name)!, ref.key) ?? "")
        : String(e.value ?? "");
    // $(VAR) names an earlier variable; $$ escapes.
    env[e.name] = mapPath(
      raw.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v: string | undefined) =>
        v === undefined ? "$" : (env[v] ?? m),
      ),
    );
  }
  return env;
}
