#!/usr/bin/env bash
# The DIRAC plugin's tests (python/tests) against DIRAC's real code, once with v8 and once with v9,
# on Debian's python3. Needs dist/ built (npm run build): the tests drive real `cloudce serve` children.
# ../shared/dirac/setup.sh installs DIRAC's Debian packages and extracts DIRAC; it is run every time.
# Then the release artifacts (npm run release) are installed into fresh prefixes, the npm tarball with
# npm and the wheel with pip, and DIRAC's SiteDirector and PilotManager tests, and those of what an
# admin reads in DIRAC's log, run again against those installed copies (about 80 s;
# CLOUDCE_SKIP_INSTALLED=1 skips that part).
set -euo pipefail
cd "$(dirname "$0")/.."

setup=${CLOUDCE_DIRAC_SETUP:-../shared/dirac/setup.sh}
if [ ! -f "$setup" ]; then
  echo "dirac-tests: $setup not found: the DIRAC snapshots live in shared/dirac beside the repository (or set CLOUDCE_DIRAC_SETUP)" >&2
  exit 1
fi
paths=$(bash "$setup")
# The OpenStack test cloud as one .mjs file that plain node runs (one test path drives it).
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node scripts/bundle-test-cloud.mjs "$work/openstack-test-cloud.mjs"
export CLOUDCE_TEST_OPENSTACK="$work/openstack-test-cloud.mjs"
# The Kubernetes stand-in likewise (it reads the site setup from etc/kubernetes/).
node scripts/bundle-test-cloud.mjs "$work/kubernetes-test-cloud.mjs" test/servers/kubernetes/standalone.ts
export CLOUDCE_TEST_KUBERNETES="$work/kubernetes-test-cloud.mjs"
status=0

dirac_path() {
  local pythonpath
  pythonpath=$(printf '%s\n' "$paths" | sed -n "s/^DIRAC_V${1}_PYTHONPATH=//p")
  if [ -z "$pythonpath" ]; then
    echo "dirac-tests: $setup printed no DIRAC_V${1}_PYTHONPATH" >&2
    exit 1
  fi
  printf '%s' "$pythonpath"
}

# run_pytest LABEL JUNIT PYTHONPATH [pytest args...]
run_pytest() {
  local label=$1 junit=$2 pythonpath=$3 rc=0
  shift 3
  echo "dirac-tests: $label"
  (cd python && PYTHONPATH="$pythonpath" /usr/bin/python3 "${python_flags[@]}" -m pytest -q --junitxml="../$junit" "$@") || rc=$?
  # pytest: 0 all passed, 1 some failed, 2 interrupted, 3 internal error, 4 usage error, 5 no test collected.
  case $rc in
    0) ;;
    5) echo "dirac-tests: $label: pytest collected no test (python/tests missing?)" >&2; status=1 ;;
    *) echo "dirac-tests: $label: pytest exited $rc" >&2; status=1 ;;
  esac
}

python_flags=()
for v in 8 9; do
  pythonpath=$(dirac_path "$v")
  run_pytest "DIRAC v$v" ".pytest-v$v.xml" "$pythonpath" --ignore=tests/test_installed.py
done

if [ "${CLOUDCE_SKIP_INSTALLED:-0}" != 1 ]; then
  # As a site installs them: npm's global layout under a fresh prefix (bin/cloudce), and the wheel
  # into a fresh folder that DIRAC's Python finds on its path (its entry point makes it an extension).
  bash scripts/release.sh "$work/release" >/dev/null
  npm install --global --prefix "$work/npm" --prefer-offline --no-audit --no-fund "$work"/release/cloudce-*.tgz >/dev/null
  /usr/bin/python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --no-index --target "$work/site" "$work"/release/cloudce_dirac-*.whl
  # -P: the folder python/ (the working directory) must not be on the path, or the source would
  # shadow the installed plugin.
  python_flags=(-P)
  for v in 8 9; do
    pythonpath=$(dirac_path "$v")
    CLOUDCE_SERVE_COMMAND="$work/npm/bin/cloudce" CLOUDCE_TEST_INSTALLED_PLUGIN="$work/site" \
      run_pytest "DIRAC v$v, installed release" ".pytest-installed-v$v.xml" "$work/site:$pythonpath" \
      tests/test_installed.py tests/test_site_director.py tests/test_pilot_manager.py tests/test_admin_log.py
  done
fi
exit $status
