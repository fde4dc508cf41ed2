"""The one place where decoded pixels become model input: BGR -> RGB/gray and resize.

Used by every file loader, by the face crops (``facesweep.faces.crop``) and by the live view, so training and
camera share one path. The function itself lives in ``facesweep.faces.pixels`` because the face layer sits under
``io`` and needs it too; this module is its name in the data layer and owns the cache version.
"""

from __future__ import annotations

from facesweep.faces.pixels import to_model_input

PREPROCESS_VERSION = 1  # part of every cache key: bump when this conversion changes

__all__ = ["PREPROCESS_VERSION", "to_model_input"]
