"""Calibrate the replicate rules by simulation, with the optional stopping included.

Each simulated study is the default design (depths 1-4, ``SeedPlan()``: 3 seeds per depth, then +2 a round for the
depths whose verdicts are still open, at most 11) run through ``verdicts.sequential.simulate_study``: it draws
the seeds, reads the answers with ``verdicts.replicates.answer`` and asks ``next_targets`` for the next round,
exactly as the study's ``sweep.design.replicate_targets`` does -- so the stopping that is calibrated is the
stopping that runs. Seed noise is normal, SD 1 point. The measured false-positive rate and power are pinned in
``facesweep.verdicts.rules.CALIBRATION`` (and README); this test fails when they miss the targets (false
positives <= 5%, a true +2 points per depth found >= 80%) or drift from the documented numbers.
Run: ``pytest tests/test_report_calibration.py`` (about 10 seconds).
"""

from __future__ import annotations

import numpy as np
import pytest

from facesweep.verdicts import rules
from facesweep.verdicts.sequential import SeedPlan, simulate_study

CAL = rules.CALIBRATION
DEPTHS = int(CAL["depths"])
NOISE = float(CAL["noise_sd"])
N_STUDIES = int(CAL["studies"])
CLAIMS_EFFECT = ("yes", "up to depth k", "at least up to depth k", "worse")  # a gain or a loss somewhere


def run_studies(means: list[float], seed: int) -> list:
    rng = np.random.default_rng(seed)
    return [simulate_study(rng, means, NOISE, SeedPlan()) for _ in range(N_STUDIES)]


@pytest.fixture(scope="module")
def null_studies() -> list:
    return run_studies([0.5] * DEPTHS, seed=0)


@pytest.fixture(scope="module")
def effect_studies() -> list:
    return run_studies([0.5 + CAL["effect"] * i for i in range(DEPTHS)], seed=1)


def test_the_documented_design_is_the_default_one() -> None:
    plan = SeedPlan()
    assert (plan.start, plan.step, plan.max_seeds) == (CAL["start"], CAL["step"], CAL["max_seeds"])
    text = rules.COMPLEXITY_REPLICATE_RULE
    assert f"{CAL['false_positive']:.1%} gain/loss verdicts with no effect" in text
    assert f"found ('yes') in {CAL['power']:.0%}" in text


def test_false_positive_rate_without_a_depth_effect(null_studies: list) -> None:
    rate = float(np.mean([s.complexity in CLAIMS_EFFECT for s in null_studies]))
    assert rate <= 0.05
    assert rate == pytest.approx(CAL["false_positive"], abs=0.02)


def test_power_for_two_points_per_depth(effect_studies: list) -> None:
    rate = float(np.mean([s.complexity == "yes" for s in effect_studies]))
    assert rate >= 0.80
    assert rate == pytest.approx(CAL["power"], abs=0.04)


def test_the_stopping_spends_fewer_seeds_when_the_answer_is_clear(null_studies: list, effect_studies: list) -> None:
    def mean_seeds(studies: list) -> float:
        return float(np.mean([np.mean(list(s.seeds.values())) for s in studies]))

    assert mean_seeds(effect_studies) < mean_seeds(null_studies) <= SeedPlan().max_seeds
    assert mean_seeds(null_studies) == pytest.approx(CAL["seeds_used_null"], abs=0.3)
    assert mean_seeds(effect_studies) == pytest.approx(CAL["seeds_used_effect"], abs=0.3)
    assert max(s.looks for s in null_studies + effect_studies) <= SeedPlan().looks


def test_reading_every_look_without_spending_would_break_the_error_rate() -> None:
    """The control: the same stopping with intervals for one look only (no spending) errs more often -- the
    spending is what keeps the rate, not luck of the simulation."""
    from facesweep.verdicts.replicates import answer

    def one_look(depths: list, plan: SeedPlan):  # intervals as if this were the only look
        return answer(depths, SeedPlan.fixed(3, plan.min_effect))

    rng = np.random.default_rng(0)
    naive = [simulate_study(rng, [0.5] * DEPTHS, NOISE, SeedPlan(), answer_fn=one_look) for _ in range(N_STUDIES)]
    rate = float(np.mean([s.complexity in CLAIMS_EFFECT for s in naive]))
    assert rate > CAL["false_positive"]


def _rows(means: dict[int, float], sd: float | dict[int, float]) -> list:
    from facesweep.verdicts.replicates import Replicate

    rows = []
    for depth, mean in means.items():
        spread = sd[depth] if isinstance(sd, dict) else sd
        for j, offset in enumerate((-spread, 0.0, spread)):  # three seeds with exactly this SD
            v = mean + offset
            curve = [v - 0.3, v - 0.1, v, v]  # every seed flat over its last two epochs: the epoch verdict is decided
            rows.append(Replicate(len(rows), depth, 100 + depth, j + 1, curve, [1.5 - c for c in curve]))
    return rows


def test_a_step_out_of_reach_gets_no_more_seeds() -> None:
    from facesweep.verdicts.replicates import answer, group_replicates
    from facesweep.verdicts.sequential import next_targets, out_of_reach

    plan, current = SeedPlan(), {1: 3, 2: 3, 3: 3}
    # 2 -> 3 is +0.1 point at 2.5 points of seed noise: ~160 seeds per depth would decide it, > 2 x --max-seeds
    tie = answer(group_replicates(_rows({1: 0.60, 2: 0.90, 3: 0.901}, 0.025)), plan)
    step = tie.complexity.steps[1]
    assert step.call == rules.NOT_SHOWN and step.seeds_to_decide > rules.OUT_OF_REACH * plan.max_seeds
    assert out_of_reach(step, plan) and [d.verdict for d in tie.epochs.depths] == ["up to epoch k"] * 3
    assert next_targets(tie, current, plan) == current  # the study stops: nothing reachable is open
    assert f"2 to 3 needs about {step.seeds_to_decide} seeds per depth" in tie.complexity.sentence  # said, not run
    # 2 -> 3 is +3 points at 1 point of noise: open after 3 seeds, decided by about 5: both depths get a round
    near = answer(group_replicates(_rows({1: 0.80, 2: 0.90, 3: 0.93}, 0.01)), plan)
    step = near.complexity.steps[1]
    assert step.call == rules.NOT_SHOWN and not out_of_reach(step, plan)
    assert next_targets(near, current, plan) == {1: 3, 2: 5, 3: 5}


def test_a_noisy_depth_does_not_widen_the_other_steps() -> None:
    """Welch steps: depth 1's 10-point seed spread leaves 2 -> 3 (depths with 0.2-point spreads) decided."""
    from facesweep.verdicts.replicates import answer, group_replicates

    plan = SeedPlan()
    got = answer(group_replicates(_rows({1: 0.80, 2: 0.90, 3: 0.93}, {1: 0.10, 2: 0.002, 3: 0.002})), plan)
    first, second = got.complexity.steps
    assert second.call == rules.GAIN and second.diff.high - second.diff.low < 0.02
    assert first.call == rules.NOT_SHOWN and first.diff.high - first.diff.low > 0.2  # depth 1's own noise
    assert got.noise.sd > 0.05  # the headline noise is still pooled over every depth


def test_a_decided_depth_answer_asks_for_no_more_seeds() -> None:
    """'yes' needs only the deepest step: an open middle step gets no round once the deepest one gains."""
    from facesweep.verdicts.replicates import answer, group_replicates
    from facesweep.verdicts.sequential import next_targets

    plan, current = SeedPlan(), {1: 3, 2: 3, 3: 3}
    got = answer(group_replicates(_rows({1: 0.80, 2: 0.90, 3: 0.95}, {1: 0.002, 2: 0.08, 3: 0.002})), plan)
    assert [s.call for s in got.complexity.steps] == [rules.NOT_SHOWN, rules.NOT_SHOWN]
    assert got.complexity.verdict == rules.NOT_SHOWN and next_targets(got, current, plan) != current
    clear = answer(group_replicates(_rows({1: 0.80, 2: 0.90, 3: 0.95}, {1: 0.08, 2: 0.002, 3: 0.002})), plan)
    assert [s.call for s in clear.complexity.steps] == [rules.NOT_SHOWN, rules.GAIN]
    assert clear.complexity.verdict == "yes" and clear.decided
    assert next_targets(clear, current, plan) == current  # 1 -> 2 is open, but it cannot change 'yes'


def test_an_open_steps_seeds_go_to_its_noisier_depth() -> None:
    """Neyman allocation: with equal spreads both depths of an open step get the round; a depth five times quieter
    than its neighbour already holds its share (3 / 5 >= 1 / 5) and keeps its seeds."""
    from facesweep.verdicts.replicates import answer, group_replicates
    from facesweep.verdicts.sequential import next_targets

    plan, current = SeedPlan(), {1: 3, 2: 3}
    equal = answer(group_replicates(_rows({1: 0.90, 2: 0.91}, 0.01)), plan)
    assert equal.complexity.steps[0].call == rules.NOT_SHOWN
    assert next_targets(equal, current, plan) == {1: 5, 2: 5}
    unequal = answer(group_replicates(_rows({1: 0.90, 2: 0.91}, {1: 0.01, 2: 0.002})), plan)
    assert unequal.complexity.steps[0].call == rules.NOT_SHOWN
    assert next_targets(unequal, current, plan) == {1: 5, 2: 3}
    close = answer(group_replicates(_rows({1: 0.90, 2: 0.91}, {1: 0.01, 2: 0.007})), plan)  # 3 / 5 < 0.7: short
    assert next_targets(close, current, plan) == {1: 5, 2: 5}
