"""The vendored YuNet file and its licence ship in the wheel (package-data), not only in the source tree."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from facesweep.faces.detect import YUNET_MODEL

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ("LICENSE", "NOTICE.md", YUNET_MODEL.name)


def test_package_data_globs_cover_the_model_its_licence_and_notice():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["facesweep"]
    package = ROOT / "facesweep"
    matched = {p.relative_to(package).as_posix() for pattern in patterns for p in package.glob(pattern) if p.is_file()}
    for name in SHIPPED:
        assert f"faces/yunet/{name}" in matched, (name, patterns)


def _setuptools_builds_wheels() -> bool:
    try:
        import setuptools

        return int(setuptools.__version__.split(".")[0]) >= 77  # pyproject's SPDX licence string needs 77+
    except ImportError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _setuptools_builds_wheels(), reason="needs setuptools>=77 in this environment (no network)")
def test_the_built_wheel_holds_the_licence(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        (src / name).write_bytes((ROOT / name).read_bytes())
    subprocess.run(["cp", "-r", str(ROOT / "facesweep"), str(src)], check=True)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=src,
        check=True,
        capture_output=True,
    )
    names = zipfile.ZipFile(next(tmp_path.glob("*.whl"))).namelist()
    for name in SHIPPED:
        assert f"facesweep/faces/yunet/{name}" in names
