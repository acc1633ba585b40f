#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests
# need, type-checks, builds, runs the unit/integration suite, then (beside the
# real-boot suite on QEMU VMs, skipped with CLOUDCE_SKIP_VM=1) the suite on the
# other Node versions, the DIRAC plugin's suites and the suite against a real
# OpenStack (skipped with CLOUDCE_SKIP_LAB=1).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
npm run typecheck
# Biome: the formatting and lint rules of biome.json, on every file git tracks.
npm run lint
npm run build
# The package as a site director imports it, and the command as an operator runs it.
node --input-type=module -e 'import { CloudComputingElement } from "cloudce"; if (typeof new CloudComputingElement("smoke").submitJob !== "function") process.exit(1);'
node dist/cli/main.js --help >/dev/null
rm -f .vitest-results.json .vitest-node22.json .vitest-node24.json .vitest-lab.json .vitest-vm.json .pytest-*.xml
npm test -- --reporter=default --reporter=json --outputFile=.vitest-results.json
# Real VMs boot under TCG on one core, one at a time, and take a third of the run's time: they
# run in the background from here on, beside the suites that mostly wait on servers, and their
# output is printed once they end.
vm_pid=
if [ "${CLOUDCE_SKIP_VM:-0}" != 1 ]; then
  rm -f .vm-suite.log
  setsid npm run test:vm -- --reporter=default --reporter=json --outputFile=.vitest-vm.json >.vm-suite.log 2>&1 &
  vm_pid=$!
  # A stage that fails ends the run: its VMs and their boots end with it.
  trap 'kill -- "-$vm_pid" 2>/dev/null || true' EXIT
fi
# The same unit and integration suite on the other Node versions package.json's engines declares,
# from npm's `node` package (its binary comes from the npm registry, cached after the first run).
# The seeded fault campaigns repeat the driver paths the rest of the suite already covers on these
# versions; they run once (above), to keep the whole command under 30 minutes.
# CLOUDCE_SKIP_OTHER_NODES=1 skips these runs.
if [ "${CLOUDCE_SKIP_OTHER_NODES:-0}" != 1 ]; then
  for major in 22 24; do
    echo "test: the unit and integration suite on Node $(npx --yes --package="node@$major" -- node --version)"
    npx --yes --package="node@$major" -- node node_modules/vitest/vitest.mjs run --reporter=dot --reporter=json --outputFile=".vitest-node$major.json" \
      --exclude test/reliability/fault-campaign.test.ts --exclude 'test/reliability/*-faults-invariant.test.ts'
  done
fi
# The DIRAC CE plugin against DIRAC's real code (v8 and v9), driving the built cloudce; then the
# release artifacts installed into fresh prefixes, with DIRAC's SiteDirector tests run against them.
bash scripts/dirac-tests.sh

if [ "${CLOUDCE_SKIP_LAB:-0}" != 1 ] && node -e 'process.exit(require("./package.json").scripts["test:openstack-lab"] ? 0 : 1)'; then
  npm run test:openstack-lab -- --reporter=default --reporter=json --outputFile=.vitest-lab.json
fi

if [ -n "$vm_pid" ]; then
  vm_rc=0
  wait "$vm_pid" || vm_rc=$?
  trap - EXIT
  cat .vm-suite.log
  [ "$vm_rc" = 0 ] || { echo "test: the real-boot suite failed (exit $vm_rc)" >&2; exit "$vm_rc"; }
fi

# One plain closing line ("total: N passed, N failed, N skipped") over all suites, for tools that read it.
node -e '
  const fs = require("fs");
  const runs = [".vitest-results.json", ".vitest-node22.json", ".vitest-node24.json", ".vitest-lab.json", ".vitest-vm.json"].filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  const sum = (k) => runs.reduce((n, r) => n + r[k], 0);
  // pytest junit files: <testsuite ... errors= failures= skipped= tests=>
  const py = { passed: 0, failed: 0, skipped: 0 };
  for (const f of [".pytest-v8.xml", ".pytest-v9.xml", ".pytest-installed-v8.xml", ".pytest-installed-v9.xml"].filter((x) => fs.existsSync(x))) {
    const suite = fs.readFileSync(f, "utf8").match(/<testsuite\b[^>]*>/)?.[0] ?? "";
    const n = (k) => Number(suite.match(new RegExp(`\\b${k}="(\\d+)"`))?.[1] ?? 0);
    py.failed += n("failures") + n("errors");
    py.skipped += n("skipped");
    py.passed += n("tests") - n("failures") - n("errors") - n("skipped");
  }
  console.log(`total: ${sum("numPassedTests") + py.passed} passed, ${sum("numFailedTests") + py.failed} failed, ${sum("numPendingTests") + sum("numTodoTests") + py.skipped} skipped`);
'
