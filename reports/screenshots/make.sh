#!/usr/bin/env bash
# Regenerates the README screenshots of the bundled Gansu report:
#   reports/screenshots/make.sh            (from the repository root; needs chromium)
# 1. builds the report with `fundsim run` into a temporary folder;
# 2. screenshots the top of index.html (title, contents, summary);
# 3. screenshots one chart section: a copy of the page with a style sheet that hides every
#    other section (headless Chromium does not reliably scroll to an anchor before the
#    embedded font has loaded): the weight check and the weight chart, the allocation, and
#    the survey indicators with their first rates chart.
set -euo pipefail
cd "$(dirname "$0")/../.."
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}
OUT=reports/screenshots
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -n "${FUNDSIM:-}" ]; then # a built binary, e.g. FUNDSIM=target/release/fundsim
  "$FUNDSIM" run scenarios/gansu-2018 --out "$TMP/report" >/dev/null
else
  cargo run --release --quiet -- run scenarios/gansu-2018 --out "$TMP/report" >/dev/null
fi

shot() { # shot HTML PNG HEIGHT
  "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$TMP/profile" \
    --hide-scrollbars --run-all-compositor-stages-before-draw --virtual-time-budget=10000 \
    --window-size=1400,"$3" --screenshot="$2" "file://$(realpath "$1")" >/dev/null 2>&1
  echo "wrote $2 ($(wc -c <"$2") bytes)"
}

only() { # only SECTION-ID... : the page with every other section, the header and contents hidden
  local sel=""
  for id in "$@"; do sel="$sel:not(#$id)"; done
  sed "s|</head>|<style>section$sel, nav.toc, header.page, footer { display: none !important; } main { padding-top: 0; } h2 { margin-top: 0.6em; }</style></head>|" \
    "$TMP/report/index.html" >"$TMP/report/only.html"
  echo "$TMP/report/only.html"
}

shot "$TMP/report/index.html" "$OUT/gansu-top.png" 1100
shot "$(only check-weights weight-ranges)" "$OUT/gansu-weights.png" 2150
shot "$(only allocation)" "$OUT/gansu-allocation.png" 2600
shot "$(only indicators)" "$OUT/gansu-indicators.png" 1900
