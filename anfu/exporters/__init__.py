"""Exporters: write an analytics `Report` to a file format. Each module registers its
exporter class in `registry.exporters` (e.g. "anfu.xlsx.v1"); plugins add their own through
the `anfu.exporters` entry-point group.

An exporter has `format` (file suffix), `media_type`, `write(report, target)` with a path or
a binary file object, and `to_bytes(report)`. Exports leave the service, so every text cell
is masked with `anfu.pii.mask` (手机号, 身份证号…) unless `mask_pii=False`.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Callable

from ..errors import ExportError


def pii_masker(enabled: bool = True) -> Callable[[str], str]:
    """`anfu.pii.mask` when masking is on and the module is installed, else identity.
    Imported lazily so the exporters work in builds without the PII module."""
    if enabled:
        try:
            from ..pii import mask
        except ImportError:
            pass
        else:
            return mask
    return lambda text: text


def write_bytes(data: bytes, target: str | Path | IO[bytes]) -> None:
    """Write to a path (AF661 when that fails) or to an open binary file."""
    if isinstance(target, (str, Path)):
        try:
            Path(target).write_bytes(data)
        except OSError as exc:
            raise ExportError("AF661", str(target), reason=exc.strerror or type(exc).__name__) from None
    else:
        target.write(data)
