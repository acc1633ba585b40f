#!/usr/bin/env bash
# The DIRAC plugin's tests (python/tests) against DIRAC's real code, once with v8 and once with v9,
# on Debian's python3. Needs dist/ built (npm run build): the tests drive real `cloudce serve` children.
# ../shared/dirac/setup.sh installs DIRAC's Debian packages and extracts DIRAC; it is run every time.
set -euo pipefail
cd "$(dirname "$0")/.."

setup=${CLOUDCE_DIRAC_SETUP:-../shared/dirac/setup.sh}
if [ ! -f "$setup" ]; then
  echo "dirac-tests: $setup not found: the DIRAC snapshots live in shared/dirac beside the repository (or set CLOUDCE_DIRAC_SETUP)" >&2
  exit 1
fi
paths=$(bash "$setup")
# The OpenStack test cloud as one .mjs file that plain node runs (one test path drives it).
bundle_dir=$(mktemp -d)
trap 'rm -rf "$bundle_dir"' EXIT
node scripts/bundle-test-cloud.mjs "$bundle_dir/openstack-test-cloud.mjs"
export CLOUDCE_TEST_OPENSTACK="$bundle_dir/openstack-test-cloud.mjs"
status=0
for v in 8 9; do
  pythonpath=$(printf '%s\n' "$paths" | sed -n "s/^DIRAC_V${v}_PYTHONPATH=//p")
  if [ -z "$pythonpath" ]; then
    echo "dirac-tests: $setup printed no DIRAC_V${v}_PYTHONPATH" >&2
    exit 1
  fi
  echo "dirac-tests: DIRAC v$v"
  rc=0
  (cd python && PYTHONPATH="$pythonpath" /usr/bin/python3 -m pytest -q --junitxml="../.pytest-v$v.xml") || rc=$?
  # pytest: 0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage error, 5 no test collected.
  case $rc in
    0) ;;
    5) echo "dirac-tests: DIRAC v$v: pytest collected no test (python/tests missing?)" >&2; status=1 ;;
    *) echo "dirac-tests: DIRAC v$v: pytest exited $rc" >&2; status=1 ;;
  esac
done
exit $status
