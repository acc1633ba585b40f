#!/usr/bin/env bash
# The real-OpenStack suite, with the lab started if none answers (see with-lab.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec bash test/lab/with-lab.sh npx vitest run --config test/lab/vitest.config.ts "$@"
