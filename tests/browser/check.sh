#!/usr/bin/env bash
# Renders the report of every bundled scenario (and the hostile-names fixture) in headless
# Chromium and fails on console errors, broken images, charts not laid out, or the embedded
# CJK font not loading. The checks live in tests/report.rs (reports_render_in_headless_chromium);
# this script installs Chromium from the distribution's packages when it is missing and makes
# the test mandatory (without a browser it would only print a notice and pass).
#   tests/browser/check.sh                 (from anywhere; CHROMIUM=/path overrides the browser)
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
FUNDSIM_REQUIRE_BROWSER=1 cargo test --test report reports_render_in_headless_chromium -- --nocapture
