#!/usr/bin/env bash
# The main job: build mlstack and bootstrap the reference stack (stacks/fraud-detection.yaml)
# into the local sandbox in one apply: the emulated Yandex Cloud (network, accounts, roles,
# Managed Kubernetes, PostgreSQL, bucket) and then everything inside the new cluster. The next
# plan is empty. No cloud account and no --var needed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/mlstack"

stack=stacks/fraud-detection.yaml
$bin validate "$stack"
$bin sandbox up
$bin apply "$stack" --sandbox --auto-approve
$bin plan "$stack" --sandbox --detailed-exitcode && echo "Second plan: no changes."
$bin output "$stack"
$bin sandbox status
echo
echo "The sandbox keeps running: try"
echo "  $bin sandbox kubeconfig > cluster.kubeconfig && kubectl --kubeconfig cluster.kubeconfig get deploy,hpa -A"
echo "  $bin destroy $stack --sandbox --auto-approve && $bin sandbox down"
