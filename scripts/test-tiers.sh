#!/usr/bin/env bash
# scripts/test-tiers.sh TIMES BACKGROUND_TIER TIER...: install what the tiers need, run them (make targets), and report
# each one's wall time in TIMES.
#
# BACKGROUND_TIER (the kernel tier) runs beside the others: its User-Mode Linux guest keeps one core busy while the
# host tiers run on the other, so `make test` takes about as long as the kernel tier alone, not the sum. Its UML kernel
# is built (tests/kernel/build-uml-kernel, when not cached) while the venv is installed, and its tests start once both
# are ready. Its output goes to .cache/<tier>.log and is printed when it ends. Every tier runs to its end, so one report
# names every failure; the exit status is 1 when any tier or the installation failed.
set -u
times=$1 background=$2
shift 2
mkdir -p .cache "$(dirname "$times")"
: >"$times"
log=.cache/$background.log venv_ready=.cache/venv-ready
rm -f "$venv_ready"

# apt first and alone (it takes one lock): the kernel build's packages are among the system's.
make --no-print-directory system-deps || exit 1

started=$(date +%s)
# setsid: the background tier is its own process group, stopped as a whole if this script is interrupted.
# shellcheck disable=SC2016  # the inner shell expands its own arguments
setsid bash -c '
    tests/kernel/build-uml-kernel >/dev/null || echo "the UML kernel build failed: the tier builds it again and says why"
    while [ ! -e "$1" ]; do sleep 1; done
    [ "$(cat "$1")" = ok ] || { echo "the venv could not be installed"; exit 1; }
    exec make --no-print-directory "$2"' sh "$venv_ready" "$background" >"$log" 2>&1 &
pid=$!
trap 'kill -- -$pid 2>/dev/null; exit 130' INT TERM HUP
echo "tier $background: started in the background, its UML kernel built beside the venv (its output: $log)"

status=0
if make --no-print-directory venv; then
    echo ok >"$venv_ready"
    for tier in "$@"; do
        start=$(date +%s)
        if make --no-print-directory "$tier"; then
            echo "tier $tier: $(( $(date +%s) - start )) s" | tee -a "$times"
        else
            echo "tier $tier: failed after $(( $(date +%s) - start )) s" | tee -a "$times"
            status=1
        fi
    done
else
    echo failed >"$venv_ready"
    status=1
fi

wait $pid
rc=$?
echo "== tier $background's output"
cat "$log"
if [ $rc = 0 ]; then
    echo "tier $background: $(( $(date +%s) - started )) s (beside the others, its kernel build included)" | tee -a "$times"
else
    echo "tier $background: failed after $(( $(date +%s) - started )) s (beside the others)" | tee -a "$times"
    status=1
fi
exit $status
