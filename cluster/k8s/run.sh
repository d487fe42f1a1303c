#!/usr/bin/env bash
# Runs the sharded study and its merge on Kubernetes: applies the storage and
# the Indexed Job, waits (bounded) until it completes or fails, then runs the
# merge Job. Edit shards-job.yaml and merge-job.yaml for your study first.
#   cluster/k8s/run.sh [TIMEOUT_SECONDS]   (default 86400)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
timeout="${1:-86400}"

# Waits until job $1 has condition Complete (returns 0) or Failed (returns 1).
wait_job() {
  local deadline=$((SECONDS + timeout)) state
  while [ "$SECONDS" -lt "$deadline" ]; do
    state=$(kubectl get job "$1" -o jsonpath='{range .status.conditions[?(@.status=="True")]}{.type} {end}')
    case " $state " in
      *" Complete "*) return 0 ;;
      *" Failed "*) echo "job $1 failed:" >&2; kubectl describe job "$1" >&2; return 1 ;;
    esac
    sleep 10
  done
  echo "job $1 did not finish within $timeout s" >&2
  return 1
}

kubectl apply -f "$here/pvc.yaml"
kubectl apply -f "$here/shards-job.yaml"
wait_job drsim-shards
kubectl apply -f "$here/merge-job.yaml"
wait_job drsim-merge
kubectl logs job/drsim-merge
