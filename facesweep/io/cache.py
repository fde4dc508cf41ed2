"""On-disk cache of decoded arrays, so a dataset is decoded once and then loads in well under a second.

An entry is one uncompressed ``.npz`` (never pickled; read with ``allow_pickle=False``). Its ``__meta__`` member
holds JSON: the format version, the fingerprint of the inputs (paths, sizes, mtimes, preprocessing) and, per
array, shape, dtype and CRC-32. An entry whose fingerprint differs is stale; one whose shapes or checksums
disagree is corrupt; both are rebuilt, never trusted. Writes go to a temporary file and ``os.replace`` it into
place, so readers never see half an entry.

The directory is ``$FACESWEEP_CACHE_DIR`` when set, else the platform's user cache dir (``platformdirs``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

CACHE_FORMAT = 2  # bump when the entry layout changes (2: per-image paths in the extra JSON)
_META = "__meta__"


def cache_dir() -> Path:
    """Where entries live: ``$FACESWEEP_CACHE_DIR`` or the user cache dir (created on first write)."""
    env = os.environ.get("FACESWEEP_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs  # here, not at the top: only the default location needs it

    return Path(platformdirs.user_cache_dir("facesweep")) / "datasets"


def digest(value: Any) -> str:
    """A short stable hash of a JSON-able value (used for entry names and fingerprints)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def entry_path(kind: str, ident: Any) -> Path:
    """The file for one source + preprocessing; the file list goes into the fingerprint, not the name, so a
    changed folder overwrites its old entry instead of leaving it behind."""
    return cache_dir() / f"{kind}-{digest(ident)}.npz"


def _checksum(array: np.ndarray) -> int:
    return zlib.crc32(memoryview(np.ascontiguousarray(array)).cast("B"))


def load_entry(path: Path, fingerprint: str) -> tuple[dict[str, np.ndarray], dict] | None:
    """Arrays and extra JSON of a valid entry for ``fingerprint``; ``None`` if absent, stale or corrupt."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as npz:
            meta = json.loads(npz[_META].tobytes().decode())
            if meta.get("format") != CACHE_FORMAT or meta.get("fingerprint") != fingerprint:
                return None
            arrays = {}
            for name, spec in meta["arrays"].items():
                array = npz[name]
                if (
                    list(array.shape) != spec["shape"]
                    or str(array.dtype) != spec["dtype"]
                    or _checksum(array) != spec["crc32"]
                ):
                    return None
                arrays[name] = array
            return arrays, meta.get("extra", {})
    except Exception:  # any unreadable entry (truncated zip, bad JSON, missing member) is just rebuilt
        return None


def save_entry(path: Path, fingerprint: str, arrays: dict[str, np.ndarray], extra: dict | None = None) -> bool:
    """Write an entry atomically (temp file + ``os.replace``); ``False`` if the cache dir is not writable."""
    meta = {
        "format": CACHE_FORMAT,
        "fingerprint": fingerprint,
        "arrays": {
            name: {"shape": list(a.shape), "dtype": str(a.dtype), "crc32": _checksum(a)} for name, a in arrays.items()
        },
        "extra": extra or {},
    }
    payload = dict(arrays)
    payload[_META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as tmp:
            tmp_name = tmp.name
            np.savez(tmp, **payload)
        os.replace(tmp_name, path)
        return True
    except OSError:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)
        return False
