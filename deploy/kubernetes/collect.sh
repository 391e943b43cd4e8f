#!/usr/bin/env bash
# Runs the split load test on the current kubectl context, merges the results
# and exits with the verdict of `chaperon merge`:
#   0  every threshold holds on the merged results
#   1  a threshold failed, or a segment is missing (its pod crashed)
#   2  the results could not be merged (bad input)
#   3  a Job did not finish within TIMEOUT, or the merge left no exit code
# A kubectl command that fails stops the script with its own code.
#
# Environment, all optional:
#   NAMESPACE     where to run (default: chaperon; created when missing)
#   START_MARGIN  seconds from now to the common start, for scheduling and
#                 image pulls (default: 120)
#   TIMEOUT       seconds to wait for the load Job (default: 3600)
#   OUT_DIR       where the results are copied to (default: chaperon-k8s-results)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
namespace=${NAMESPACE:-chaperon}
start_margin=${START_MARGIN:-120}
timeout=${TIMEOUT:-3600}
out_dir=${OUT_DIR:-chaperon-k8s-results}

k() { kubectl --namespace "$namespace" "$@"; }
say() { printf '\n==> %s\n' "$*"; }

# Waits for Job $1 to finish: returns 0 when it completed, 1 when it failed.
# (`kubectl wait` takes a single condition: waiting for Complete, it would sit
# out the whole timeout on a Job that failed.)
wait_for_job() {
  local job=$1 deadline=$((SECONDS + timeout)) conditions
  while ((SECONDS < deadline)); do
    # A failed request (the API server restarting) is only a missed look.
    conditions=" $(k get job "$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}' || true) "
    case $conditions in
      *" Complete "*) return 0 ;;
      *" Failed "*) return 1 ;;
    esac
    sleep 5
  done
  echo "collect.sh: job/$job has not finished after ${timeout}s" >&2
  exit 3
}

# On any exit, Ctrl-C included: stop the pods. The ConfigMaps and the volume stay for the next run.
cleanup() {
  k delete job chaperon-load chaperon-merge --ignore-not-found --wait=false || true
  k delete pod chaperon-results-shell --ignore-not-found --wait=false || true
}
trap cleanup EXIT

say "Namespace $namespace"
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f -
# Pods of an earlier run that was killed would still write to the volume.
k delete job chaperon-load chaperon-merge --ignore-not-found --cascade=foreground

say "Tests, results volume, and a pod to reach the volume"
k apply -f "$here/configmap.yaml" -f "$here/pvc.yaml" -f "$here/results-pod.yaml"
k wait --for=condition=Ready pod/chaperon-results-shell --timeout=5m
# Results of an earlier run (perhaps with another number of segments) would not merge with these.
k exec chaperon-results-shell -- sh -c 'rm -rf /results/segment-* /results/merged'

now=$(date +%s)
start_at=$(((now + start_margin) * 1000))
say "Load test: every segment starts in ${start_margin}s (CHAPERON_START_AT=$start_at)"
k create configmap chaperon-run --from-literal=CHAPERON_START_AT="$start_at" --dry-run=client -o yaml | k apply -f -
k apply -f "$here/job.yaml"
load_failed=false
wait_for_job chaperon-load || load_failed=true
# Every segment's own output (its summary, or how it crashed); a selector shows 10 lines unless told otherwise.
k logs --selector=job-name=chaperon-load --prefix --tail=-1 --max-log-requests=20 || true
if $load_failed; then
  echo "collect.sh: the load Job failed: a segment crashed or was stopped (segments do not fail on thresholds); merging what there is" >&2
fi

say "Merge"
k apply -f "$here/merge-job.yaml"
wait_for_job chaperon-merge || true
k logs job/chaperon-merge || true
verdict=$(k get pods --selector=job-name=chaperon-merge \
  -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')
if [[ -z $verdict ]]; then
  echo "collect.sh: the merge pod has no exit code (see: kubectl -n $namespace describe job chaperon-merge)" >&2
  exit 3
fi

say "Results: $out_dir (segment-<i>/ and merged/report.html)"
mkdir -p "$out_dir"
k cp chaperon-results-shell:/results "$out_dir"

# A crashed segment fails the run even if the merge somehow passed.
if $load_failed && ((verdict == 0)); then verdict=1; fi
say "Verdict: exit $verdict"
exit "$verdict"
