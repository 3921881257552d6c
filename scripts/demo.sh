#!/usr/bin/env bash
# The main job: build mlstack and apply the example stack with the built-in providers, then show
# that a second plan is empty.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/mlstack
stack=examples/quickstart/stack.yaml
$bin validate "$stack"
$bin apply "$stack" --auto-approve
$bin plan "$stack" --detailed-exitcode && echo "Second plan: no changes."
$bin output "$stack"
