#!/usr/bin/env bash
# The mlstack commands of the CI examples (GitHub Actions and GitLab CI), in one place, so that
# the test suite (tests/ci_examples.rs) runs exactly what the pipelines run.
#
#   mlstack-ci.sh preview STACK   plan without the lock (previews never block applies), write
#                                 OUT/NAME.md (the PR comment: one per stack, found again by its
#                                 first line), OUT/NAME.label, OUT/NAME.exit; exit 1 only on error
#   mlstack-ci.sh apply STACK     apply with the lock (waits up to MLSTACK_LOCK_TIMEOUT)
#   mlstack-ci.sh drift STACK     refresh-only plan: exit 0 in sync, 2 drifted (OUT/NAME-drift.md), 1 error
#
# Environment: MLSTACK (the binary, default `mlstack`), MLSTACK_CI_OUT (default .mlstack-ci),
# MLSTACK_LOCK_TIMEOUT (default 10m), MLSTACK_EXTRA_ARGS (e.g. `--sandbox`), and whatever the
# stack's backend and providers need (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY for an s3 backend,
# KUBECONFIG for a kubernetes backend, YC_TOKEN or YC_SERVICE_ACCOUNT_KEY_FILE, the state
# encryption key).
set -uo pipefail

cmd=${1:?usage: mlstack-ci.sh preview|apply|drift STACK}
stack=${2:?usage: mlstack-ci.sh preview|apply|drift STACK}
mlstack=${MLSTACK:-mlstack}
out=${MLSTACK_CI_OUT:-.mlstack-ci}
extra=(${MLSTACK_EXTRA_ARGS:-})
name=$(basename "$stack" .yaml)
mkdir -p "$out"

# The marker that finds this stack's comment again, so each PR keeps ONE comment per stack.
marker="<!-- mlstack plan: $stack -->"

case "$cmd" in
preview)
  "$mlstack" plan "$stack" --lock=false --detailed-exitcode --no-color \
    --out "$out/$name.plan" "${extra[@]}" >"$out/$name.txt" 2>"$out/$name.err"
  code=$?
  echo "$code" >"$out/$name.exit"
  if [ "$code" -eq 1 ]; then
    { echo "$marker"; echo "### \`$stack\`: plan failed"; echo; echo '```'; tail -c 60000 "$out/$name.err"; echo '```'; } >"$out/$name.md"
    echo "mlstack:error" >"$out/$name.label"
    cat "$out/$name.err" >&2
    exit 1
  fi
  # The Markdown plan fits one comment (65,536 characters) by construction: long plans are
  # summarised by mlstack itself.
  { echo "$marker"; "$mlstack" show "$out/$name.plan" --format markdown; } >"$out/$name.md" || exit 1
  if [ "$code" -eq 0 ]; then
    echo "mlstack:no-changes" >"$out/$name.label"
  elif "$mlstack" show "$out/$name.plan" --format json | python3 -c '
import json, sys
plan = json.load(sys.stdin)
deletes = any("delete" in c["change"]["actions"] for c in plan.get("resource_changes", []))
sys.exit(0 if deletes else 1)'; then
    echo "mlstack:destroy" >"$out/$name.label"
  else
    echo "mlstack:add-or-update" >"$out/$name.label"
  fi
  # Exit code 2 means "changes pending", not failure: the check stays green.
  exit 0
  ;;
apply)
  "$mlstack" apply "$stack" --auto-approve --no-color \
    --lock-timeout "${MLSTACK_LOCK_TIMEOUT:-10m}" "${extra[@]}"
  ;;
drift)
  "$mlstack" plan "$stack" --refresh-only --detailed-exitcode --lock=false --no-color \
    "${extra[@]}" >"$out/$name-drift.txt" 2>"$out/$name-drift.err"
  code=$?
  if [ "$code" -eq 2 ]; then
    { echo "Drift found in \`$stack\`:"; echo; echo '```'; tail -c 60000 "$out/$name-drift.txt"; echo '```'; } >"$out/$name-drift.md"
  elif [ "$code" -eq 1 ]; then
    cat "$out/$name-drift.err" >&2
  fi
  exit "$code"
  ;;
*)
  echo "unknown command: $cmd (preview, apply or drift)" >&2
  exit 1
  ;;
esac
