#!/usr/bin/env bash
# Submits a drsim study to Slurm as a job array (task K runs shard K of N)
# plus a merge job that starts only when every task succeeded
# (--dependency=afterok); if a task fails, the merge is cancelled.
#
#   cluster/slurm/submit.sh -n SHARDS -d SHARD_DIR -o OUT -- STUDY...
#   cluster/slurm/submit.sh -n 8 -d shards/ap -o output/ap -- \
#       sweep scenarios/active-passive.toml --param replication.interval=0.1s..10s:log:12 --runs 1000 --seed 42
#
# STUDY is the drsim command line you would run on one machine, without --out
# and --shard. OUT is that command's --out: the merged folder is then identical
# to the single-machine one, byte for byte (the reproduce line names OUT).
# SHARD_DIR (new or empty) receives shard-<task>/ folders and logs/. Paths are
# relative to the current folder, which the jobs share (sbatch's default):
# use a filesystem every node sees. DRSIM names the binary (default: drsim on
# PATH). Other sbatch options come from Slurm's own variables (SBATCH_PARTITION,
# SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...) or the #SBATCH lines of the two scripts.
# Prints the two job ids on its last line: "jobs: ARRAY_ID MERGE_ID".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

shards=""
shard_dir=""
out=""
while getopts "n:d:o:h" opt; do
  case "$opt" in
    n) shards="$OPTARG" ;;
    d) shard_dir="$OPTARG" ;;
    o) out="$OPTARG" ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$shards" ] && [ -n "$shard_dir" ] && [ -n "$out" ] || usage
case "$shards" in
  '' | *[!0-9]* | 0) echo "submit.sh: -n wants a shard count of 1 or more, not '$shards'" >&2; exit 2 ;;
esac
case "${1:-}" in
  run | compare | sweep) ;;
  *) echo "submit.sh: after -- give the study: run|compare|sweep SCENARIO... [options]" >&2; exit 2 ;;
esac
for a in "$@"; do
  case "$a" in
    --out | -o | --out=* | --shard | --shard=*)
      echo "submit.sh: leave $a out of the study; -d and -o set the shard and output folders" >&2
      exit 2 ;;
  esac
done
# Old shard folders from another split would be refused by merge: start clean.
if [ -d "$shard_dir" ] && [ -n "$(ls -A "$shard_dir")" ]; then
  echo "submit.sh: $shard_dir is not empty; give a new shard folder" >&2
  exit 2
fi
mkdir -p "$shard_dir/logs"

# The jobs see the submitting environment (sbatch's default --export=ALL).
export DRSIM="${DRSIM:-drsim}" DRSIM_SHARD_DIR="$shard_dir" DRSIM_OUT="$out"

array=$(sbatch --parsable --array="0-$((shards - 1))" \
  --output="$shard_dir/logs/shard-%a.log" \
  "$here/shard.sbatch" "$@")
array="${array%%;*}" # --parsable prints "id" or "id;cluster"
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
  --output="$shard_dir/logs/merge.log" \
  "$here/merge.sbatch")
merge="${merge%%;*}"

echo "shards: job array $array ($shards tasks), folders in $shard_dir, logs in $shard_dir/logs"
echo "merge:  job $merge, after every task succeeded; result in $out"
echo "jobs: $array $merge"
