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
(``streamspec[MEM-CLONE-asyncio]``), in the test module or, for the second way, in the target's
module (``mypkg/streams.py::streamspec[MEM-CLONE-asyncio]``), so that every node ID pytest
prints can be passed back to it. A failure shows the rule's sentence, what was observed and the
command line that repeats it; a known divergence is an expected failure (xfail) whose reason is
the target's; a stale known divergence (the rule passed after all) fails; a rule the target
does not provide, or one the suite has no check for yet, is skipped with the reason
``not provided: ...``, so it is reported and never counts as passed, and so is a default
backend that is not installed.

The target is found as ``streamspec check`` finds it: the directory pytest was started in is
searched first. It is loaded while collecting, so that a target that cannot be loaded is
reported once, in one line.

``streamspec_profile`` (``ci`` by default) picks the Hypothesis profile of the checks,
``streamspec_seed`` the seed their examples are drawn from (0 with ``ci``, a random one with
``dev``), ``streamspec_timeout`` the seconds each event-loop run of a check may take and
``streamspec_budget`` the seconds a whole check may take.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
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
    "streamspec_seed": ("--streamspec-seed", "seed of the suite's examples (default 0 with ci)"),
    "streamspec_timeout": ("--streamspec-timeout", "seconds each event-loop run may take"),
    "streamspec_budget": ("--streamspec-budget", "seconds a whole check may take"),
}
_MULTI = {"streamspec_backends", "streamspec_roles", "streamspec_rules"}


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--streamspec-*`` options and their ini settings."""
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


@dataclass(frozen=True)
class _RunSettings:
    """How every check of the session runs: one profile and one seed for all."""

    profile: str
    seed: int
    timeout: float | None
    budget: float | None = None

    def options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`.runner.iter_results` these settings fill."""
        options: dict[str, Any] = {"profile": self.profile, "seed": self.seed}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.budget is not None:
            options["budget"] = self.budget
        return options


_RUN_SETTINGS = pytest.StashKey[_RunSettings]()


def _run_settings(config: pytest.Config) -> _RunSettings:
    """The session's profile, seed, timeout and budget, chosen once (a ``dev`` seed is random).

    :raises pytest.UsageError: an unknown profile, or a seed, timeout or budget that is no
        number.
    """
    if _RUN_SETTINGS in config.stash:
        return config.stash[_RUN_SETTINGS]
    from hypothesis.errors import InvalidArgument

    from .profiles import chosen_profile, run_seed

    profile = chosen_profile(_setting(config, "streamspec_profile"))
    try:
        seed_text = _setting(config, "streamspec_seed")
        seed = run_seed(profile, None if seed_text is None else int(seed_text))
        timeout_text = _setting(config, "streamspec_timeout")
        timeout = None if timeout_text is None else float(timeout_text)
        budget_text = _setting(config, "streamspec_budget")
        budget = None if budget_text is None else float(budget_text)
    except InvalidArgument:
        raise pytest.UsageError(f"streamspec: unknown Hypothesis profile {profile!r}") from None
    except ValueError as exc:
        raise pytest.UsageError(f"streamspec: {exc}") from None
    settings = config.stash[_RUN_SETTINGS] = _RunSettings(profile, seed, timeout, budget)
    return settings


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
        target: Any,
        settings: _RunSettings,
        skipped: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rule_id = rule_id
        self.backend = backend
        self._target = target
        self._settings = settings
        #: Why the backend cannot run here (not installed), if it cannot.
        self._skipped = skipped
        self.add_marker(pytest.mark.streamspec)

    def runtest(self) -> None:
        """Run this rule on this backend; a failure raises :class:`RuleFailed`."""
        from .catalogue import RULES
        from .runner import Outcome, iter_results

        if self._skipped is not None:
            pytest.skip(f"backend {self.backend} {self._skipped}")
        (result,) = iter_results(
            self._target, backends=[self.backend], rules=[self.rule_id], **self._settings.options()
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
        lines += ["reproduce:", "    " + self.reproduce()]
        raise RuleFailed("\n".join(lines))

    def reproduce(self) -> str:
        """The pytest command line that runs this item again with the same examples."""
        words = ["pytest", self.nodeid]
        target = self.config.getoption("streamspec_target")
        if target is not None:  # the command line named the target; the ini file does not
            words.append(f"--streamspec-target={target}")
        words += [
            f"--streamspec-profile={self._settings.profile}",
            f"--streamspec-seed={self._settings.seed}",
        ]
        if self._settings.timeout is not None:
            words.append(f"--streamspec-timeout={self._settings.timeout:g}")
        if self._settings.budget is not None:
            words.append(f"--streamspec-budget={self._settings.budget:g}")
        return shlex.join(words)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | Any:
        """The rule's own report for a rule failure; pytest's usual one otherwise."""
        if isinstance(excinfo.value, RuleFailed):
            return excinfo.value.report
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Any, int | None, str]:
        """Name the rule and backend in pytest's report."""
        return self.path, None, f"streamspec rule {self.rule_id} on {self.backend}"


class _TargetError(Exception):
    """The target cannot be loaded; the message says why, in one line."""


def _load(spec: Any, config: pytest.Config) -> Any:
    """The :class:`~.target.Target` that ``spec`` names, found as ``streamspec check`` finds it.

    :raises _TargetError: it cannot be loaded, or is no target.
    """
    from .observe import describe
    from .target import Target, load_target

    try:
        if isinstance(spec, str):
            spec = load_target(spec, directory=config.invocation_params.dir)
        elif not isinstance(spec, Target) and callable(spec):
            spec = spec()
    except (LookupError, ValueError) as exc:
        raise _TargetError(str(exc).splitlines()[0]) from None
    except Exception as exc:  # the target's own function failed
        raise _TargetError(f"streamspec_target() raised {describe(exc)}") from None
    if not isinstance(spec, Target):
        raise _TargetError(
            f"streamspec_target must be a Target, a 'module:attribute' string or a "
            f"function returning a Target, got {spec!r}"
        )
    return spec


def _items(parent: pytest.Collector, selection: _Selection, config: pytest.Config) -> list[Any]:
    """One item per selected rule and backend, in catalogue order.

    :raises _TargetError: the target cannot be loaded.
    :raises ValueError: the selection names an unknown backend, role or rule.
    """
    from .runner import BACKENDS, resolve_backends, selected_rules, skipped_backends

    backends = [backend.name for backend in resolve_backends(selection.backends)]
    skipped = skipped_backends(selection.backends)
    rules = selected_rules(selection.roles, selection.rules)
    settings = _run_settings(config)
    target = _load(selection.target, config)
    return [
        StreamspecItem.from_parent(
            parent,
            name=f"streamspec[{rule.id}-{backend}]",
            rule_id=rule.id,
            backend=backend,
            target=target,
            settings=settings,
            skipped=skipped.get(backend),
        )
        for rule in rules
        for backend in BACKENDS
        if backend in backends or backend in skipped
    ]


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
    try:
        return _items(collector, selection, collector.config)
    except (ValueError, _TargetError) as exc:  # the module's settings are wrong
        raise collector.CollectError(f"streamspec: {exc}") from None


# -- the suite asked for on the command line or in the ini file ---------------------------------


class _TargetSuite(pytest.File):
    """The suite's items for the target named on the command line or in the ini file, collected
    from the target's module, so that their node IDs (``mymod.py::streamspec[...]``) name a
    file, as pytest requires of an ID passed back to it."""

    def collect(self) -> Iterable[pytest.Item | pytest.Collector]:
        selection = _session_selection(self.config)
        assert selection is not None  # only made when a target is named
        try:
            return _items(self, selection, self.config)
        except (ValueError, _TargetError) as exc:
            raise self.CollectError(f"streamspec: {exc}") from None


_SUITE_FILE = pytest.StashKey[Path | None]()
_SUITE_COLLECTED = pytest.StashKey[bool]()


def _session_selection(config: pytest.Config) -> _Selection | None:
    spec = _setting(config, "streamspec_target")
    if spec is None:
        return None
    return _Selection(
        target=spec,
        backends=_listed(_setting(config, "streamspec_backends")),
        roles=_listed(_setting(config, "streamspec_roles")),
        rules=_listed(_setting(config, "streamspec_rules")),
    )


def _suite_file(config: pytest.Config) -> Path | None:
    """The file of the module that defines the session's target, found once; ``None`` when no
    target is named or its module cannot be found (which loading it then reports)."""
    if _SUITE_FILE not in config.stash:
        from .target import target_file

        spec = _setting(config, "streamspec_target")
        config.stash[_SUITE_FILE] = (
            None if spec is None else target_file(spec, directory=config.invocation_params.dir)
        )
    return config.stash[_SUITE_FILE]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The target's module, when pytest collects it (an ID passed back, or a walk of its
    directory), holds the suite's items."""
    if _suite_file(parent.config) != file_path.resolve():
        return None
    parent.config.stash[_SUITE_COLLECTED] = True
    return _TargetSuite.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """``--streamspec-target`` (or the ini's ``streamspec_target``) adds the suite's tests,
    unless collecting the target's module has already brought them in."""
    selection = _session_selection(config)
    if selection is None or config.stash.get(_SUITE_COLLECTED, False):
        return
    # A target whose module is no file (a namespace package, say) is anchored at the rootdir;
    # one outside the rootdir (a built-in target, in site-packages) at its absolute path, which
    # pytest accepts back from any directory.
    path = _suite_file(config) or config.rootpath
    nodeid = None if path.is_relative_to(config.rootpath) else str(path)
    suite = _TargetSuite.from_parent(session, path=path, nodeid=nodeid)
    try:
        collected = suite.collect()
    except pytest.Collector.CollectError as exc:  # a bad target or selection: say so once
        raise pytest.UsageError(str(exc)) from None
    items.extend(item for item in collected if isinstance(item, pytest.Item))


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Name the suite's run in the session's header, when a target is named."""
    selection = _session_selection(config)
    if selection is None:
        return []  # inert: not even the suite's modules are imported
    from .runner import resolve_backends, skipped_backends

    try:
        settings = _run_settings(config)
        backends = ", ".join(backend.name for backend in resolve_backends(selection.backends))
    except (pytest.UsageError, ValueError):
        return []  # reported when collecting
    line = f"streamspec: target {selection.target}, backends {backends}, "
    line += f"hypothesis profile {settings.profile}, seed {settings.seed}"
    skipped = skipped_backends(selection.backends)
    if skipped:
        line += "; skipped: " + "; ".join(f"{name} ({why})" for name, why in skipped.items())
    return [line]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``streamspec`` marker."""
    config.addinivalue_line(
        "markers", "streamspec: a rule of the streamspec conformance suite on one backend"
    )
