#!/usr/bin/env bash
# Installs what ttycall's build, tests and demo need from Debian's packages and the npm
# registry. Idempotent: prints nothing and changes nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: the XMPP server, the codecs for cgo, the tools the tests drive.
pkgs=(
  prosody lua-unbound        # the local XMPP server of tests and demo
  pkg-config libvpx-dev libopus-dev libopusfile-dev  # VP8 and Opus through cgo
  iproute2                   # network namespaces in the reconnection tests
  tmux                       # end-to-end TUI tests
  chromium                   # QuickBlox web SDK interop tests
  chafa                      # ui/video's comparison benchmark
)

missing=()
for p in "${pkgs[@]}"; do
  [[ $p == \#* ]] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  log=$(mktemp)
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "setup: apt-get failed" >&2; exit 1
  fi
  rm -f "$log"
  # The Debian package starts a system-wide Prosody on all interfaces; ttycall runs its
  # own on loopback, so the system one is stopped where a service manager exists.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prosody 2>/dev/null; then
    $sudo systemctl stop prosody >/dev/null 2>&1 || true
  fi
  if [ -x /etc/init.d/prosody ]; then
    $sudo /etc/init.d/prosody stop >/dev/null 2>&1 || true
  fi
fi

# npm packages of the interop tests (QuickBlox web SDK, playwright-core), from the lock file.
if [ -f interop/web/package-lock.json ] && [ ! -d interop/web/node_modules ]; then
  echo "setup: installing interop/web npm packages" >&2
  (cd interop/web && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
