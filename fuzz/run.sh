#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) one after another for SECONDS each (default 60).
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). cargo fuzz passes nightly-only flags to
# rustc; the script runs it on the stable toolchain with RUSTC_BOOTSTRAP=1 (set
# FUZZ_TOOLCHAIN=nightly to use a nightly toolchain instead). Environment:
#   SANITIZER=none|address   (default none: safe Rust, and 2-3x more executions per second)
#   TRACE_COMPARES=0         build without comparison tracing (about 2x the executions per
#                            second, less guidance; a separate build in fuzz/target/no-tc)
#   RUNS=N                   stop each target after N executions instead of after SECONDS
#                            (SECONDS then only bounds the time: pass a large one)
#   FUZZ_ARGS="..."          extra libFuzzer flags (e.g. "-max_len=4096" or "-jobs=2 -workers=2")
# Seeds come from fuzz/make_seeds.py (bundled scenarios, tests/fixtures, tests/bad_inputs).
# Logs go to fuzz/artifacts/logs/TARGET.log (and a dated copy), one line per run is appended
# to fuzz/artifacts/logs/history.tsv, crashes go to fuzz/artifacts/TARGET/.
# Exit status: 0 when no target crashed.
set -u
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(csv_table xlsx_table scenario_toml scenario_load payments number_cell)
fi
SAN=${SANITIZER:-none}

if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
  CARGO=(cargo "+$FUZZ_TOOLCHAIN" fuzz)
else
  export RUSTC_BOOTSTRAP=1
  CARGO=(cargo fuzz)
fi

BUILD=(-s "$SAN")
if [ "${TRACE_COMPARES:-1}" = 0 ]; then
  BUILD+=(--no-trace-compares --target-dir fuzz/target/no-tc)
fi

dict_for() {
  case "$1" in
    scenario_toml|scenario_load) echo "-dict=fuzz/dict/scenario.dict" ;;
    payments) echo "-dict=fuzz/dict/payments.dict" ;;
    *) echo "" ;;
  esac
}

[ -d fuzz/corpus ] || python3 fuzz/make_seeds.py
"${CARGO[@]}" build "${BUILD[@]}" || exit 2
mkdir -p fuzz/artifacts/logs
failed=()
printf '%-14s %8s %14s %8s %s\n' target seconds executions exec/s result
for t in "${TARGETS[@]}"; do
  [ -d "fuzz/corpus/$t" ] || python3 fuzz/make_seeds.py >/dev/null
  log="fuzz/artifacts/logs/$t.log"
  start=$(date +%s)
  # shellcheck disable=SC2046,SC2086
  "${CARGO[@]}" run "${BUILD[@]}" "$t" -- -max_total_time="$SECS" -print_final_stats=1 \
    -timeout=20 -rss_limit_mb=4096 $(dict_for "$t") ${RUNS:+-runs=$RUNS} ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  if [ $rc -eq 0 ]; then
    res=ok
  elif grep -q 'libFuzzer: run interrupted' "$log"; then
    res="interrupted (SIGINT)"
  else
    res="CRASH (exit $rc, see $log)"
    failed+=("$t")
  fi
  printf '%-14s %8s %14s %8s %s\n' "$t" "$took" "${execs:-?}" "${rate:-?}" "$res"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$took" "${execs:-?}" "${rate:-?}" \
    "tc=${TRACE_COMPARES:-1} san=$SAN ${FUZZ_ARGS:-}" "$res" >>fuzz/artifacts/logs/history.tsv
  cp "$log" "fuzz/artifacts/logs/$t.$(date -u +%Y%m%dT%H%M%S).log"
done
[ ${#failed[@]} -eq 0 ]
