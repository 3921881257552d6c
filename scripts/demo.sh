#!/usr/bin/env bash
# The main job: build mlstack, apply the quickstart stack with the built-in providers, then the
# 50-object Kubernetes example into the local sandbox, and show that the next plans are empty.
# (Once the Yandex Cloud emulator exists this becomes the sandbox apply of
# stacks/fraud-detection.yaml.)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/mlstack"

stack=examples/quickstart/stack.yaml
$bin validate "$stack"
$bin apply "$stack" --auto-approve
$bin plan "$stack" --detailed-exitcode && echo "Second plan: no changes."
$bin output "$stack"

k8s=examples/kubernetes/stack.yaml
$bin sandbox up
$bin apply "$k8s" --sandbox --auto-approve
$bin plan "$k8s" --sandbox --detailed-exitcode && echo "Second plan against the sandbox: no changes."
$bin validate stacks/fraud-detection.yaml
echo
echo "The sandbox keeps running: try"
echo "  $bin sandbox kubeconfig > sandbox.kubeconfig && kubectl --kubeconfig sandbox.kubeconfig get deploy -A"
echo "  $bin destroy $k8s --sandbox --auto-approve && $bin sandbox down"
