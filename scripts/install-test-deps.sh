#!/usr/bin/env bash
# What the test suite needs beyond cargo: Debian's Chromium, for the HTML report's browser check
# (tests/run_report.rs renders a run's report headless and compares its table with the JSON
# summary). Run as root on Debian or Ubuntu; elsewhere install Chromium by hand, or set
# ZCRM_CHROMIUM to a Chromium binary. Without one the check is skipped outside CI.
set -euo pipefail
if [ -n "${ZCRM_CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install Chromium (Debian: apt-get install chromium) or set ZCRM_CHROMIUM" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
