// Bundles a test cloud (default test/servers/openstack/standalone.ts) into one .mjs file that plain
// node runs, for the DIRAC plugin's tests. Usage: node scripts/bundle-test-cloud.mjs OUT.mjs [IN.ts]
import { build } from "rolldown";

const out = process.argv[2];
if (!out) {
  process.stderr.write("usage: node scripts/bundle-test-cloud.mjs OUT.mjs [test/servers/<cloud>/standalone.ts]\n");
  process.exit(2);
}
await build({
  input: process.argv[3] ? new URL(`../${process.argv[3]}`, import.meta.url).pathname : new URL("../test/servers/openstack/standalone.ts", import.meta.url).pathname,
  platform: "node",
  logLevel: "silent",
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  output: { file: out, format: "esm", codeSplitting: false },
});
