# shellcheck shell=bash
# Stage runner shared by scripts/test.sh and scripts/run.sh. Source it; do not execute it.
#
# A script defines one function per stage, named stage_<name>, lists the names in order in an
# array, and calls `nnfuse_main_stages "${ARRAY[@]}"`. Each stage runs in a subshell with
# `set -euo pipefail`; it is announced as `==> stage <name>`, timed, and closed with
# `<== stage <name>: <seconds> s`. The first failing stage ends the script with its exit
# status, after a summary table of the stage times. NNFUSE_STAGES="a b c" runs a subset
# (in the order given).

nnfuse_stage_names=()
nnfuse_stage_secs=()
nnfuse_stage_results=()

# Seconds since the epoch with nanoseconds ("1700000000.123456789").
nnfuse_now() { date +%s.%N; }

# nnfuse_elapsed <start> <end>: seconds between two nnfuse_now values, one decimal.
nnfuse_elapsed() { LC_ALL=C awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# nnfuse_cmd <command...>: print the command, then run it.
nnfuse_cmd() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  "$@"
}

nnfuse_print_summary() {
  local i total=0
  echo "==> summary"
  printf '  %-12s %9s  %s\n' stage seconds result
  for i in "${!nnfuse_stage_names[@]}"; do
    printf '  %-12s %9s  %s\n' "${nnfuse_stage_names[$i]}" "${nnfuse_stage_secs[$i]}" \
      "${nnfuse_stage_results[$i]}"
    total=$(LC_ALL=C awk -v a="$total" -v b="${nnfuse_stage_secs[$i]}" 'BEGIN { printf "%.1f", a + b }')
  done
  printf '  %-12s %9s\n' total "$total"
}

# nnfuse_run_stage <name>: run stage_<name>, record its time and set nnfuse_stage_rc to its exit
# status. Always returns 0: calling it from an `if` or `||` would make bash ignore `set -e`
# inside the stage, so the caller reads nnfuse_stage_rc instead.
nnfuse_stage_rc=0
nnfuse_run_stage() {
  local name=$1 fn="stage_$1" t0 t1 secs rc had_e=0
  [[ $- == *e* ]] && had_e=1
  echo "==> stage $name"
  t0=$(nnfuse_now)
  # The subshell must not run in an `if`/`||` context, or bash would ignore `set -e` inside it.
  set +e
  (
    set -euo pipefail
    "$fn"
  )
  rc=$?
  ((had_e)) && set -e
  t1=$(nnfuse_now)
  secs=$(nnfuse_elapsed "$t0" "$t1")
  nnfuse_stage_names+=("$name")
  nnfuse_stage_secs+=("$secs")
  if ((rc == 0)); then
    nnfuse_stage_results+=(ok)
    echo "<== stage $name: $secs s"
  else
    nnfuse_stage_results+=("FAILED (exit $rc)")
    echo "<== stage $name: $secs s (FAILED, exit $rc)"
  fi
  nnfuse_stage_rc=$rc
  return 0
}

# nnfuse_main_stages <default stage names...>: run the stages (or the subset in
# NNFUSE_STAGES), stop at the first failure, print the summary, exit with its status.
nnfuse_main_stages() {
  local -a stages
  local s rc=0
  if [[ -n "${NNFUSE_STAGES:-}" ]]; then
    read -r -a stages <<<"$NNFUSE_STAGES"
  else
    stages=("$@")
  fi
  for s in "${stages[@]}"; do
    if ! declare -F "stage_$s" >/dev/null; then
      echo "error: unknown stage '$s' (known stages: $*)" >&2
      exit 2
    fi
  done
  for s in "${stages[@]}"; do
    nnfuse_run_stage "$s"
    rc=$nnfuse_stage_rc
    ((rc == 0)) || break
  done
  nnfuse_print_summary
  if ((rc != 0)); then
    echo "FAILED at stage ${nnfuse_stage_names[-1]}"
    exit "$rc"
  fi
  echo "all ${#stages[@]} stages passed"
}
