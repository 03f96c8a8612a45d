#!/usr/bin/env bash
# Installs what ttycall needs from Debian's packages and the npm registry.
#   scripts/setup.sh        what the build and `make demo` need (Prosody, the codecs, cgo)
#   scripts/setup.sh test   that, and what the tests need (tmux, Chromium, Janus, npm packages)
# Idempotent: prints nothing and changes nothing when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-demo}
case $mode in demo|test) ;; *) echo "usage: $0 [demo|test]" >&2; exit 2 ;; esac

# Debian packages of the build and the demo: the XMPP server, the codecs for cgo.
pkgs=(
  prosody lua-unbound        # the local XMPP server of tests and demo
  pkg-config libvpx-dev libopus-dev libopusfile-dev  # VP8 and Opus through cgo
  gcc libc6-dev              # cgo
)
# Debian packages only the tests need: the tools they drive.
test_pkgs=(
  iproute2 util-linux        # network namespaces (ip, unshare) in reconnection and interop tests
  nftables                   # interop's ICE-restart test drops UDP inside its own network namespace; NAT routers
  coturn                     # the TURN/STUN server of the NAT traversal tests (internal/nattest)
  procps                     # pgrep in the server's tests
  tmux                       # end-to-end TUI tests
  chromium                   # QuickBlox web SDK interop tests
  janus                      # the Janus VideoRoom SFU of the conference tests (internal/janusserver)
  chafa                      # ui/video's comparison benchmark
)
if [[ $mode == test ]]; then
  pkgs+=("${test_pkgs[@]}")
  # Node.js and npm drive the interop tests' browser. They may come from elsewhere than
  # Debian (npm is then bundled with node, and Debian's npm would conflict): ask for the
  # Debian packages only when the commands are missing.
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

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
  # Likewise coturn: the tests run their own inside network namespaces.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet coturn 2>/dev/null; then
    $sudo systemctl stop coturn >/dev/null 2>&1 || true
  fi
  # Likewise Janus: the tests run their own, unprivileged, from a generated config.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet janus 2>/dev/null; then
    $sudo systemctl stop janus >/dev/null 2>&1 || true
  fi
fi

# Everything below is for the tests only.
[[ $mode == test ]] || exit 0

# npm packages of the interop tests (QuickBlox web SDK, playwright-core), from the lock
# file: again when an earlier install did not finish (npm writes its own record,
# node_modules/.package-lock.json, last) or the lock file is newer than that record.
# interop/janus: janus.js (npm janus-gateway), webrtc-adapter and playwright-core for the
# conference tests' web participants.
for web in interop/web interop/janus; do
  if [ -f $web/package-lock.json ] &&
    { [ ! -f $web/node_modules/.package-lock.json ] || [ $web/package-lock.json -nt $web/node_modules/.package-lock.json ]; }; then
    echo "setup: installing $web npm packages" >&2
    (cd $web && npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
done

# npm packages of the Jingle interop tests (StanzaJS, events, esbuild, playwright-core), the
# same way; then StanzaJS bundled for the page (node_modules/.ttycall/stanza.js, rebuilt
# with the packages, never committed).
jingle=interop/jingle
if [ -f $jingle/package-lock.json ] &&
  { [ ! -f $jingle/node_modules/.package-lock.json ] || [ $jingle/package-lock.json -nt $jingle/node_modules/.package-lock.json ]; }; then
  echo "setup: installing $jingle npm packages" >&2
  (cd $jingle && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if [ -x $jingle/node_modules/.bin/esbuild ] &&
  { [ ! -f $jingle/node_modules/.ttycall/stanza.js ] || [ $jingle/node_modules/.package-lock.json -nt $jingle/node_modules/.ttycall/stanza.js ]; }; then
  (cd $jingle && node_modules/.bin/esbuild entry.js --bundle --platform=browser --log-level=error --outfile=node_modules/.ttycall/stanza.js >&2)
fi
