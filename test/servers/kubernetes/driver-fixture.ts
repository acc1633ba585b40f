/** A KUBERNETES driver wired to the stand-in through a kubeconfig file: what Kubernetes tests start from. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CloudDriver } from "../../../src/drivers/driver.js";
import { KubernetesDriver } from "../../../src/drivers/kubernetes/index.js";
import { parseOptions } from "../../../src/drivers/kubernetes/options.js";
import type { ConnectionDeps } from "../../../src/drivers/kubernetes/connection.js";
import { instantiateDriver } from "../../../src/drivers/registry.js";
import { silentLogger } from "../../../src/log.js";
import { startKubeServer, type KubeServer, type KubeServerOptions } from "./server.js";
import { NAMESPACE, siteObject, writeKubeconfig } from "./site.js";

export { NAMESPACE, siteObject, writeKubeconfig } from "./site.js";

export interface KubeDriverFixture {
  readonly server: KubeServer;
  readonly driver: CloudDriver;
  readonly kubeconfig: string;
  readonly dir: string;
  close(): Promise<void>;
}

export async function kubeDriver(
  kubeconfig: string,
  options: Record<string, string> = {},
  requestTimeoutMs = 10_000,
  deps: ConnectionDeps = {},
): Promise<CloudDriver> {
  return instantiateDriver(
    (config) => new KubernetesDriver(config, parseOptions(config.options), deps),
    {
      options: { kubeconfig, ...options },
      credentials: async () => ({ extra: {} }),
      ceName: "kube-test",
      logger: silentLogger,
      requestTimeoutMs,
    },
    "KUBERNETES",
  );
}

export async function startKubeFixture(
  opts: { server?: KubeServerOptions; options?: Record<string, string> } = {},
): Promise<KubeDriverFixture> {
  const server = await startKubeServer({ namespaces: [NAMESPACE], ...opts.server });
  server.applyRole(siteObject("role.yaml"));
  const dir = mkdtempSync(join(tmpdir(), "kube-fixture-"));
  const kubeconfig = writeKubeconfig(server, dir);
  const driver = await kubeDriver(kubeconfig, opts.options);
  return {
    server,
    driver,
    kubeconfig,
    dir,
    close: async () => {
      await driver.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A manifest whose pilot runs `script` from its Secret: the shape the default template renders. */
export function testManifest(script: string): Uint8Array {
  const indented = script
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
  return new Uint8Array(
    Buffer.from(
      [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        "  name: pilot",
        "stringData:",
        "  pilot.sh: |",
        indented,
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata: {}",
        "spec:",
        "  containers:",
        "    - name: pilot",
        "      command: [/bin/sh, /etc/cloudce/pilot/pilot.sh]",
        "      volumeMounts:",
        "        - name: pilot",
        "          mountPath: /etc/cloudce/pilot",
        "  volumes:",
        "    - name: pilot",
        "      secret:",
        "        secretName: pilot",
        "",
      ].join("\n"),
    ),
  );
}
