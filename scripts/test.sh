#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need, type-checks, builds, runs the unit/integration suite, then the suite
# against a real OpenStack (skipped with CLOUDCE_SKIP_LAB=1).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm run typecheck
npm run build
# The package as a site director imports it, and the command as an operator runs it.
node --input-type=module -e 'import { CloudComputingElement } from "cloudce"; if (typeof new CloudComputingElement("smoke").submitJob !== "function") process.exit(1);'
node dist/cli/main.js --help >/dev/null
rm -f .vitest-results.json .vitest-lab.json
npm test -- --reporter=default --reporter=json --outputFile=.vitest-results.json

if [ "${CLOUDCE_SKIP_LAB:-0}" != 1 ] && node -e 'process.exit(require("./package.json").scripts["test:openstack-lab"] ? 0 : 1)'; then
  npm run test:openstack-lab -- --reporter=default --reporter=json --outputFile=.vitest-lab.json
fi

# One plain closing line ("total: N passed, N failed, N skipped") over both suites, for tools that read it.
node -e '
  const fs = require("fs");
  const runs = [".vitest-results.json", ".vitest-lab.json"].filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
  console.log(`total: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped`);
'
