/** The stand-in as a site sees it: the site setup of etc/kubernetes/ and a kubeconfig for the API. */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { SiteManifest } from "./objects.js";
import type { KubeServer } from "./server.js";

/** The site setup the docs tell an admin to apply: the tests use these very files. */
const ETC = [
  ...["../../../etc/kubernetes/", "../../../../etc/kubernetes/"].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  ),
  // Bundled into one file elsewhere (the DIRAC tests run it from python/).
  join(process.cwd(), "etc/kubernetes"),
  join(process.cwd(), "../etc/kubernetes"),
]
  // The benchmark runs this file compiled one level deeper (.bench-dist/).
  .find((dir) => existsSync(join(dir, "role.yaml")))!;
export const siteObject = (file: string): SiteManifest => parse(readFileSync(join(ETC, file), "utf8")) as SiteManifest;
export const NAMESPACE: string = siteObject("namespace.yaml").metadata.name;

/** A kubeconfig for the stand-in: one cluster, one token user, a context with the pilots' namespace. */
export function writeKubeconfig(server: KubeServer, dir: string, token: string = server.token): string {
  const path = join(dir, "kubeconfig");
  writeFileSync(
    path,
    [
      "apiVersion: v1",
      "kind: Config",
      "current-context: stand-in",
      "clusters:",
      "  - name: stand-in",
      "    cluster:",
      `      server: ${server.url}`,
      "      insecure-skip-tls-verify: true",
      "users:",
      "  - name: cloudce",
      "    user:",
      `      token: ${token}`,
      "contexts:",
      "  - name: stand-in",
      "    context:",
      "      cluster: stand-in",
      "      user: cloudce",
      `      namespace: ${NAMESPACE}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  return path;
}
