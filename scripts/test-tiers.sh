#!/usr/bin/env bash
# scripts/test-tiers.sh TIMES BACKGROUND_TIER TIER...: run the test tiers (make targets), report each one's wall time.
#
# BACKGROUND_TIER (the kernel tier) starts first and runs beside the others: its User-Mode Linux guest keeps one core
# busy while the host tiers run on the other, so `make test` takes about as long as the kernel tier alone, not the sum.
# Its output goes to .cache/<tier>.log and is printed when it ends. Every tier runs to its end, so one report names
# every failure; the exit status is 1 when any tier failed.
set -u
times=$1 background=$2
shift 2
mkdir -p "$(dirname "$times")"
: >"$times"
log=.cache/$background.log

started=$(date +%s)
# setsid: the background tier is its own process group, stopped as a whole if this script is interrupted.
setsid make --no-print-directory "$background" >"$log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null; exit 130' INT TERM HUP
echo "tier $background: started in the background (its output: $log)"

status=0
for tier in "$@"; do
    start=$(date +%s)
    if make --no-print-directory "$tier"; then
        echo "tier $tier: $(( $(date +%s) - start )) s" | tee -a "$times"
    else
        echo "tier $tier: failed after $(( $(date +%s) - start )) s" | tee -a "$times"
        status=1
    fi
done

wait $pid
rc=$?
echo "== tier $background's output"
cat "$log"
if [ $rc = 0 ]; then
    echo "tier $background: $(( $(date +%s) - started )) s (beside the others)" | tee -a "$times"
else
    echo "tier $background: failed after $(( $(date +%s) - started )) s (beside the others)" | tee -a "$times"
    status=1
fi
exit $status
