/** A KUBERNETES driver wired to the stand-in through a kubeconfig file: what Kubernetes tests start from. */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudDriver } from "../../../src/drivers/driver.js";
import { KubernetesDriver } from "../../../src/drivers/kubernetes/index.js";
import { parseOptions } from "../../../src/drivers/kubernetes/options.js";
import { instantiateDriver } from "../../../src/drivers/registry.js";
import { silentLogger } from "../../../src/log.js";
import { startKubeServer, type KubeServer, type KubeServerOptions } from "./server.js";

/** The site setup the docs tell an admin to apply: the tests use these very files. */
const ETC = ["../../../etc/kubernetes/", "../../../../etc/kubernetes/"]
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  // The benchmark runs this file compiled one level deeper (.bench-dist/).
  .find((dir) => existsSync(join(dir, "role.yaml")))!;
export const siteObject = (file: string): Record<string, any> => parse(readFileSync(join(ETC, file), "utf8")) as Record<string, any>;
export const NAMESPACE: string = siteObject("namespace.yaml")["metadata"]["name"];

/** A kubeconfig for the stand-in: one cluster, one token user, a context with the pilots' namespace. */
export function writeKubeconfig(server: KubeServer, dir: string, token: string = server.token): string {
  const path = join(dir, "kubeconfig");
  writeFileSync(path, [
    "apiVersion: v1", "kind: Config", "current-context: stand-in",
    "clusters:", "  - name: stand-in", "    cluster:", `      server: ${server.url}`, "      insecure-skip-tls-verify: true",
    "users:", "  - name: cloudce", "    user:", `      token: ${token}`,
    "contexts:", "  - name: stand-in", "    context:", "      cluster: stand-in", "      user: cloudce", `      namespace: ${NAMESPACE}`,
    "",
  ].join("\n"), { mode: 0o600 });
  return path;
}

export interface KubeDriverFixture {
  readonly server: KubeServer;
  readonly driver: CloudDriver;
  readonly kubeconfig: string;
  readonly dir: string;
  close(): Promise<void>;
}

export async function kubeDriver(kubeconfig: string, options: Record<string, string> = {}, requestTimeoutMs = 10_000): Promise<CloudDriver> {
  return instantiateDriver((config) => new KubernetesDriver(config, parseOptions(config.options)), {
    options: { kubeconfig, ...options },
    credentials: async () => ({ extra: {} }),
    ceName: "kube-test",
    logger: silentLogger,
    requestTimeoutMs,
  }, "KUBERNETES");
}

export async function startKubeFixture(opts: { server?: KubeServerOptions; options?: Record<string, string> } = {}): Promise<KubeDriverFixture> {
  const server = await startKubeServer({ namespaces: [NAMESPACE], ...opts.server });
  server.applyRole(siteObject("role.yaml"));
  const dir = mkdtempSync(join(tmpdir(), "kube-fixture-"));
  const kubeconfig = writeKubeconfig(server, dir);
  const driver = await kubeDriver(kubeconfig, opts.options);
  return {
    server, driver, kubeconfig, dir,
    close: async () => {
      await driver.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A manifest whose pilot runs `script` from its Secret: the shape the default template renders. */
export function testManifest(script: string): Uint8Array {
  const indented = script.split("\n").map((l) => `    ${l}`).join("\n");
  return new Uint8Array(Buffer.from([
    "apiVersion: v1", "kind: Secret", "metadata:", "  name: pilot", "stringData:", "  pilot.sh: |", indented,
    "---",
    "apiVersion: v1", "kind: Pod", "metadata: {}", "spec:", "  containers:", "    - name: pilot",
    "      command: [/bin/sh, /etc/cloudce/pilot/pilot.sh]",
    "      volumeMounts:", "        - name: pilot", "          mountPath: /etc/cloudce/pilot",
    "  volumes:", "    - name: pilot", "      secret:", "        secretName: pilot", "",
  ].join("\n")));
}
