#!/usr/bin/env bash
# Sets up what the extension's end-to-end tests need, idempotently (a few seconds when all is
# in place):
#   - Debian's chromium (the browser playwright-core drives), ripgrep (its `rg` stands in for
#     the one code-server would download) and libkrb5-dev (code-server's kerberos addon is
#     compiled from source), installed with apt-get when missing; this needs root;
#   - code-server (VS Code OSS for the web, the editor the tests run) in a cache folder of its
#     own, outside the repository, so a fresh clone or `npm ci` does not redo its 2-minute
#     install and its 300 MB never land in the workspace;
#   - then prints the versions it found.
# The cache folder is $TICKETS_E2E_CACHE, by default ${XDG_CACHE_HOME:-$HOME/.cache}/tickets-e2e.
# Prints the code-server folder on its last line, `code-server-dir=<path>`.
set -euo pipefail

readonly CODE_SERVER_VERSION=4.100.3
# code-server 4.100.3 installs @vscode/ripgrep 1.15.11, which fetches this asset of rg from
# GitHub unless it finds it in its download cache; the cache is seeded with Debian's rg instead.
readonly RIPGREP_PACKAGE_VERSION=1.15.11
readonly RIPGREP_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

cache="${TICKETS_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tickets-e2e}"
code_server_dir="$cache/code-server-$CODE_SERVER_VERSION"
code_server_bin="$code_server_dir/node_modules/.bin/code-server"

say() { printf 'e2e setup: %s\n' "$*" >&2; }

# One set-up at a time (apt-get and the install below): CI and a test run may both call this.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# --- Debian packages -------------------------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
# Only the install of code-server compiles kerberos; a machine that has it needs no headers.
if [[ ! -x "$code_server_bin" ]] && ! dpkg-query -W -f='${Status}' libkrb5-dev 2>/dev/null | grep -q 'ok installed'; then
  missing+=(libkrb5-dev)
fi
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}"
    say "install them as root, then run this script again:"
    say "  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    exit 1
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- code-server -----------------------------------------------------------------------------
if [[ ! -x "$code_server_bin" ]]; then
  say "installing code-server $CODE_SERVER_VERSION into $code_server_dir (about 2 minutes)"

  # The install runs with a temporary folder of its own (0700, made here), where the seed is
  # always written afresh from Debian's rg: a shared /tmp would let anyone plant the binary.
  install_tmp="$(mktemp -d)"
  trap 'rm -rf "$install_tmp"' EXIT
  rg_cache="$install_tmp/vscode-ripgrep-cache-$RIPGREP_PACKAGE_VERSION"
  mkdir -p "$install_tmp/rg" "$rg_cache"
  cp "$(command -v rg)" "$install_tmp/rg/rg"
  tar czf "$rg_cache/$RIPGREP_ASSET" -C "$install_tmp/rg" rg

  # Installed next to the final folder and renamed when complete, so an interrupted install
  # never looks finished.
  partial="$code_server_dir.partial"
  rm -rf "$partial"
  mkdir -p "$partial"
  cat >"$partial/package.json" <<JSON
{
  "name": "tickets-e2e-code-server",
  "private": true,
  "description": "code-server for the tickets extension's end-to-end tests (apps/vscode/e2e/setup.sh)",
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true }
}
JSON
  # unsafe_perm: code-server's postinstall refuses to run as root without it (it reads the
  # variable itself, so npm's "unknown env config" warning is harmless). yes: node-pty's build
  # runs `npx node-gyp`, which a `yes=false` npm config would cancel.
  (
    cd "$partial"
    TMPDIR="$install_tmp" npm_config_unsafe_perm=true npm_config_yes=true npm_config_fund=false npm_config_audit=false \
      npm install --no-package-lock --loglevel=error >"$partial/install.log" 2>&1
  ) || {
    say "the code-server install failed; the last lines of $partial/install.log:"
    tail -n 30 "$partial/install.log" >&2
    exit 1
  }
  rm -rf "$code_server_dir"
  mv "$partial" "$code_server_dir"
  rm -rf "$install_tmp"
fi

# --- verify ----------------------------------------------------------------------------------
# code-server and chromium write into XDG folders (and home) when run; keep that out of home.
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export XDG_CONFIG_HOME="$scratch/config" XDG_DATA_HOME="$scratch/data" XDG_CACHE_HOME="$scratch/cache"
printf 'auth: none\ncert: false\n' >"$scratch/config.yaml"
cs_version="$("$code_server_bin" --config "$scratch/config.yaml" --version 2>/dev/null | tail -n 1)"
if [[ "$cs_version" != "$CODE_SERVER_VERSION"* ]]; then
  say "code-server at $code_server_bin answers '$cs_version', expected $CODE_SERVER_VERSION"
  exit 1
fi
say "code-server $cs_version"
say "$(chromium --version 2>/dev/null | head -n 1)"
say "$(rg --version | head -n 1)"
# playwright-core is an npm devDependency of apps/vscode (no browser download: it drives the
# chromium above), installed by `npm install` at the root.
pw_version="$(cd "$(dirname "$0")/.." && node -p 'require("playwright-core/package.json").version' 2>/dev/null)" ||
  pw_version="not installed yet (run npm install at the repository's root)"
say "playwright-core $pw_version"
echo "code-server-dir=$code_server_dir"
