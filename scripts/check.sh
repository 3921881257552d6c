#!/usr/bin/env bash
# Every check a submission must pass, on a fresh machine: installs what the tests need, then
# formatting, lints, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
{ cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 || rustup component add rustfmt clippy

# The monitoring tests run the real promtool and amtool (Debian: prometheus 2.42,
# prometheus-alertmanager 0.25); the rollout tests (tests/model_rollout.rs) start the
# `prometheus` server itself on loopback, scraping a fixture exporter.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null || ! command -v amtool >/dev/null; then
  echo "== installing promtool and amtool"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager
fi

# The remote-state tests run moto's S3 server (PyPI moto[server]) on loopback; 5.2.1 is the
# version checked to honour If-None-Match on PutObject (the state lock relies on it).
moto_ok() {
  command -v moto_server >/dev/null && python3 -c 'import moto, sys
v = tuple(int(x) for x in moto.__version__.split(".")[:3])
sys.exit(0 if v >= (5, 2, 1) else 1)' 2>/dev/null
}
if ! moto_ok; then
  echo "== installing moto_server"
  command -v python3 >/dev/null || { echo "python3 is required for moto_server"; exit 1; }
  MOTO='moto[server]>=5.2.1,<6'
  python3 -m pip install --quiet "$MOTO" \
    || python3 -m pip install --quiet --break-system-packages "$MOTO"
  hash -r
  command -v moto_server >/dev/null || export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi

# The model-registry tests run a real MLflow tracking server (PyPI mlflow; aliases need >= 2.9)
# and register versions with MLflow's own client.
mlflow_ok() {
  command -v mlflow >/dev/null && python3 -c 'import mlflow, sys
v = tuple(int(x) for x in mlflow.__version__.split(".")[:2])
sys.exit(0 if v >= (2, 9) else 1)' 2>/dev/null
}
if ! mlflow_ok; then
  echo "== installing mlflow"
  MLFLOW='mlflow>=2.9,<4'
  python3 -m pip install --quiet "$MLFLOW" \
    || python3 -m pip install --quiet --break-system-packages "$MLFLOW"
  hash -r
  command -v mlflow >/dev/null || export PATH="$(python3 -m site --user-base)/bin:$PATH"
fi

# kubectl comes with the machine (no registry here ships it); the tests drive it for real.
command -v kubectl >/dev/null || { echo "kubectl is required on PATH (the tests drive the real kubectl)"; exit 1; }

# Every tool the tests drive must be here now: a missing one fails its tests (never a skip).
for t in prometheus promtool amtool kubectl moto_server mlflow; do
  command -v "$t" >/dev/null || { echo "$t is missing after installation"; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
echo "== all checks passed"
