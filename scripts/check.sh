#!/usr/bin/env bash
# Every check a submission must pass, on a fresh machine: installs what the tests need, then
# formatting, lints, and every test. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "cargo is required (https://rustup.rs)"; exit 1; }
{ cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 || rustup component add rustfmt clippy

# The monitoring tests run the real promtool and amtool (Debian: prometheus 2.42,
# prometheus-alertmanager 0.25); tests/monitoring_e2e.rs also runs their servers.
if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null \
   || ! command -v prometheus >/dev/null || ! command -v prometheus-alertmanager >/dev/null; then
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

# The cloud emulator is held to the published Yandex Cloud API: a test regenerates
# tests/fixtures/yandex_api/rest.json from the yandexcloud package's protobuf descriptors
# (scripts/yandex_api_fixture.py) and compares. Only the descriptors are needed: no gRPC.
yandexcloud_ok() {
  python3 -c 'from importlib.metadata import version; import sys, google.api.annotations_pb2
sys.exit(0 if version("yandexcloud") == "0.413.0" else 1)' 2>/dev/null
}
if ! yandexcloud_ok; then
  echo "== installing yandexcloud 0.413.0 (descriptors only)"
  YC='yandexcloud==0.413.0'
  python3 -m pip install --quiet --no-deps "$YC" \
    || python3 -m pip install --quiet --no-deps --break-system-packages "$YC"
  python3 -m pip install --quiet protobuf googleapis-common-protos \
    || python3 -m pip install --quiet --break-system-packages protobuf googleapis-common-protos
  yandexcloud_ok || { echo "yandexcloud 0.413.0 is missing after installation"; exit 1; }
fi

# The sandbox's second real client is the official Python client (PyPI kubernetes >= 30).
kube_py_ok() {
  python3 -c 'import kubernetes, sys
sys.exit(0 if int(kubernetes.__version__.split(".")[0]) >= 30 else 1)' 2>/dev/null
}
if ! kube_py_ok; then
  echo "== installing the Python kubernetes client"
  KUBE_PY='kubernetes>=30'
  python3 -m pip install --quiet "$KUBE_PY" \
    || python3 -m pip install --quiet --break-system-packages "$KUBE_PY"
fi
kube_py_ok || { echo "the Python kubernetes client is missing after installation"; exit 1; }

# The retraining-DAG test runs real Airflow (PyPI apache-airflow, SQLite) in a venv of its own:
# direct pins in examples/dags/requirements.txt, every other package in constraints.txt (Airflow's
# constraints approach). Reinstalled only when either file changed (a stamp of their hash); only
# the `airflow` command goes on PATH, so the venv's python and mlflow shadow nothing.
AIRFLOW_VENV="$HOME/.cache/mlstack/venv-airflow"
AIRFLOW_BIN="$HOME/.cache/mlstack/airflow-bin"
AIRFLOW_STAMP="$(cat examples/dags/requirements.txt examples/dags/constraints.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$AIRFLOW_VENV/.mlstack-stamp" 2>/dev/null)" != "$AIRFLOW_STAMP" ] || ! "$AIRFLOW_VENV/bin/airflow" version >/dev/null 2>&1; then
  echo "== installing Airflow into $AIRFLOW_VENV"
  rm -rf "$AIRFLOW_VENV"
  python3 -m venv "$AIRFLOW_VENV"
  "$AIRFLOW_VENV/bin/pip" install --quiet --no-cache-dir -r examples/dags/requirements.txt -c examples/dags/constraints.txt
  "$AIRFLOW_VENV/bin/airflow" version >/dev/null
  echo "$AIRFLOW_STAMP" > "$AIRFLOW_VENV/.mlstack-stamp"
fi
mkdir -p "$AIRFLOW_BIN"
ln -sf "$AIRFLOW_VENV/bin/airflow" "$AIRFLOW_BIN/airflow"
case ":$PATH:" in *":$AIRFLOW_BIN:"*) ;; *) export PATH="$PATH:$AIRFLOW_BIN" ;; esac

# The example model API (examples/model-api: FastAPI, uvicorn, prometheus-client, scikit-learn)
# and its pytest suite; the monitoring end-to-end test mails an aiosmtpd sink.
model_api_ok() {
  python3 -c 'import fastapi, uvicorn, prometheus_client, sklearn, pandas, pytest, httpx, aiosmtpd' 2>/dev/null
}
if ! model_api_ok; then
  echo "== installing the model API's packages and aiosmtpd"
  REQS=(-r examples/model-api/requirements-test.txt 'aiosmtpd>=1.4')
  python3 -m pip install --quiet "${REQS[@]}" \
    || python3 -m pip install --quiet --break-system-packages "${REQS[@]}"
  model_api_ok || { echo "the model API's Python packages are missing after installation"; exit 1; }
fi

# kubectl comes with the machine (no registry here ships it); the tests drive it for real.
command -v kubectl >/dev/null || { echo "kubectl is required on PATH (the tests drive the real kubectl)"; exit 1; }

# Every tool the tests drive must be here now: a missing one fails its tests (never a skip).
for t in promtool amtool prometheus prometheus-alertmanager kubectl moto_server mlflow airflow; do
  command -v "$t" >/dev/null || { echo "$t is missing after installation"; exit 1; }
done

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
echo "== cargo test"
cargo test --workspace --all-targets
echo "== all checks passed"
