"""critmin: critical-mineral supply-chain analysis on real data.

The public API is re-exported here lazily, so that ``import critmin`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "profile": "critmin.api",
    "mineral": "critmin.api",
    "risk": "critmin.api",
    "cube": "critmin.api",
    "status": "critmin.api",
    "countries": "critmin.api",
    "minerals": "critmin.api",
    "import_baci": "critmin.api",
    "export_table": "critmin.api",
    "build_snapshot": "critmin.build",
    "CritminError": "critmin.errors",
    "InvalidInput": "critmin.errors",
    "NotFound": "critmin.errors",
    "DataError": "critmin.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from critmin.api import (
        countries,
        cube,
        export_table,
        import_baci,
        mineral,
        minerals,
        profile,
        risk,
        status,
    )
    from critmin.build import build_snapshot
    from critmin.errors import CritminError, DataError, InvalidInput, NotFound


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'critmin' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
