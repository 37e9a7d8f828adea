#!/usr/bin/env bash
# Slurm training:  tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args]
# GPUS (total, default 8), GPUS_PER_NODE (default 8), CPUS_PER_TASK (default 5),
# SIGNAL_SECONDS (default 120) and SRUN_ARGS are read from the environment.
#
# Time limit and preemption: Slurm sends SIGUSR1 to the training processes SIGNAL_SECONDS
# before the time limit (srun --signal) and SIGTERM when it preempts or cancels the job;
# either makes every rank save iter_<k>.pth after the current iteration and exit with 75.
# Every start resumes from WORK_DIR/last_checkpoint when there is one. Submitted as a batch
# job (sbatch [sbatch options] tools/slurm_train.sh ...), the #SBATCH lines below also send
# SIGUSR1 to this script; it passes the signal on and, once training has stopped, requeues
# the job (scontrol requeue), which then resumes by itself. SIGTERM never requeues: a
# cancelled job stays cancelled (Slurm requeues preempted jobs itself with PreemptMode=REQUEUE).
#SBATCH --signal=B:USR1@120
#SBATCH --requeue
set -euo pipefail
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SIGNAL_SECONDS=${SIGNAL_SECONDS:-120}
SRUN_ARGS=${SRUN_ARGS:-""}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PREEMPTED=75  # mim_agnostic/engine/training_stopped.py

RESUME=()
if [[ -f "$WORK_DIR/last_checkpoint" ]]; then
    echo "slurm_train.sh: resuming from $(cat "$WORK_DIR/last_checkpoint")"
    RESUME=(--resume)  # before the user's arguments: an explicit --resume PATH wins
fi

# srun in the background so that this shell can pass on the signals it gets itself
# (sbatch --signal=B:..., scancel --batch, preemption of the batch step)
SRUN_PID=
REQUEUE=0  # set when the time-limit warning reaches this shell (#SBATCH --signal=B:USR1@...)
trap 'REQUEUE=1; kill -USR1 "$SRUN_PID" 2>/dev/null || true' USR1
trap 'kill -TERM "$SRUN_PID" 2>/dev/null || true' TERM
PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}" \
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    --signal=USR1@"$SIGNAL_SECONDS" \
    $SRUN_ARGS \
    python -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm \
    ${RESUME[@]+"${RESUME[@]}"} "${@:5}" &
SRUN_PID=$!

# `wait` returns early (status > 128) when a trapped signal arrives: wait until srun exits
status=0
while :; do
    wait "$SRUN_PID" && status=0 || status=$?
    kill -0 "$SRUN_PID" 2>/dev/null || break
done

# the exit status is 75, or 128 + 9 when --kill-on-bad-exit killed the ranks that were still
# exiting after the first one left with 75: the checkpoint was complete before any rank left
if [[ $status -ne 0 && $REQUEUE -eq 1 && -n "${SLURM_JOB_ID:-}" ]]; then
    echo "slurm_train.sh: time limit near, training stopped (exit $status); requeueing job" \
         "$SLURM_JOB_ID, it resumes from $(cat "$WORK_DIR/last_checkpoint" 2>/dev/null)"
    scontrol requeue "$SLURM_JOB_ID"
elif [[ $status -eq $PREEMPTED ]]; then
    echo "slurm_train.sh: stopped by a signal, checkpoint saved; run the same command again" \
         "to resume (submitted with sbatch, the job requeues itself at the time limit)"
fi
exit "$status"
