#!/usr/bin/env bash
# Runs one check and says how long it took: scripts/timed.sh NAME COMMAND [ARGS...]
set -uo pipefail
name=$1; shift
start=$EPOCHREALTIME
"$@"
status=$?
seconds=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
if [ "$status" -eq 0 ]; then
  echo "$name: passed in $seconds s"
else
  echo "$name: FAILED (exit $status) in $seconds s"
fi
exit "$status"
