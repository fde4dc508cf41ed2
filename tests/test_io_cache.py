"""The decoded-array cache: hits, invalidation by change/add/remove, and rebuilding corrupt entries."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from facesweep.io import cache, load_dataset
from tests.io_helpers import write_class_tree, write_fer_csv, write_image


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FACESWEEP_CACHE_DIR", str(tmp_path / "cache"))
    return write_class_tree(tmp_path / "data", {"happy": 3, "sad": 3})


def entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*.npz"))


def test_second_load_is_a_hit_with_the_same_arrays(tree: Path, tmp_path: Path) -> None:
    first = load_dataset("emotion", tree, whole=True)
    second = load_dataset("emotion", tree, whole=True)
    assert (first.info["cache"], second.info["cache"]) == ("miss", "hit")
    np.testing.assert_array_equal(first.splits["test"].images, second.splits["test"].images)
    np.testing.assert_array_equal(first.splits["test"].labels, second.splits["test"].labels)
    assert second.info["raw_sizes"] == first.info["raw_sizes"]
    assert len(entries(tmp_path)) == 1


def test_preprocessing_is_part_of_the_key(tree: Path, tmp_path: Path) -> None:
    load_dataset("emotion", tree, whole=True)
    other = load_dataset("emotion", tree, whole=True, image_size=32)
    assert other.info["cache"] == "miss" and other.splits["test"].images.shape[1] == 32
    assert len(entries(tmp_path)) == 2


def test_cache_false_neither_reads_nor_writes(tree: Path, tmp_path: Path) -> None:
    assert load_dataset("emotion", tree, whole=True, cache=False).info["cache"] == "off"
    assert entries(tmp_path) == []


def _change(tree: Path) -> None:
    path = tree / "happy" / "img_000.jpg"
    write_image(path, value=250, size=(41, 30))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


def _add(tree: Path) -> None:
    write_image(tree / "sad" / "new.png", value=5)


def _remove(tree: Path) -> None:
    (tree / "sad" / "img_001.jpg").unlink()


def _touch(tree: Path) -> None:
    path = tree / "sad" / "img_000.jpg"
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))


@pytest.mark.parametrize(("edit", "expected_total"), [(_change, 6), (_add, 7), (_remove, 5), (_touch, 6)])
def test_a_changed_added_or_removed_file_invalidates(tree: Path, tmp_path: Path, edit, expected_total: int) -> None:
    load_dataset("emotion", tree, whole=True)
    edit(tree)
    reloaded = load_dataset("emotion", tree, whole=True)
    assert reloaded.info["cache"] == "miss"
    assert len(reloaded.splits["test"]) == expected_total
    assert load_dataset("emotion", tree, whole=True).info["cache"] == "hit"
    assert len(entries(tmp_path)) == 1  # the stale entry was overwritten, not left behind


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not an npz at all")


def _flip_a_pixel_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside the stored images; the zip or our CRC must catch it
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("corrupt", [_truncate, _garbage, _flip_a_pixel_byte])
def test_a_corrupt_entry_is_rebuilt_never_trusted(tree: Path, tmp_path: Path, corrupt) -> None:
    good = load_dataset("emotion", tree, whole=True)
    (entry,) = entries(tmp_path)
    corrupt(entry)
    rebuilt = load_dataset("emotion", tree, whole=True)
    assert rebuilt.info["cache"] == "miss"
    np.testing.assert_array_equal(rebuilt.splits["test"].images, good.splits["test"].images)
    assert load_dataset("emotion", tree, whole=True).info["cache"] == "hit"


def test_entries_with_wrong_shapes_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "e.npz"
    assert cache.save_entry(path, "key", {"a": np.arange(6, dtype=np.int32)})
    assert cache.load_entry(path, "key")[0]["a"].tolist() == list(range(6))
    assert cache.load_entry(path, "other key") is None
    with np.load(path) as npz:
        members = dict(npz)
    members["a"] = members["a"][:5]
    np.savez(path, **members)
    assert cache.load_entry(path, "key") is None


def test_unwritable_cache_dir_still_loads(tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache dir should be")
    monkeypatch.setenv("FACESWEEP_CACHE_DIR", str(blocker / "sub"))
    assert len(load_dataset("emotion", tree, whole=True).splits["test"]) == 6


def test_csv_is_cached_and_invalidated_by_edits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACESWEEP_CACHE_DIR", str(tmp_path / "cache"))
    path = write_fer_csv(tmp_path / "f.csv", [(0, "Training"), (1, "Training"), (0, "PublicTest"), (1, "PublicTest")])
    assert load_dataset("emotion", path).info["cache"] == "miss"
    assert load_dataset("emotion", path).info["cache"] == "hit"
    write_fer_csv(path, [(0, "Training"), (1, "Training"), (2, "Training"), (0, "PublicTest"), (1, "PublicTest")])
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    reloaded = load_dataset("emotion", path)
    assert reloaded.info["cache"] == "miss" and len(reloaded.train) == 3


def test_cache_dir_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FACESWEEP_CACHE_DIR", str(tmp_path / "here"))
    assert cache.cache_dir() == tmp_path / "here"
    monkeypatch.delenv("FACESWEEP_CACHE_DIR")
    assert "facesweep" in str(cache.cache_dir())
