// Bundles the OpenStack test cloud (test/servers/openstack/standalone.ts) into one .mjs file that
// plain node runs, for the DIRAC plugin's tests. Usage: node scripts/bundle-test-cloud.mjs OUT.mjs
import { build } from "rolldown";

const out = process.argv[2];
if (!out) {
  process.stderr.write("usage: node scripts/bundle-test-cloud.mjs OUT.mjs\n");
  process.exit(2);
}
await build({
  input: new URL("../test/servers/openstack/standalone.ts", import.meta.url).pathname,
  platform: "node",
  logLevel: "silent",
  resolve: { extensionAlias: { ".js": [".ts", ".js"] } },
  output: { file: out, format: "esm", codeSplitting: false },
});
