#!/usr/bin/env bash
# README command one: set up, then run the demo (arguments are passed on, e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node dist/src/cli/main.js demo "$@"
