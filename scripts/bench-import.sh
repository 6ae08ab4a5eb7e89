#!/usr/bin/env bash
# End-to-end import benchmark: N generated Leads rows imported by the release `zcrm` binary into a
# release `zcrm emulator` on loopback (fresh store and state each run). Prints wall time, rows/s,
# the emulator's call count and zcrm's peak RSS / CPU time.
#
#   scripts/bench-import.sh [ROWS=100000] [WORKDIR=target/bench-import]
#   (ZCRM_BENCH_IN_FLIGHT sets writes_in_flight, default 3; ZCRM_BENCH_PORT the port, default 4399)
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-100000}"
work="${2:-target/bench-import}"
token=0123456789abcdef0123456789abcdef
port="${ZCRM_BENCH_PORT:-4399}"

cargo build --release --bin zcrm -q
bin="$PWD/target/release/zcrm"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
src="$work/leads-$rows.csv"
[ -f "$src" ] || "$bin" generate leads --rows "$rows" --out "$src" >/dev/null
rm -rf "$work/emu" "$work/state" "$work/out"
mkdir -p "$work/out"

cat > "$work/import.toml" <<TOML
[connection]
url = "http://127.0.0.1:$port"
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
rejects = "$work/out/leads.rejects.csv"
success = "$work/out/leads.success.csv"
$("$bin" generate leads --print-map)
TOML

if curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1; then
  echo "port $port is already serving (a stale emulator?): stop it or set ZCRM_BENCH_PORT" >&2
  exit 1
fi
"$bin" emulator --listen "127.0.0.1:$port" --data "$work/emu" --edition enterprise --licenses 100 \
  --token "$token" >"$work/emulator.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1 && break
  sleep 0.1
done

start=$(date +%s.%N)
ZCRM_AUTHTOKEN=$token /usr/bin/time -f "zcrm: %e s wall, %U s user, %S s sys, %M KB peak RSS" \
  "$bin" run "$work/import.toml" >"$work/summary.txt" 2>"$work/run.log" || true
end=$(date +%s.%N)
tail -n 1 "$work/run.log"
cat "$work/summary.txt"
wall=$(echo "$end - $start" | bc)
echo "rows: $rows  wall: ${wall}s  rows/s: $(echo "$rows / $wall" | bc)"
awk "{printf \"emulator CPU: %.1f s user+sys\\n\", (\$14+\$15)/$(getconf CLK_TCK)}" /proc/$emu/stat
