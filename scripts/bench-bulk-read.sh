#!/usr/bin/env bash
# Bulk Read export benchmark: N generated Leads rows loaded into a `zcrm emulator` on loopback
# (through its XML face, the fastest load), then the module exported through the v8 face twice,
# with Bulk Read (`method = "bulk"`) and with the record API, each under /usr/bin/time -v; prints
# wall time, peak RSS and whether both Parquet files hold the same number of rows.
# The target: 250,000 records through Bulk Read in under 200 MB peak RSS.
#
#   scripts/bench-bulk-read.sh [ROWS=250000] [WORKDIR=target/bench-bulk-read]
#   (ZCRM_BENCH_PORT the port, default 4398; ZCRM_BENCH_BIN a prebuilt zcrm binary instead of
#    the release build; ZCRM_BENCH_BULK_DELAY_MS the emulator's job delay, default 200)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-250000}"
work="${2:-target/bench-bulk-read}"
port="${ZCRM_BENCH_PORT:-4398}"
. scripts/lib/bench.sh
token=$bench_token client_id=$bench_client_id client_secret=$bench_client_secret
refresh_token=$bench_refresh_token

bench_binary
bench_workdir "$rows" "$work"
trap bench_stop_emulator EXIT
bench_start_emulator "$port" --bulk-delay "${ZCRM_BENCH_BULK_DELAY_MS:-200}"

cat > "$work/load.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
edition = "enterprise"
licenses = 100
[state]
dir = "$work/state/xml"
[[steps]]
name = "leads"
import = "Leads"
source = "$src"
key = "lead_id"
rejects = "$work/out/leads.rejects.csv"
success = "$work/out/leads.success.csv"
$("$bin" generate leads --print-map)
TOML
ZCRM_AUTHTOKEN=$token "$bin" run "$work/load.toml" >"$work/load-summary.txt" 2>"$work/load.log" || true
echo "loaded: $(tail -n 1 "$work/load.log")"

export BENCH_CLIENT_ID=$client_id BENCH_CLIENT_SECRET=$client_secret BENCH_REFRESH_TOKEN=$refresh_token
for method in bulk records; do
  cat > "$work/export-$method.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
api = "v8"
client_id_env = "BENCH_CLIENT_ID"
client_secret_env = "BENCH_CLIENT_SECRET"
refresh_token_env = "BENCH_REFRESH_TOKEN"
edition = "enterprise"
licenses = 100
[state]
dir = "$work/state/v8-$method"
[[steps]]
name = "export"
export = "Leads"
to = "$work/out/leads-$method.parquet"
method = "$method"
TOML
  /usr/bin/time -v "$bin" run "$work/export-$method.toml" \
    >"$work/export-$method-summary.txt" 2>"$work/export-$method.log" || true
  wall=$(grep "Elapsed (wall clock)" "$work/export-$method.log" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$work/export-$method.log" | awk '{print $NF}')
  echo "export through $method: wall $wall, peak RSS $((rss / 1024)) MB"
  grep -E "^export|export " "$work/export-$method-summary.txt" | head -n 3 || true
done
ls -l "$work/out/"leads-*.parquet
