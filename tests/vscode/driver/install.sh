#!/usr/bin/env bash
# Installs the real VS Code of tests/vscode into this directory (never globally): code-server
# 4.100.3 and playwright-core, from the npm registry only. Needs Debian's `rg` (apt: ripgrep) and,
# to build code-server's native modules, libkrb5-dev; the browser is Debian's /usr/bin/chromium.
# A second run with the same package-lock.json does nothing (about 70 s and 300 MB otherwise).
set -euo pipefail
cd "$(dirname "$0")"

stamp=node_modules/.kubelocal-installed
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$lock_sum" && -x node_modules/.bin/code-server ]]; then
    exit 0
fi

missing=()
[[ -x /usr/bin/rg ]] || missing+=(ripgrep)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
if ((${#missing[@]})); then
    echo "tests/vscode needs Debian packages: apt-get install -y ${missing[*]} (then run this again)" >&2
    exit 1
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache holds the archive:
# seed the cache with Debian's rg so nothing but the npm registry is contacted.
seed=$(mktemp -d)
trap 'rm -rf "$seed"' EXIT
cache=${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11
mkdir -p "$cache"
cp /usr/bin/rg "$seed/rg"
tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$seed" rg

npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund
echo "$lock_sum" >"$stamp"
