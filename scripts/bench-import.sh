#!/usr/bin/env bash
# End-to-end import benchmark: N generated Leads rows imported by the release `zcrm` binary into a
# release `zcrm emulator` on loopback (fresh store and state each run). Prints wall time, rows/s,
# the emulator's call count and zcrm's peak RSS / CPU time.
#
#   scripts/bench-import.sh [ROWS=100000] [WORKDIR=target/bench-import]
#   (ZCRM_BENCH_IN_FLIGHT sets writes_in_flight, default 3; ZCRM_BENCH_PORT the port, default 4399;
#    ZCRM_BENCH_API=v8 imports through the emulator's REST face instead of its XML face, and then
#    exports the module through the same face: the JSON path against the XML path;
#    ZCRM_BENCH_METHOD=bulk|records sets the v8 step's `method`; ZCRM_BENCH_BULK_DELAY the
#    emulator's --bulk-delay in ms, default 1000; ZCRM_BENCH_NO_EXPORT=1 skips the export;
#    ZCRM_BENCH_BIN runs that zcrm binary instead of building the release one)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
work="${2:-target/bench-import}"
port="${ZCRM_BENCH_PORT:-4399}"
. scripts/lib/bench.sh
token=$bench_token client_id=$bench_client_id client_secret=$bench_client_secret
refresh_token=$bench_refresh_token

bench_binary
bench_workdir "$rows" "$work"

api="${ZCRM_BENCH_API:-xml}"
if [ "$api" = v8 ]; then
  conn="api = \"v8\"
client_id_env = \"BENCH_CLIENT_ID\"
client_secret_env = \"BENCH_CLIENT_SECRET\"
refresh_token_env = \"BENCH_REFRESH_TOKEN\""
else
  conn=""
fi

method_line=""
[ -n "${ZCRM_BENCH_METHOD:-}" ] && method_line="method = \"$ZCRM_BENCH_METHOD\""

cat > "$work/import.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
$conn
edition = "enterprise"
licenses = 100
writes_in_flight = ${ZCRM_BENCH_IN_FLIGHT:-3}
[state]
dir = "$work/state"
[[steps]]
name = "leads"
import = "Leads"
source = "$src"
key = "lead_id"
$method_line
rejects = "$work/out/leads.rejects.csv"
success = "$work/out/leads.success.csv"
$("$bin" generate leads --print-map)
TOML

trap bench_stop_emulator EXIT
bench_start_emulator "$port" --bulk-delay "${ZCRM_BENCH_BULK_DELAY:-1000}"

export BENCH_CLIENT_ID=$client_id BENCH_CLIENT_SECRET=$client_secret BENCH_REFRESH_TOKEN=$refresh_token
start=$(date +%s.%N)
ZCRM_AUTHTOKEN=$token /usr/bin/time -f "zcrm: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$bin" run "$work/import.toml" >"$work/summary.txt" 2>"$work/run.log" || true
end=$(date +%s.%N)
tail -n 1 "$work/run.log"
cat "$work/summary.txt"
wall=$(echo "$end - $start" | bc)
echo "rows: $rows  wall: ${wall}s  rows/s: $(echo "$rows / $wall" | bc)"
echo "emulator credits: $(curl -s "http://127.0.0.1:$port/__emulator/credits")"
awk "{printf \"emulator CPU: %.1f s user+sys\\n\", (\$14+\$15)/$(getconf CLK_TCK)}" /proc/$emu/stat

[ -n "${ZCRM_BENCH_NO_EXPORT:-}" ] && exit 0

# The export of the imported module through the same face.
cat > "$work/export.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
$conn
edition = "enterprise"
licenses = 100
[state]
dir = "$work/state"
[[steps]]
name = "export"
export = "Leads"
to = "$work/out/leads.parquet"
TOML
start=$(date +%s.%N)
ZCRM_AUTHTOKEN=$token /usr/bin/time -f "zcrm export: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$bin" run "$work/export.toml" >"$work/export-summary.txt" 2>"$work/export.log" || true
end=$(date +%s.%N)
tail -n 1 "$work/export.log"
wall=$(echo "$end - $start" | bc)
echo "export ($api): wall ${wall}s  records/s: $(echo "$rows / $wall" | bc)"
