#!/usr/bin/env bash
# The FER-2013 depth x epochs question on this CPU: balanced design, 5 search trials per depth 1-5, 3 seed
# replicates of each depth's best, trained on a fixed 3,000-image subset of FER-2013 train, validated on the whole
# PublicTest split (about 50 minutes on a 2-core CPU). Resumable: rerun the same command after a stop. Then:
#   facesweep report --storage sqlite:///results/fer2013-cpu-study.db --out results/fer2013-cpu-study
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${DATA:-../shared/data/fer2013}
mkdir -p results
exec facesweep study --task emotion --data "$DATA" --trials 25 --replicates 3 --train-limit 3000 \
  --space bench/cpu/fer-space.toml --storage sqlite:///results/fer2013-cpu-study.db --workdir /tmp/fer-cpu-study \
  --study-name emotion-fer2013-cpu "$@"
