#!/usr/bin/env bash
# Runs a command with the real OpenStack lab answering on 127.0.0.1: uses a
# lab already up; otherwise starts ../shared/openstack-lab (OPENSTACK_LAB_DIR)
# and stops it again when the command ends. Needs root on Debian bookworm, as
# the lab does. Used by the lab suite (run.sh) and the lab benchmark.
set -euo pipefail
cd "$(dirname "$0")/../.."
LAB_DIR="${OPENSTACK_LAB_DIR:-$(pwd)/../shared/openstack-lab}"

# The lab listens on fixed ports and its tests count the project's servers: two test runs on one
# machine take turns (the second waits here) rather than share it or stop it under each other.
exec 8>"${TMPDIR:-/tmp}/cloudce-openstack-lab.lock"
flock -n 8 || { echo "openstack-lab: waiting for another run using the lab (lock ${TMPDIR:-/tmp}/cloudce-openstack-lab.lock)" >&2; flock 8; }

lab_up() { curl -sf -o /dev/null --max-time 5 http://127.0.0.1:5000/v3 && curl -s -o /dev/null --max-time 5 http://127.0.0.1:8774/; }

if ! lab_up; then
  [ -f "$LAB_DIR/start.sh" ] || { echo "openstack-lab: no lab answering and no $LAB_DIR/start.sh (set OPENSTACK_LAB_DIR)" >&2; exit 1; }
  trap 'bash "$LAB_DIR/stop.sh" || true' EXIT
  for attempt in 1 2; do
    if bash "$LAB_DIR/start.sh"; then break; fi
    echo "openstack-lab: start.sh failed (attempt $attempt)" >&2
    bash "$LAB_DIR/stop.sh" || true
    if [ "$attempt" = 2 ]; then
      # The lab failing to start is the machine's problem, not cloudce's: say so loudly, and fail
      # only where the lab is required (CLOUDCE_LAB_REQUIRED=1). Failing tests always fail.
      echo "openstack-lab: SKIPPED: the OpenStack lab did not start (see its log in \$LAB, default /tmp/nova-lab)" >&2
      [ "${CLOUDCE_LAB_REQUIRED:-0}" = 1 ] && exit 1
      trap - EXIT
      exit 0
    fi
    sleep 10
  done
fi
"$@"
