#!/usr/bin/env bash
# Run one phase of `make test` and record its wall time.
#
#   bash scripts/phase.sh TIMES_FILE "phase name" BUDGET_SECONDS command [args...]
#
# Appends "name<TAB>seconds<TAB>budget<TAB>status" to TIMES_FILE. When the command fails, prints the
# table of the phases so far and exits with the command's status; `bash scripts/phase.sh TIMES_FILE
# --report` prints the table (and the total) at the end of a run.
set -uo pipefail
times=$1
shift
report() {
  awk -F'\t' '
    BEGIN { printf "\n%-18s %9s %9s  %s\n", "phase", "seconds", "budget", "" }
    { total += $2; budget += $3
      printf "%-18s %9d %9d  %s\n", $1, $2, $3, ($4 == "ok" ? ($2 > $3 ? "over budget" : "") : $4) }
    END { printf "%-18s %9d %9d\n", "total", total, budget }' "$times"
}
if [ "$1" = "--report" ]; then
  report
  exit 0
fi
name=$1 budget=$2
shift 2
echo "== $name (budget ${budget} s) =="
start=$(date +%s)
"$@"
status=$?
elapsed=$(( $(date +%s) - start ))
if [ $status -eq 0 ]; then
  printf '%s\t%s\t%s\tok\n' "$name" "$elapsed" "$budget" >> "$times"
else
  printf '%s\t%s\t%s\tFAILED\n' "$name" "$elapsed" "$budget" >> "$times"
  report
fi
exit $status
