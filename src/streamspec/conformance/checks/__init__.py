"""The checks, one module per role; importing this package registers them all.

Every submodule is imported, so adding a module here is all it takes to add its checks.
"""

from __future__ import annotations

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
