#!/usr/bin/env bash
# Export latency benchmark: ROWS generated Leads (`zcrm generate`) loaded into a `zcrm emulator`
# on loopback, which is then restarted with `--faults latency=LATENCY` so that every call waits;
# the module is exported to CSV with 1, 4 and 8 pages in flight (`--reads-in-flight`) through the
# XML face (4 and 8 twice: the second run into the same file knows the size from the first), and
# with 1 and 4 through the v8 face. P is the export's pages (ceil(ROWS / 200),
# one more when ROWS is a multiple of 200: the calls of one page at a time); for each run it
# prints the getRecords calls made, the wall time, the floor ceil(P / C) × L and the ratio;
# then whether every file holds the same bytes as the one-at-a-time file of its face.
# The target: XML within 1.25 × ceil(P / C) × L for C = 1, 4, 8.
#
#   scripts/bench-export-latency.sh [ROWS=20100] [LATENCY_MS=100] [WORKDIR=target/bench-export-latency]
#   (ZCRM_BENCH_PORT the port, default 4399; ZCRM_BENCH_BIN a prebuilt zcrm binary instead of
#    the release build; ZCRM_BENCH_COLUMNS the --columns of the exports, default all)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-20100}"
latency="${2:-100}"
work="${3:-target/bench-export-latency}"
port="${ZCRM_BENCH_PORT:-4399}"
. scripts/lib/bench.sh
token=$bench_token client_id=$bench_client_id client_secret=$bench_client_secret
refresh_token=$bench_refresh_token

bench_binary
bench_workdir "$rows" "$work"
trap bench_stop_emulator EXIT

bench_start_emulator "$port"
cat > "$work/load.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
edition = "enterprise"
licenses = 100
[state]
dir = "$work/state/load"
[[steps]]
name = "leads"
import = "Leads"
source = "$src"
key = "lead_id"
rejects = "$work/out/leads.rejects.csv"
$("$bin" generate leads --print-map)
TOML
ZCRM_AUTHTOKEN=$token "$bin" run "$work/load.toml" >"$work/load-summary.txt" 2>"$work/load.log" || true
echo "loaded: $(tail -n 1 "$work/load.log")"
bench_stop_emulator
bench_start_emulator "$port" --faults "latency=${latency}ms"

export ZCRM_URL="http://127.0.0.1:$port" ZCRM_AUTHTOKEN=$token ZCRM_EDITION=enterprise \
  ZCRM_LICENSES=100 ZCRM_CLIENT_ID=$client_id ZCRM_CLIENT_SECRET=$client_secret \
  ZCRM_REFRESH_TOKEN=$refresh_token
columns="${ZCRM_BENCH_COLUMNS:-all}"
pages=$(( (rows + 200) / 200 ))
echo "P = $pages pages, L = $latency ms, columns: $columns"
echo "face  C  run   calls  wall      floor ceil(P/C)*L  ratio"
for face in xml v8; do
  export ZCRM_API=$face ZCRM_STATE_DIR="$work/state/$face"
  "$bin" fields Leads >/dev/null  # metadata cached: the exports below make no getFields call
  # "again": the same export once more into the same file, whose previous run's size lets the
  # first round ask for C pages at once (a first export asks for its first page alone).
  for run in "1 first" "4 first" "8 first" "4 again" "8 again"; do
    set -- $run
    c=$1 when=$2
    [ "$face" = v8 ] && { [ "$c" = 8 ] || [ "$when" = again ]; } && continue
    t0=$(date +%s.%N)
    "$bin" export Leads --to "$work/out/$face-$c.csv" --reads-in-flight "$c" --columns "$columns" \
      >"$work/export-$face-$c.txt" 2>"$work/export-$face-$c.log"
    t1=$(date +%s.%N)
    calls=$(grep -o 'in [0-9]* pages' "$work/export-$face-$c.txt" | grep -o '[0-9]*')
    awk -v p="$pages" -v n="$calls" -v c="$c" -v l="$latency" -v t0="$t0" -v t1="$t1" -v f="$face" -v w="$when" 'BEGIN {
      wall = t1 - t0; floor = int((p + c - 1) / c) * l / 1000;
      printf "%-4s  %d  %-5s %-5d %7.2f s  %7.2f s          %.2f\n", f, c, w, n, wall, floor, wall / floor }'
  done
  for c in 4 8; do
    [ -f "$work/out/$face-$c.csv" ] || continue
    cmp -s "$work/out/$face-1.csv" "$work/out/$face-$c.csv" \
      && echo "$face: $c in flight wrote the same bytes as 1" \
      || echo "$face: $c in flight wrote DIFFERENT bytes from 1"
  done
done
