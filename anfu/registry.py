"""Typed registries. Built-ins register exactly as plugins do; plugins add entry points in
the group `anfu.<registry name>` (e.g. `anfu.components`) and are loaded on first lookup.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module
from importlib.metadata import entry_points
from typing import Callable, Generic, TypeVar

from .errors import ConfigError

T = TypeVar("T")

# Packages whose modules register built-ins on import: every module in them is imported on
# first lookup, so a new built-in is a new file, with no list to edit.
_BUILTIN_PACKAGES: dict[str, tuple[str, ...]] = {
    "components": ("anfu.components",),
    "emotion_models": ("anfu.backends",),
    "channels": ("anfu.channels",),
    "batch_backends": ("anfu.batch.backends",),
    "exporters": ("anfu.exporters",),
}


def _import_package_modules(package: str) -> None:
    pkg = import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        if not info.name.startswith("_"):
            import_module(f"{package}.{info.name}")


class Registry(Generic[T]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            self._items[name] = obj
            return obj
        return deco

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for package in _BUILTIN_PACKAGES.get(self.name, ()):
            _import_package_modules(package)
        for ep in entry_points(group=f"anfu.{self.name}"):
            if ep.name not in self._items:
                self._items[ep.name] = ep.load()

    def get(self, name: str) -> T:
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError("AF101", repr(name), registry=self.name,
                              allowed=", ".join(sorted(self._items))) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        self._load()
        return name in self._items


components: Registry = Registry("components")
emotion_models: Registry = Registry("emotion_models")
channels: Registry = Registry("channels")
batch_backends: Registry = Registry("batch_backends")
exporters: Registry = Registry("exporters")
