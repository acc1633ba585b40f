#!/usr/bin/env bash
# Installs what cloudce's tests need on a fresh Debian machine with Node 20:
# the npm packages, and the Debian packages the tests drive for real.
set -euo pipefail
cd "$(dirname "$0")/.."

# cloud-init: the real consumer of our user-data (schema + UserDataProcessor);
# librsvg2-bin: renders the report's SVG timeline; openssl: checks test proxy chains;
# python3-pip: installs the DIRAC plugin as an extension in its tests (DIRAC's own packages and
# pytest come from ../shared/dirac/setup.sh, which scripts/dirac-tests.sh runs);
# QEMU and the vfat tools: the QEMU cloud and the real-boot suite (vm-lab also needs debootstrap);
# prometheus (with promtool): unit-tests etc/prometheus's rules and evaluates them, and the Grafana
# dashboard's queries, on a real Prometheus scraping cloudce.
declare -A wanted=([cloud-init]=cloud-init [rsvg-convert]=librsvg2-bin [openssl]=openssl [pip3]=python3-pip
  [qemu-system-x86_64]=qemu-system-x86 [qemu-img]=qemu-utils [mkfs.vfat]=dosfstools [mcopy]=mtools
  [debootstrap]=debootstrap [mkfs.ext4]=e2fsprogs [promtool]=prometheus)
missing=()
for cmd in "${!wanted[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/sbin/$cmd" ] || missing+=("${wanted[$cmd]}")
done
# python3-setuptools and python3-wheel: npm run release builds the plugin's wheel with Debian's own
# tools (PyPI is not reachable from CI).
for module in setuptools wheel; do
  /usr/bin/python3 -c "import $module" 2>/dev/null || missing+=("python3-$module")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to apt-get install ${missing[*]} (or install them yourself)" >&2
    exit 1
  fi
  echo "install-deps: apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Other jobs on the machine may hold apt's lock for a while: wait for it rather than fail.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi

# DIRAC v8 and v9 for the plugin's tests, with the Debian packages they import and Debian's pytest
# (scripts/dirac-tests.sh runs it again; it takes about 2 s once everything is there).
if [ -f ../shared/dirac/setup.sh ]; then
  bash ../shared/dirac/setup.sh >/dev/null
else
  echo "install-deps: ../shared/dirac/setup.sh not found: the DIRAC plugin's tests will not run" >&2
fi
