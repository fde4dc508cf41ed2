#!/usr/bin/env bash
# The FER-2013 depth x epochs question on this CPU, in the regime of the student report (all 28,709 train images,
# validated on the whole PublicTest split): the balanced design with 2 search trials per depth 2-4
# (bench/cpu/fer-space.toml), epochs 12-15, then seeds until both answers are decided (3 seeds per depth's best,
# +2 a round, at most 7). Resumable: rerun the same command after a stop (Optuna storage; a killed trial is failed
# through the heartbeat and re-queued). About 40-75 s an epoch by depth on 2 quiet cores (AMD EPYC Zen 4): the
# search about 75 minutes, the first 9 seeds about 2 hours, each further round about 1 hour. Then:
#   facesweep report --storage sqlite:///results/fer2013-cpu-decided.db --out results/fer2013-cpu-decided
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/fer2013}
mkdir -p results
exec facesweep study --task emotion --data "$DATA" --trials 6 --max-seeds 7 --train-limit 0 \
  --space bench/cpu/fer-space.toml --storage sqlite:///results/fer2013-cpu-decided.db --workdir /tmp/fer-cpu-study \
  --study-name emotion-fer2013-cpu-decided "$@"
