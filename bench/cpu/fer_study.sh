#!/usr/bin/env bash
# The FER-2013 depth x epochs question on this CPU, in the regime of the student report (all 28,709 train images,
# validated on the whole PublicTest split): the balanced design with 1 search trial per depth 2-4
# (bench/cpu/fer-space.toml: depth and epochs searched, the learning rate within 1e-3..3e-3), epochs 12-15, then
# seeds until both answers are decided (3 seeds per depth's configuration, +2 a round, at most 7): the seeds go
# where the question needs them. Resumable: rerun the same command after a stop (Optuna storage; a killed trial is
# failed through the heartbeat and re-queued). About 60-90 s an epoch by depth on 2 cores (AMD EPYC Zen 4, with
# other work beside it): the search about 1 hour, the first 9 seeds about 3 hours, each further round 1-1.5 hours.
# Started 2026-12-04 (session 6) with its database in /work/fer-run, copied into results/ at each stop. Then:
#   facesweep report --storage sqlite:///results/fer2013-cpu-decided.db --out results/fer2013-cpu-decided
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/fer2013}
mkdir -p results
exec facesweep study --task emotion --data "$DATA" --trials 3 --max-seeds 7 --train-limit 0 \
  --space bench/cpu/fer-space.toml --storage sqlite:///results/fer2013-cpu-decided.db --workdir /tmp/fer-cpu-study \
  --study-name emotion-fer2013-cpu-decided "$@"
