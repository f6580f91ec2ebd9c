"""Access-map rows kept beside the main table, one module per area (each defines ``ROWS``).

``tests/crm/test_access_map.py`` adds them to its table; a name defined twice is an error.
"""

from __future__ import annotations

import pkgutil
from importlib import import_module


def collected_rows() -> dict:
    rows: dict = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name in {"common", "world"}:
            continue
        module_rows = import_module(f"{__name__}.{info.name}").ROWS
        duplicated = rows.keys() & module_rows.keys()
        if duplicated:
            raise AssertionError(f"access rows defined twice: {sorted(duplicated)}")
        rows.update(module_rows)
    return rows
