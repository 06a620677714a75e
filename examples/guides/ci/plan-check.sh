#!/usr/bin/env bash
# The drift / "rotation due" check, for CI: terraform plan -detailed-exitcode,
# and its exit code read the way it is meant.
#
#   exit 0  nothing to do: no rotation is due and nothing drifted
#   exit 2  changes are pending: a rotation is due, a bound secret drifted,
#           or the configuration changed; what and why is printed
#   exit 1  the plan failed: credentials, network, configuration; the job
#           must fail and someone must look
#
# The plan file is written to a private directory of its own and deleted when
# the script exits, whatever happens: it never becomes a build artifact (see
# the CI guide for why that matters even though the provider keeps passwords
# out of it). Extra arguments are passed to terraform plan.
set -uo pipefail

plan_dir=$(mktemp -d "${RUNNER_TEMP:-${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}}/segura-plan.XXXXXX") || exit 1
chmod 700 "$plan_dir"
trap 'rm -rf "$plan_dir"' EXIT

terraform plan -input=false -lock-timeout=5m -detailed-exitcode -out="$plan_dir/plan" "$@"
code=$?

case "$code" in
0)
  echo "segura: no rotation due, nothing drifted"
  exit 0
  ;;
2)
  echo "segura: changes pending:"
  # Addresses, actions and, for rotations, the reason: never values.
  terraform show -json "$plan_dir/plan" | jq -r '
    [.resource_changes[]? | select(.change.actions != ["no-op"] and .change.actions != ["read"])] as $changes
    | if ($changes | length) == 0 then "  (only outputs change)" else
        $changes[] | "  \(.address): \(.change.actions | join("+"))"
          + (if .type == "segura_credential_rotation" and (.change.after.last_rotation_reason // "") != ""
             then " - " + .change.after.last_rotation_reason else "" end)
      end'
  exit 2
  ;;
*)
  echo "segura: terraform plan failed (exit $code)" >&2
  exit 1
  ;;
esac
