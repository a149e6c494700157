"""The conformance suite inside a project's own pytest run (the ``streamspec`` ``pytest11`` plugin).

The plugin is inert: it collects nothing until a project asks for the suite, in one of two ways.

* In a test module, name the target::

      # tests/test_conformance.py
      streamspec_target = "mypkg.streams:target"   # or a Target, or a function returning one
      streamspec_roles = ["byte", "tls"]           # optional: only these roles
      streamspec_rules = ["MEM-CLONE"]             # optional: only these rules (either selects)
      streamspec_backends = ["asyncio", "trio"]    # optional: default asyncio and trio

* On the command line or in the ini file: ``pytest --streamspec-target mypkg.streams:target``,
  or ``streamspec_target = mypkg.streams:target`` under ``[pytest]`` (with
  ``streamspec_roles``, ``streamspec_rules``, ``streamspec_backends`` alike, space-separated).

Either way every selected rule becomes one test per backend, named after the rule
(``streamspec[MEM-CLONE-asyncio]``). A failure shows the rule's sentence and what was
observed; a known divergence is an expected failure (xfail) whose reason is the target's; a
stale known divergence (the rule passed after all) fails; a rule the target does not provide,
or one the suite has no check for yet, is skipped with the reason ``not provided: ...``, so it
is reported and never counts as passed.

``streamspec_profile`` (``ci`` by default) picks the Hypothesis profile of the checks, and
``streamspec_timeout`` the seconds each event-loop run of a check may take.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["RuleFailed", "StreamspecItem"]

_OPTIONS = {
    # ini name -> (command-line flag, help)
    "streamspec_target": ("--streamspec-target", "run the streamspec conformance suite on TARGET"),
    "streamspec_backends": ("--streamspec-backend", "backends of the suite (default asyncio trio)"),
    "streamspec_roles": ("--streamspec-role", "only the suite's rules of these roles"),
    "streamspec_rules": ("--streamspec-rule", "only these rules of the suite"),
    "streamspec_profile": ("--streamspec-profile", "Hypothesis profile of the suite (ci, dev)"),
    "streamspec_timeout": ("--streamspec-timeout", "seconds each event-loop run may take"),
}
_MULTI = {"streamspec_backends", "streamspec_roles", "streamspec_rules"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("streamspec", "streamspec conformance suite")
    for ini, (flag, text) in _OPTIONS.items():
        if ini in _MULTI:
            group.addoption(flag, action="append", dest=ini, default=None, help=text)
            parser.addini(ini, text, type="args")
        else:
            group.addoption(flag, action="store", dest=ini, default=None, help=text)
            parser.addini(ini, text, type="string", default="")


@dataclass(frozen=True)
class _Selection:
    """What a project asked for: a target and the part of the suite to run on it."""

    target: Any
    backends: Sequence[str] | None = None
    roles: Sequence[str] | None = None
    rules: Sequence[str] | None = None


def _setting(config: pytest.Config, name: str) -> Any:
    """The command line's value of an option, else the ini file's; ``None`` when unset."""
    value = config.getoption(name)
    if value is None:
        value = config.getini(name)
    return value or None


class RuleFailed(Exception):
    """A rule failed on a backend; pytest shows the rule and the observation, no traceback."""

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class StreamspecItem(pytest.Item):
    """One rule of the suite on one backend."""

    def __init__(
        self,
        *,
        rule_id: str,
        backend: str,
        target: Callable[[], Any],
        options: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rule_id = rule_id
        self.backend = backend
        self._target = target
        self._options = options
        self.add_marker(pytest.mark.streamspec)

    def runtest(self) -> None:
        from .catalogue import RULES
        from .runner import Outcome, iter_results

        (result,) = iter_results(
            self._target(), backends=[self.backend], rules=[self.rule_id], **self._options
        )
        if result.outcome is Outcome.PASSED:
            return
        if result.outcome is Outcome.NOT_PROVIDED:
            pytest.skip(f"not provided: {result.message}")
        if result.outcome is Outcome.KNOWN_DIVERGENCE:
            assert result.divergence is not None
            link = f" ({result.divergence.link})" if result.divergence.link else ""
            pytest.xfail(f"known divergence: {result.divergence.reason}{link}")
        rule = RULES[self.rule_id]
        lines = [f"[{rule.id}] on {self.backend}: {rule.sentence}"]
        lines += ["observed:", *("    " + line for line in result.message.splitlines())]
        raise RuleFailed("\n".join(lines))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        if isinstance(excinfo.value, RuleFailed):
            return excinfo.value.report
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        return self.path, None, f"streamspec rule {self.rule_id} on {self.backend}"


def _items(parent: pytest.Collector, selection: _Selection, config: pytest.Config) -> list[Any]:
    """One item per selected rule and backend, in catalogue order."""
    from .runner import resolve_backends, selected_rules

    try:
        backends = resolve_backends(selection.backends)
        rules = selected_rules(selection.roles, selection.rules)
    except ValueError as exc:
        if isinstance(parent, pytest.Module):  # the module's settings are wrong
            raise parent.CollectError(f"streamspec: {exc}") from None
        raise pytest.UsageError(f"streamspec: {exc}") from None
    options: dict[str, Any] = {"profile": _setting(config, "streamspec_profile")}
    timeout = _setting(config, "streamspec_timeout")
    if timeout is not None:
        options["timeout"] = float(timeout)
    target = _TargetLoader(selection.target)
    return [
        StreamspecItem.from_parent(
            parent,
            name=f"streamspec[{rule.id}-{backend.name}]",
            rule_id=rule.id,
            backend=backend.name,
            target=target,
            options=options,
        )
        for rule in rules
        for backend in backends
    ]


class _TargetLoader:
    """Resolves the target once, on first use, so that collecting stays cheap."""

    def __init__(self, spec: Any) -> None:
        self._spec = spec
        self._target: Any = None

    def __call__(self) -> Any:
        from .target import Target, load_target

        if self._target is None:
            spec = self._spec
            if isinstance(spec, str):
                spec = load_target(spec)
            elif not isinstance(spec, Target) and callable(spec):
                spec = spec()
            if not isinstance(spec, Target):
                raise TypeError(
                    f"streamspec_target must be a Target, a 'module:attribute' string or a "
                    f"function returning a Target, got {spec!r}"
                )
            self._target = spec
        return self._target


def _listed(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.split()
    return [str(v) for v in _flatten(value)]


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    for value in values:
        if isinstance(value, str):
            yield from value.split()
        else:
            yield value


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(collector: pytest.Collector, name: str, obj: object) -> Any:
    """A test module that defines ``streamspec_target`` gets the suite's tests."""
    if name != "streamspec_target" or not isinstance(collector, pytest.Module):
        return None
    module = collector.obj
    selection = _Selection(
        target=obj,
        backends=_listed(getattr(module, "streamspec_backends", None)),
        roles=_listed(getattr(module, "streamspec_roles", None)),
        rules=_listed(getattr(module, "streamspec_rules", None)),
    )
    return _items(collector, selection, collector.config)


class _SessionSuite(pytest.Collector):
    """The parent of the items asked for on the command line or in the ini file."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        return []


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """``--streamspec-target`` (or the ini's ``streamspec_target``) adds the suite's tests."""
    spec = _setting(config, "streamspec_target")
    if spec is None:
        return
    selection = _Selection(
        target=spec,
        backends=_listed(_setting(config, "streamspec_backends")),
        roles=_listed(_setting(config, "streamspec_roles")),
        rules=_listed(_setting(config, "streamspec_rules")),
    )
    parent = _SessionSuite.from_parent(session, name="streamspec")
    items.extend(_items(parent, selection, config))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "streamspec: a rule of the streamspec conformance suite on one backend"
    )
