"""The `.npz` weight files of the char n-gram models (emotion, cause, reply): one way to write,
read, validate and cache them, so every model reports a missing or damaged file the same way
(AF201 when missing, AF204 when damaged).
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, TypeVar

import numpy as np

from ..errors import ModelError

M = TypeVar("M")


def save_npz(path: str | Path, **arrays: Any) -> Path:
    """Write the arrays as a compressed `.npz`, creating the parent folder; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path


def load_npz(path: str | Path, *, required: Iterable[str], format_version: int,
             build: Callable[[Mapping[str, np.ndarray]], M], weights: Callable[[M], Iterable[np.ndarray]],
             labels: tuple[str, tuple[str, ...], str] | None = None) -> M:
    """Read a weight file written by a model's `save` and build the model from its arrays.

    Checks, in order: the file exists (AF201), every `required` array is there, the format
    version matches, the stored labels (`labels` = (array name, expected labels, their name in
    messages)) equal the expected ones, `build` accepts the arrays, and every array of
    `weights(model)` is finite; any failure is AF204 naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError("AF201", str(path))
    try:
        with np.load(path, allow_pickle=False) as data:
            missing = [k for k in required if k not in data.files]
            if missing:
                raise ModelError("AF204", f"{path} (missing arrays: {', '.join(missing)})")
            if int(data["format_version"]) != format_version:
                raise ModelError("AF204", f"{path} (format {int(data['format_version'])}, "
                                          f"this anfu reads {format_version})")
            if labels is not None:
                key, expected, name = labels
                if tuple(str(x) for x in data[key]) != expected:
                    raise ModelError("AF204", f"{path} (its labels differ from {name})")
            model = build(data)
    except ModelError as exc:
        if exc.code == "AF204" and not str(exc.detail).startswith(str(path)):
            raise ModelError("AF204", f"{path} ({exc.detail})") from None
        raise
    except (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise ModelError("AF204", f"{path} ({type(exc).__name__}: {exc})") from None
    if not all(np.isfinite(arr).all() for arr in weights(model)):
        raise ModelError("AF204", f"{path} (non-finite weights)")
    return model


def load_cached(cache: dict[tuple[str, float], M], path: str | Path, load: Callable[[Path], M]) -> M:
    """Load once per (path, modification time) into `cache`: components share one model a process."""
    path = Path(path)
    if not path.is_file():
        raise ModelError("AF201", str(path))
    key = (str(path.resolve()), path.stat().st_mtime)
    model = cache.get(key)
    if model is None:
        model = cache[key] = load(path)
    return model
