#!/usr/bin/env bash
# The FER-2013 depth x epochs question on this CPU, in the regime of the student report (all 28,709 train images,
# validated on the whole PublicTest split): the balanced design with 3 search trials per depth 2-5 (depth 1's
# 24x24 flatten learns FER-2013 poorly and is left to the synthetic study), epochs 10-16, then seeds until both
# answers are decided (3 seeds per depth's best, +2 a round, at most 9). Resumable: rerun the same command after
# a stop (Optuna storage; a killed trial is failed through the heartbeat and re-queued). Estimated 4-6 hours on 2
# quiet cores (about 40-120 s an epoch by depth). Then:
#   facesweep report --storage sqlite:///results/fer2013-cpu-study.db --out results/fer2013-cpu-study
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/fer2013}
mkdir -p results
exec facesweep study --task emotion --data "$DATA" --trials 12 --max-seeds 9 --train-limit 0 \
  --space bench/cpu/fer-space.toml --storage sqlite:///results/fer2013-cpu-study.db --workdir /tmp/fer-cpu-study \
  --study-name emotion-fer2013-cpu-decided "$@"
