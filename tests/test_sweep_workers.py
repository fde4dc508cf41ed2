"""Real `facesweep study` processes on one storage: SIGKILL + rerun, SIGINT, two workers on SQLite and PostgreSQL.

Each worker is ``python -m facesweep study`` with a tiny space and a tiny synthetic set, so a trial takes seconds.
The PostgreSQL test needs ``FACESWEEP_TEST_POSTGRES_URL`` (``.ci/run`` starts a server and sets it) and skips,
saying why, when it is unset or the server does not answer.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from facesweep.sweep import schema
from facesweep.sweep.storage import default_storage_url, with_driver

pytestmark = pytest.mark.slow

TINY_SPACE = """
[depth]
choices = [1, 2]
[epochs]
low = 1
high = 2
[width]
value = 4
[dense]
value = "none"
[batch_size]
value = 32
[augment]
value = false
[patience]
value = 0
[dropout]
value = 0.0
"""
STARTUP_TIMEOUT = 120  # seconds for a worker to import, draw its data and start a trial on a loaded machine


def worker_args(workdir: Path, trials: int, *extra: str) -> list[str]:
    space = workdir / "space.toml"
    if not space.exists():
        space.write_text(TINY_SPACE)
    return [
        sys.executable, "-m", "facesweep", "study", "--trials", str(trials), "--workdir", str(workdir),
        "--space", str(space), "--synthetic-size", "96,48", "--heartbeat", "1", "--pruner", "none",
        *(extra if "--replicates" in extra else ("--replicates", "0", *extra)),
    ]  # fmt: skip


def spawn(args: list[str]) -> subprocess.Popen:
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONUNBUFFERED": "1"}
    # A shell that starts a job in the background (CI runners, `nohup ... &`) makes it ignore SIGINT, and Python
    # then installs no KeyboardInterrupt handler: give the worker the default disposition Ctrl-C would meet.
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip


def finish(proc: subprocess.Popen, timeout: float = 480) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"worker still running after {timeout}s:\n{out}\n{err}") from None
    return proc.returncode, out, err


def load(url: str, name: str) -> optuna.Study:
    storage = optuna.storages.RDBStorage(with_driver(url), skip_table_creation=True, skip_compatibility_check=True)
    return optuna.load_study(study_name=name, storage=storage)


def wait_for_running_trial(
    url: str, name: str, proc: subprocess.Popen, role: str = "search", timeout: float = STARTUP_TIMEOUT
) -> int:
    """The number of a trial of ``role`` that is RUNNING with its curve attribute set (training has begun)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"worker exited early: {proc.communicate()}"
        try:
            for trial in load(url, name).get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
                if "curve" in trial.user_attrs and schema.role_of(trial.user_attrs) == role:
                    return trial.number
        except Exception:  # no database / study yet
            pass
        time.sleep(0.2)
    raise AssertionError("no trial started in time")


def check_study(url: str, name: str, workdir: Path, complete: int) -> list[optuna.trial.FrozenTrial]:
    """``complete`` search trials, shared out over depths 1 and 2 (the balanced design), nothing left running."""
    trials = load(url, name).get_trials()
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers)), numbers
    search = [t for t in schema.search_trials(trials) if t.state == TrialState.COMPLETE]
    assert len(search) == complete, [(t.number, t.state) for t in trials]
    by_depth = [sum(t.params["depth"] == d for t in search) for d in (1, 2)]
    assert max(by_depth) - min(by_depth) <= complete % 2, by_depth  # no depth over- or under-filled
    assert not any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in trials)
    for trial in trials:
        assert "curve" in trial.user_attrs, trial.number
        if trial.state == TrialState.COMPLETE:
            assert len(trial.user_attrs["curve"]["val_accuracy"]) == trial.params["epochs"]
    best = max(search, key=lambda t: (t.value, -t.number))
    link = workdir.resolve() / "runs" / name / "best"
    assert os.readlink(link) == f"trial-{best.number}"
    assert (link / "config.json").is_file()
    return trials


def test_sigkill_mid_trial_then_rerun_ends_with_exactly_the_requested_trials(tmp_path: Path) -> None:
    url, name = default_storage_url(tmp_path), "emotion-synthetic"
    proc = spawn(worker_args(tmp_path, 3))
    killed = wait_for_running_trial(url, name, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert load(url, name).trials[killed].state == TrialState.RUNNING  # what a dead worker leaves behind
    code, out, err = finish(spawn(worker_args(tmp_path, 3)))
    assert code == 0, err
    assert "resuming study emotion-synthetic" in err
    trials = check_study(url, name, tmp_path, complete=3)
    assert trials[killed].state == TrialState.FAIL  # failed through the heartbeat, then replaced


def test_sigkill_during_replicates_then_rerun_ends_with_exactly_k_per_depth(tmp_path: Path) -> None:
    url, name = default_storage_url(tmp_path), "emotion-synthetic"
    # One search trial at each of depths 1 and 2, then 2 x 2 replicates, on 960 images so a replicate (already
    # compiled by its search trial) trains for seconds and the SIGKILL lands while it runs, not after it told.
    args = worker_args(tmp_path, 2, "--replicates", "2", "--synthetic-size", "960,48")
    proc = spawn(args)
    killed = wait_for_running_trial(url, name, proc, role="replicate", timeout=3 * STARTUP_TIMEOUT)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    code, out, err = finish(spawn(args), timeout=480)
    assert code == 0, err
    trials = check_study(url, name, tmp_path, complete=2)
    assert trials[killed].state == TrialState.FAIL  # failed through the heartbeat, then re-queued
    groups = schema.replicate_groups(trials)
    assert len(groups) == 2
    for source, group in groups.items():
        done = [t for t in group if t.state == TrialState.COMPLETE]
        assert sorted(schema.replicate_seed(t) for t in done) == [1, 2], (source, [(t.number, t.state) for t in group])
        assert all(t.params == trials[source].params for t in done)


def test_sigint_exits_130_and_leaves_storage_consistent(tmp_path: Path) -> None:
    url, name = default_storage_url(tmp_path), "emotion-synthetic"
    proc = spawn(worker_args(tmp_path, 5))
    number = wait_for_running_trial(url, name, proc)
    proc.send_signal(signal.SIGINT)
    code, out, err = finish(proc, timeout=60)
    assert code == 130, err
    assert err.strip().splitlines()[-1] == "facesweep study: interrupted"
    trials = load(url, name).get_trials()
    assert not any(t.state == TrialState.RUNNING for t in trials)
    interrupted = [t for t in trials if t.user_attrs.get("error") == "interrupted"]
    assert [t.number for t in interrupted] in ([number], [number + 1])  # SIGINT may land just after it finished
    assert "curve" in interrupted[0].user_attrs


def postgres_url() -> str:
    url = os.environ.get("FACESWEEP_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FACESWEEP_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)")
    try:
        import psycopg2

        psycopg2.connect(url, connect_timeout=3).close()
    except Exception as exc:  # driver missing, server down, bad credentials
        pytest.skip(f"PostgreSQL at {url.split('@')[-1]} is not reachable: {' '.join(str(exc).split())}")
    return url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_workers_share_one_study(tmp_path: Path, backend: str) -> None:
    url = postgres_url() if backend == "postgresql" else default_storage_url(tmp_path)
    name = f"two-workers-{uuid.uuid4().hex[:8]}"
    # --heartbeat 3 (stale after 9 s): two JAX processes on two cores can delay a 1-second beat past 3 s
    args = worker_args(tmp_path, 4, "--storage", url, "--study-name", name, "--json", "--heartbeat", "3")
    procs = [spawn(args), spawn(args)]
    results = [finish(proc) for proc in procs]
    for code, _out, err in results:
        assert code == 0, err
    check_study(url, name, tmp_path, complete=4)
    # Each worker's summary counts only its own trials; together they ran all four.
    ran = [json.loads(out)["run_complete"] for _, out, _ in results]
    assert sum(ran) == 4, ran
