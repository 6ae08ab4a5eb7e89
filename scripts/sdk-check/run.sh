#!/usr/bin/env bash
# Zoho's official Python SDK for CRM v8 against zcrm's emulator: builds `zcrm`, starts
# `zcrm emulator` on a free loopback port over a fresh store in a temporary folder, runs
# check.py (one PASS/FAIL/DIFF line per check), stops the emulator.
#
#   scripts/sdk-check/run.sh
#   ZCRM_SDK_PATH=/path/to/zohocrm-python-sdk-8.0 scripts/sdk-check/run.sh   (SDK from a checkout)
#   ZCRM_BIN=/path/to/zcrm scripts/sdk-check/run.sh                          (skip the build)
#
# Exit status: check.py's (0 all passed, 1 a check failed, 2 the SDK is not importable).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
python="${PYTHON:-python3}"

# The SDK first: no point building when it cannot be imported.
if ! ZCRM_SDK_PATH="${ZCRM_SDK_PATH:-}" "$python" - <<'PY' 2>/dev/null
import os, sys
if os.environ.get("ZCRM_SDK_PATH"):
    sys.path.insert(0, os.environ["ZCRM_SDK_PATH"])
import zohocrmsdk.src.com.zoho.api.authenticator  # noqa: F401
PY
then
  exec "$python" "$here/check.py" --url http://127.0.0.1:1 --client x:y:z # prints why, exits 2
fi

if [ -z "${ZCRM_BIN:-}" ]; then
  cargo build -p zcrm -q
  ZCRM_BIN="${CARGO_TARGET_DIR:-target}/debug/zcrm"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/zcrm-sdk-check.XXXXXX")"
emu_pid=""
cleanup() {
  if [ -n "$emu_pid" ]; then kill "$emu_pid" 2>/dev/null || true; wait "$emu_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A client of this run only: random secret and refresh token.
secret="$("$python" -c 'import secrets; print(secrets.token_hex(16))')"
refresh="1000.$("$python" -c 'import secrets; print(secrets.token_hex(24))')"
client="1000.SDKCHECK:$secret:$refresh"

"$ZCRM_BIN" emulator --listen 127.0.0.1:0 --data "$work/emulator" --edition enterprise --licenses 10 \
  --schema "$here/schema.toml" --oauth-client "$client" >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!

# The emulator prints "zcrm emulator listening on URL" once it accepts connections.
url=""
for _ in $(seq 1 200); do
  url="$(sed -n 's/^zcrm emulator listening on \(http[^ ]*\).*/\1/p' "$work/emulator.out")"
  [ -n "$url" ] && break
  kill -0 "$emu_pid" 2>/dev/null || { cat "$work/emulator.err" >&2; exit 1; }
  sleep 0.05
done
[ -n "$url" ] || { echo "the emulator did not report its address" >&2; exit 1; }
echo "emulator at $url (store in $work/emulator)"

status=0
ZCRM_SDK_CHECK_CLIENT="$client" "$python" "$here/check.py" --url "$url" --work "$work/sdk" || status=$?
exit "$status"
