#!/usr/bin/env bash
# The release artifacts a site installs, built from a checkout into release/ (or the folder given):
#   cloudce-<version>.tgz                     npm install -g ./cloudce-<version>.tgz  (the cloudce command)
#   cloudce_dirac-<version>-py3-none-any.whl  pip install it into DIRAC's Python     (CEType = Cloudce)
#   SHA256SUMS
# Offline: the build needs node_modules (npm ci, from npm's cache when the folder is missing) and
# Debian's python3-setuptools and python3-wheel (scripts/install-deps.sh); nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${1:-release}")

version=$(node -p 'require("./package.json").version')
plugin_version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' python/cloudce_dirac/Resources/Computing/cloudce_version.py)
if [ "$version" != "$plugin_version" ]; then
  echo "release: package.json says $version but python/cloudce_dirac/Resources/Computing/cloudce_version.py says '$plugin_version': make them equal" >&2
  exit 1
fi
python=/usr/bin/python3  # Debian's, with its setuptools and wheel (PyPI is not needed)
if ! "$python" -c 'import setuptools, wheel, pip' 2>/dev/null; then
  echo "release: $python lacks setuptools, wheel or pip: apt-get install python3-setuptools python3-wheel python3-pip (scripts/install-deps.sh does)" >&2
  exit 1
fi

[ -d node_modules ] || npm ci --offline --no-audit --no-fund
# A clean dist/: a file left from an older build must not ship.
rm -rf dist
npm run build --silent
rm -rf "$out"
mkdir -p "$out"
npm pack --silent --ignore-scripts --pack-destination "$out" >/dev/null

# The wheel is built from a copy, so the checkout gets no build/ or egg-info folders.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp python/pyproject.toml "$stage/"
cp -r python/cloudce_dirac "$stage/"
find "$stage" -name __pycache__ -prune -exec rm -rf {} +
"$python" -m pip wheel --quiet --no-build-isolation --no-deps --no-index --wheel-dir "$out" "$stage"

(cd "$out" && sha256sum -- * > SHA256SUMS)
echo "release: $out"
(cd "$out" && ls -1 -- *.tgz *.whl)
