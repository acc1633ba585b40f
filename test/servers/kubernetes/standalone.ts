/**
 * The Kubernetes stand-in as a process of its own, for tests written in other
 * languages (the DIRAC plugin's pytest suite). Its pods run no process (a
 * DIRAC pilot wrapper would fetch DIRAC): they run until deleted. Prints one
 * JSON line with the kubeconfig it wrote and an image, then serves on
 * 127.0.0.1 until stdin ends.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKubeServer } from "./server.js";
import { NAMESPACE, siteObject, writeKubeconfig } from "./site.js";

const server = await startKubeServer({ namespaces: [NAMESPACE], runProcesses: false });
server.applyRole(siteObject("role.yaml"));
const dir = mkdtempSync(join(tmpdir(), "kube-standalone-"));
const facts = {
  kubeconfig: writeKubeconfig(server, dir),
  namespace: NAMESPACE,
  image: "registry.example.org/dirac/pilot:el9",
  flavor: "1cpu-2gb",
};
process.stdout.write(`${JSON.stringify(facts)}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  void server.close().finally(() => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
