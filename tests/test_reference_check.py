"""The committed default study agrees with its many-seed reference (BENCHMARKS.md): ``bench/cpu/reference.py check``
on ``results/synthetic-default-study.db`` and ``bench/cpu/reference-synthetic.json`` exits 0, and a reference
that says otherwise makes it exit 1. No training: the check reads the stored trials with the report's code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DB = ROOT / "results" / "synthetic-default-study.db"
REFERENCE = ROOT / "bench" / "cpu" / "reference-synthetic.json"


def check(reference: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "bench" / "cpu" / "reference.py"), "check", "--storage",
                           f"sqlite:///{DB}", "--reference", str(reference)], capture_output=True, text=True,
                          timeout=300)  # fmt: skip


@pytest.mark.skipif(not DB.exists() or not REFERENCE.exists(), reason="no committed default study or reference")
def test_the_default_study_agrees_with_the_reference(tmp_path: Path) -> None:
    done = check(REFERENCE)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "study: Deeper: yes" in done.stdout and "DISAGREES" not in done.stdout
    doc = json.loads(REFERENCE.read_text())
    doc["verdicts"]["steps"][-1]["call"] = "no gain"  # a reference in which the deepest step gains nothing
    doc["verdicts"]["complexity"] = "up to depth k"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(doc))
    done = check(other)
    assert done.returncode == 1 and "DISAGREES: step 3-4: study says gain, reference no gain" in done.stdout
    assert "DISAGREES: complexity: study says yes, reference up to depth k" in done.stdout
