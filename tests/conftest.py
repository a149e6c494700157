from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from streamspec.conformance.profiles import load_profile

load_profile()

BACKENDS: list[Any] = [
    pytest.param("asyncio", id="asyncio"),
    pytest.param("trio", id="trio"),
]
if importlib.util.find_spec("uvloop") is not None:
    BACKENDS.append(pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"))


@pytest.fixture(params=BACKENDS)
def anyio_backend(request: pytest.FixtureRequest) -> Any:
    """Every async test runs on asyncio, trio and (when installed) uvloop."""
    return request.param
