#!/usr/bin/env bash
# Every test: type check, engine/CLI unit tests, slow tests (full-size models,
# PyTorch cross-checks), then the extension in a real VS Code (code-server).
# Prints one closing line "N passed, N failed" over all parts.
set -uo pipefail
cd "$(dirname "$0")/.."
pass=0; fail=0
# Debian's PyTorch builds the cross-check fixtures of the slow tests (ONNX exports).
if ! /usr/bin/python3 -c 'import torch, torchvision' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing python3-torch and python3-torchvision (Debian) for the cross-checks"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch python3-torchvision > /dev/null) || echo "!! could not install python3-torch: the PyTorch cross-checks will be skipped"
fi
count_node() { # adds node:test's "# pass N" / "# fail N" from a log
  local p f
  p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}'); f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ -z "$p" ]; then fail=$((fail + 1)); echo "!! $1: no test summary (the runner crashed)"; fi
}
log=$(mktemp -d)

echo "== type check"
if npx tsc -p . --noEmit; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== build"
if node esbuild.mjs && node test/build.mjs test/unit test/slow; then pass=$((pass + 1)); else fail=$((fail + 1)); fi

echo "== unit tests"
node --test --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$log/unit.tap" out/test/unit/ || true
count_node "$log/unit.tap"

if [ -d out/test/slow ] && [ "${FGCAM_SKIP_SLOW:-}" != 1 ]; then
  echo "== slow tests"
  node --test --test-concurrency=1 --test-reporter=spec --test-reporter-destination=stdout --test-reporter=tap --test-reporter-destination="$log/slow.tap" out/test/slow/ || true
  count_node "$log/slow.tap"
fi

if [ -f test/integration/run.mjs ] && [ "${FGCAM_SKIP_INTEGRATION:-}" != 1 ]; then
  echo "== integration tests (real VS Code via code-server)"
  if bash test/integration/setup.sh > "$log/setup.log" 2>&1; then
    node test/integration/run.mjs 2>&1 | tee "$log/integration.log"
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/integration.log" | tail -1)
    # A headless browser driving a whole workbench can stumble on timing: one retry, said
    # out loud; a real failure fails twice.
    if [ -z "$line" ] || [ "$(echo "$line" | awk '{print $3}')" != 0 ]; then
      echo "!! integration run ended with: ${line:-no summary}; retrying once"
      node test/integration/run.mjs --skip-build 2>&1 | tee "$log/integration.log"
      line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log/integration.log" | tail -1)
    fi
    if [ -n "$line" ]; then
      pass=$((pass + $(echo "$line" | awk '{print $1}'))); fail=$((fail + $(echo "$line" | awk '{print $3}')))
    else
      fail=$((fail + 1)); echo "!! integration run printed no summary"
    fi
  else
    tail -40 "$log/setup.log"; fail=$((fail + 1)); echo "!! integration setup failed"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
