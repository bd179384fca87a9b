#!/usr/bin/env bash
# fundsim against a small Python reference (pandas + scipy's HiGHS linprog) on the same national
# synthetic scenario (330 cities, 2,850 counties, seed 1): the allocation and the L1 weight
# inference, each timed end to end as a user runs it (process start, reading the CSV files,
# computing; fundsim also writes its output files). Prints wall and CPU medians and the ratios.
#
#   benches/compare/run.sh [RUNS]      (default 5 runs of each command)
#
# Creates benches/compare/.venv (git-ignored) and installs pandas and scipy into it on first
# use. infer-weights is skipped if this fundsim has no such command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${1:-5}
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check pandas scipy
py="$venv/bin/python"
(cd "$root" && cargo build --release --quiet)
fundsim="$root/target/release/fundsim"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$fundsim" synth --cities 330 --counties 2850 --seed 1 --out "$work/nat" >/dev/null
"$fundsim" allocate "$work/nat" --out "$work/alloc" >/dev/null
echo "== same amounts? (python floats vs fundsim exact decimals)"
"$py" "$here/reference.py" check "$work/nat" "$work/alloc/allocation.csv"
"$py" "$here/reference.py" make-actual "$work/nat" "$work/alloc/allocation.csv"

# median wall and CPU (user + sys of the child) seconds of a command over $runs runs
timeit() {
    "$py" - "$runs" "$@" <<'PY'
import resource, statistics, subprocess, sys, time
runs, cmd = int(sys.argv[1]), sys.argv[2:]
wall, cpu = [], []
for _ in range(runs):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall.append(time.perf_counter() - t0)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
print(f"{statistics.median(wall):.4f} {statistics.median(cpu):.4f}")
PY
}

report() { # name fundsim-times python-times
    read -r fw fc <<<"$2"
    read -r pw pc <<<"$3"
    "$py" -c "
fw, fc, pw, pc = $fw, $fc, $pw, $pc
print(f'$1: fundsim {fw*1e3:8.1f} ms wall {fc*1e3:8.1f} ms CPU | python {pw*1e3:8.1f} ms wall {pc*1e3:8.1f} ms CPU | python/fundsim {pw/fw:5.1f}x wall {pc/fc:5.1f}x CPU')"
}

echo "== timings: median of $runs runs, end to end"
lscpu | grep -m1 "Model name" || true
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
f=$(timeit "$fundsim" allocate "$work/nat" --out "$work/a2")
p=$(timeit "$py" "$here/reference.py" allocate "$work/nat")
report "allocate      " "$f" "$p"
if "$fundsim" infer-weights --help >/dev/null 2>&1; then
    f=$(timeit "$fundsim" infer-weights "$work/nat" --out "$work/iw")
    p=$(timeit "$py" "$here/reference.py" infer "$work/nat")
    report "infer-weights " "$f" "$p"
    echo "   (fundsim's infer-weights also solves the L∞ fit and the 2×8 identifiability-range LPs;"
    echo "    the Python reference solves the L1 LP only)"
else
    echo "infer-weights : skipped (this fundsim has no infer-weights command yet)"
fi
echo "== the Python reference's own split (one run)"
"$py" "$here/reference.py" allocate "$work/nat"
"$py" "$here/reference.py" infer "$work/nat"
if "$fundsim" infer-weights --help >/dev/null 2>&1; then
    echo "== fundsim's inferred weights (L1 column should match the Python line above)"
    cat "$work/iw/inferred_weights.csv"
fi
