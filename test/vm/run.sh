#!/usr/bin/env bash
# The real-boot suite: pilots on real VMs (QEMU, Debian 12 guest with Debian's
# cloud-init) from ../shared/vm-lab (VMLAB_DIR). Builds the vm-lab image first
# (once, cached in $VMLAB, default /tmp/vm-lab; root, apt-installs what it
# lacks). A machine that cannot build or boot it is a loud skip, and a
# failure where real boots are required (CLOUDCE_VM_REQUIRED=1). Failing
# tests always fail.
set -euo pipefail
cd "$(dirname "$0")/../.."
export VMLAB_DIR="${VMLAB_DIR:-$(pwd)/../shared/vm-lab}"

skip() {
  if [ "${CLOUDCE_VM_REQUIRED:-0}" = 1 ]; then
    echo "test:vm: FAILED: $* (CLOUDCE_VM_REQUIRED=1: the real-boot tests must run)" >&2
    exit 1
  fi
  echo "test:vm: SKIPPED: $* (the real-boot tests did not run)" >&2
  exit 0
}

[ -f "$VMLAB_DIR/build-image.sh" ] || skip "no vm-lab at $VMLAB_DIR (set VMLAB_DIR)"
[ "$(id -u)" = 0 ] || skip "building the vm-lab image needs root"
bash "$VMLAB_DIR/build-image.sh" || skip "the vm-lab image could not be built (see its messages above)"
for tool in qemu-system-x86_64 qemu-img mkfs.vfat mcopy; do
  command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || [ -x "/sbin/$tool" ] || skip "$tool is missing"
done
npx vitest run --config test/vm/vitest.config.ts "$@"
