# Shared by the benchmark scripts (source it; it defines, it runs nothing):
# the zcrm binary, the work folder with its generated Leads file, and a `zcrm emulator` on
# loopback started and stopped with the credentials the scripts' pipelines use.

bench_token=0123456789abcdef0123456789abcdef
bench_client_id=1000.BENCHCLIENT
bench_client_secret=bench-client-secret
bench_refresh_token=1000.bench-refresh-token

# Sets `bin`: ZCRM_BENCH_BIN, else the release build (built now).
bench_binary() {
  if [ -n "${ZCRM_BENCH_BIN:-}" ]; then
    bin="$ZCRM_BENCH_BIN"
  else
    cargo build --release --bin zcrm -q
    bin="$PWD/target/release/zcrm"
  fi
}

# bench_workdir ROWS DIR: sets `work` (absolute) and `src` (ROWS generated Leads, kept between
# runs), and clears the emulator's data, the state and the outputs of the last run.
bench_workdir() {
  mkdir -p "$2"
  work="$(cd "$2" && pwd)"
  src="$work/leads-$1.csv"
  [ -f "$src" ] || "$bin" generate leads --rows "$1" --out "$src" >/dev/null
  rm -rf "$work/emu" "$work/state" "$work/out" "$work/emulator.log"
  mkdir -p "$work/out"
}

# bench_start_emulator PORT [ARGS...]: a `zcrm emulator` on 127.0.0.1:PORT over "$work/emu"
# (enterprise, 100 licences, the token and the OAuth client above), waited for; sets `emu`.
# Refuses a port that already answers (a stale emulator would be measured instead).
bench_start_emulator() {
  local port=$1
  shift
  if [ -z "${emu:-}" ] && curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1; then
    echo "port $port is already serving (a stale emulator?): stop it or set ZCRM_BENCH_PORT" >&2
    exit 1
  fi
  "$bin" emulator --listen "127.0.0.1:$port" --data "$work/emu" --edition enterprise \
    --licenses 100 --token "$bench_token" \
    --oauth-client "$bench_client_id:$bench_client_secret:$bench_refresh_token" \
    "$@" >>"$work/emulator.log" 2>&1 &
  emu=$!
  for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$port/" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "the emulator did not start (see $work/emulator.log)" >&2
  exit 1
}

# Stops the emulator `bench_start_emulator` started.
bench_stop_emulator() {
  if [ -n "${emu:-}" ]; then
    kill "$emu" 2>/dev/null || true
    wait "$emu" 2>/dev/null || true
  fi
}
