#!/usr/bin/env bash
# facesweep on a machine with an NVIDIA GPU, checked end to end in one short run (issue 11, part 5).
# From the repository root:
#
#   pip install -e '.[cuda,test,bench]'     # JAX's CUDA 12 wheels, pytest + onnxruntime, torch for the comparison
#   bash bench/gpu/check.sh                 # ~10 min; results under $OUT (default /tmp/facesweep-gpu-check)
#   DATA=/tmp/data EPOCHS=5 bash bench/gpu/check.sh
#   SMOKE=1 bash bench/gpu/check.sh         # CPU dry run, tiny sizes: checks the script, measures nothing
#
# Steps; each logs to OUT/<step>.log and has a time limit (<STEP>_TIMEOUT seconds); a failed step is recorded in
# OUT/summary.txt and the next one still runs:
#   env         nvidia-smi, jax.devices(), versions; stops here if JAX sees no GPU (unless SMOKE=1)
#   tests       the test suite, on the GPU backend (PYTEST_ARGS, default -q -x)
#   train       the release expression recipe (bench/gpu/session.py's EMOTION) for EPOCHS epochs on FER-2013
#               (DATA/fer2013; the synthetic faces when absent): per-epoch seconds, images/s, val accuracy
#   throughput  bench/throughput.py --models 1 (the report's model 1): facesweep vs PyTorch on the same GPU
#   study       facesweep study --jobs 4: trials/minute with 4 trials sharing the GPU
# DATA defaults to ../shared/data, else /tmp/data, else the packed sets in .gpu/data (bench/gpu/pack_data.py),
# unpacked to /tmp/data. Numbers go in BENCHMARKS.md with the GPU's name from OUT/env.log.
set -uo pipefail
cd "$(dirname "$0")/../.."

OUT=${OUT:-/tmp/facesweep-gpu-check}
SMOKE=${SMOKE:-0}
EPOCHS=${EPOCHS:-3}
PYTEST_ARGS=${PYTEST_ARGS:--q -x}
if [ -z "${PYTHON:-}" ]; then
    if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
mkdir -p "$OUT"
export OUT SMOKE EPOCHS PYTHON
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # the study's 4 trials (and pytest's workers) share one GPU
: > "$OUT/summary.txt"

if [ -z "${DATA:-}" ]; then
    if [ -d ../shared/data/fer2013 ]; then DATA=../shared/data
    elif [ -d /tmp/data/fer2013 ]; then DATA=/tmp/data
    elif [ -d .gpu/data ]; then "$PYTHON" bench/gpu/unpack_data.py .gpu/data /tmp/data && DATA=/tmp/data
    else DATA=""
    fi
fi
FER=""  # empty: the synthetic faces (always so with SMOKE=1)
if [ "$SMOKE" != 1 ] && [ -n "$DATA" ] && [ -d "$DATA/fer2013" ]; then FER="$DATA/fer2013"; fi
export FER

# step NAME TIMEOUT CMD...: run CMD with a time limit, log to OUT/NAME.log, record "NAME exit S seconds".
step() {
    local name=$1 limit=$2
    shift 2
    local start=$SECONDS
    echo "== $name (limit ${limit}s): $*"
    # bash -c so a step may be a function below; timeout signals its whole process group (python children too).
    timeout --signal=INT --kill-after=20 "$limit" bash -c '"$@"' "$name" "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name exit $rc $((SECONDS - start))s" | tee -a "$OUT/summary.txt"
    tail -n 5 "$OUT/$name.log"
    return $rc
}

env_report() {
    nvidia-smi || echo "nvidia-smi: not found"
    "$PYTHON" - <<'EOF'
import os, platform, subprocess
import cv2, jax, flax, optax, optuna
print("jax", jax.__version__, "flax", flax.__version__, "optax", optax.__version__, "optuna", optuna.__version__,
      "opencv", cv2.__version__, "python", platform.python_version())
print("backend", jax.default_backend(), "devices", jax.devices())
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
          torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
except ImportError:
    print("torch: not installed (pip install -e '.[bench]')")
cpu = [l for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if "Model name" in l]
print("cpu", cpu[0].split(":", 1)[1].strip() if cpu else platform.machine(), os.cpu_count(), "cores")
if jax.default_backend() != "gpu" and os.environ.get("SMOKE") != "1":
    raise SystemExit("JAX sees no GPU: install with pip install -e '.[cuda]' (see README, GPU)")
EOF
}

train_recipe() {
    "$PYTHON" - <<'EOF'
"""The release expression recipe for a few epochs: speed and where the first epochs get to."""
import json, os, sys, time
sys.path.insert(0, "bench/gpu")
from session import EMOTION  # the recipe the shipped expression model was trained with
import jax
from facesweep.io import load_dataset
from facesweep.io.synthetic import synthetic_dataset
from facesweep.model.config import config_for_task
from facesweep.model.train import train_and_evaluate

smoke, fer, epochs = os.environ["SMOKE"] == "1", os.environ["FER"], int(os.environ["EPOCHS"])
overrides = dict(EMOTION)
if smoke:
    overrides.update(width=8, max_width=16, dense=(16,), batch_size=32)
    data = synthetic_dataset("emotion", n_train=256, n_val=64)
else:
    data = load_dataset("emotion", fer or None)
config = config_for_task("emotion", **overrides, epochs=epochs)
per_epoch = (len(data.train) // config.batch_size) * config.batch_size
print(f"{data.source}: {len(data.train)} train / {len(data.val)} val; {jax.devices()[0]}", flush=True)

def on_epoch(epoch, m):
    print(f"epoch {epoch}/{epochs}: {m['epoch_seconds']:.1f}s ({per_epoch / m['epoch_seconds']:.0f} img/s), "
          f"train loss {m['train_loss']:.3f}, val acc {m['val_accuracy']:.4f}", flush=True)

start = time.time()
result = train_and_evaluate(config, data, on_epoch=on_epoch, stop_on_interrupt=True)  # a timeout keeps the epochs run
seconds = [m["epoch_seconds"] for m in result.history]
steady = seconds[1:] or seconds  # the first epoch includes GPU autotuning
summary = {
    "device": str(jax.devices()[0]), "data": data.source, "epochs_run": len(seconds), "interrupted": result.interrupted,
    "batch_size": config.batch_size, "param_count": result.param_count, "compile_seconds": result.compile_seconds,
    "epoch_seconds": seconds, "images_per_second": per_epoch * len(steady) / sum(steady) if steady else None,
    "val_accuracy": [m["val_accuracy"] for m in result.history], "wall_seconds": time.time() - start,
}
json.dump(summary, open(os.path.join(os.environ["OUT"], "train.json"), "w"), indent=1)
print(json.dumps(summary))
EOF
}

throughput() {
    if [ "$SMOKE" = 1 ]; then
        local args=(--models 2 --frameworks facesweep --rounds 1 --warmup 1 --windows 1 --window-steps 1)
        "$PYTHON" -c "import torch" 2> /dev/null && args=(--models 2 --rounds 1 --warmup 1 --windows 1 --window-steps 1)
    else
        local args=(--models 1 --frameworks facesweep,pytorch --torch-device cuda --rounds 2 --windows 5)
    fi
    "$PYTHON" bench/throughput.py "${args[@]}" --json | tee "$OUT/throughput.json"
}

study_jobs4() {
    local space="$OUT/check-space.toml" args=()
    if [ "$SMOKE" = 1 ]; then
        cp bench/gpu/fer-space-smoke.toml "$space"
        args=(--trials 4 --synthetic-size 128,32)
    else
        # Depths 1-4 at the FER-2013 space's widths, short runs: enough trials to see 4 at a time pay or not.
        cat > "$space" <<'EOF'
[depth]
low = 1
high = 4
[epochs]
low = 2
high = 4
[width]
choices = [32, 64]
[dense]
choices = ["256"]
EOF
        args=(--trials "${TRIALS:-16}")
    fi
    [ -n "$FER" ] && args+=(--data "$FER")
    "$PYTHON" -m facesweep study --task emotion "${args[@]}" --jobs 4 --space "$space" \
        --workdir "$OUT/study" --study-name check-jobs4 --keep 1 --timeout "${STUDY_TRIALS_SECONDS:-150}" --json
}

export -f env_report train_recipe throughput study_jobs4
step env "${ENV_TIMEOUT:-60}" env_report || { echo "stopping: no usable GPU (see $OUT/env.log)"; exit 1; }
step tests "${TESTS_TIMEOUT:-240}" "$PYTHON" -m pytest $PYTEST_ARGS
step train "${TRAIN_TIMEOUT:-150}" train_recipe
step throughput "${THROUGHPUT_TIMEOUT:-150}" throughput
step study "${STUDY_TIMEOUT:-200}" study_jobs4
echo "== summary ($OUT/summary.txt)"
cat "$OUT/summary.txt"
! grep -qv " exit 0 " "$OUT/summary.txt"
