#!/usr/bin/env bash
# The main job on the embedded default (the LOCAL cloud, no account needed):
# installs, builds, then submits a few pilots, watches them, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm run build
node dist/cli/main.js --config etc/local.conf demo "$@"
