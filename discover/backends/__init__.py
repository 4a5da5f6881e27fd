"""Symbolic-regression backends, looked up by name and imported only when asked for.

Importing this package imports no engine (pyoperon, pysindy, pysr): `get_backend` imports the one module named.

>>> BACKENDS
('operon', 'sindy', 'pysr')
>>> get_backend("sindy").name
'sindy'
>>> get_backend("eureqa")
Traceback (most recent call last):
...
ValueError: unknown backend 'eureqa'; known backends: operon, sindy, pysr
"""

from __future__ import annotations

import importlib

from discover.backends.base import AbstractBackend, BackendUnavailable, Budget, RawCandidate, feature_symbols

__all__ = [
    "BACKENDS",
    "AbstractBackend",
    "BackendUnavailable",
    "Budget",
    "RawCandidate",
    "feature_symbols",
    "get_backend",
]

# name -> (module, class): the module is imported on first use only.
_REGISTRY: dict[str, tuple[str, str]] = {
    "operon": ("discover.backends.operon", "OperonBackend"),
    "sindy": ("discover.backends.sindy", "SindyBackend"),
    "pysr": ("discover.backends.pysr", "PySRBackend"),
}

BACKENDS: tuple[str, ...] = tuple(_REGISTRY)


def get_backend(name: str) -> AbstractBackend:
    """The backend registered under ``name``; an unknown name raises `ValueError` listing the known ones."""
    if name not in _REGISTRY:
        raise ValueError(f"unknown backend {name!r}; known backends: {', '.join(BACKENDS)}")
    module, cls = _REGISTRY[name]
    return getattr(importlib.import_module(module), cls)()
