#!/usr/bin/env bash
# Every check a submission must pass, on a fresh machine: installs what the tests need, then
# formatting, lints, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
{ cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 || rustup component add rustfmt clippy

# The monitoring tests run the real promtool and amtool (Debian: prometheus 2.42,
# prometheus-alertmanager 0.25). Only the CLI tools are needed; no service is started.
if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null; then
  echo "== installing promtool and amtool"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
echo "== all checks passed"
