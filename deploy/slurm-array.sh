#!/bin/bash
# A genlab sweep as a SLURM array job: each task runs its deterministic share of the runs into its own
# store; merge and report when all are done:
#   sbatch deploy/slurm-array.sh
#   genlab merge runs-*/genlab.db --into all.db && genlab report --store all.db
#SBATCH --job-name=genlab
#SBATCH --array=0-7
#SBATCH --cpus-per-task=2
#SBATCH --time=02:00:00
set -euo pipefail
# --shard defaults from SLURM_ARRAY_TASK_ID / SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN).
npx genlab reproduce --quick --jobs "${SLURM_CPUS_PER_TASK:-1}" --out "runs-${SLURM_ARRAY_TASK_ID}" --report "report-${SLURM_ARRAY_TASK_ID}"
