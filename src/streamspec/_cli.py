"""The ``streamspec`` command line: check an implementation against the spec, list the rules.

``streamspec check [TARGET]`` exits with status 0 when no rule failed (a stale known divergence
counts as a failure), 1 when some did, 2 for a usage error (an unknown target, backend, role,
rule or profile, or a target that provides no stream at all), which is reported in one line
without a traceback, and 130 when interrupted (the verdict is then INTERRUPTED, never OK).
With ``--json -`` standard output carries the JSON alone and the report goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .conformance.catalogue import ROLES, RULES

__all__ = ["main"]

_EXIT_FAILED = 1
_EXIT_USAGE = 2
_EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's own usage block plus the message, and the usage-error exit status.
        self.print_usage(sys.stderr)
        self.exit(_EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command line's parser, and each command's own (by name)."""
    parser = _Parser(
        prog="streamspec",
        description="The typed contract for async streams: check an implementation against "
        "the spec, list the rules.",
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    rules = commands.add_parser("rules", help="list the rule catalogue, grouped by role")
    check = commands.add_parser(
        "check",
        help="run the conformance suite against an implementation",
        description="Run the conformance suite against TARGET and print a report by rule.",
        epilog="Exit status: 0 when no rule failed, 1 when one did (a stale known divergence "
        "included), 2 for a usage error, 130 when interrupted.",
    )
    check.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        default="streamspec",
        help="'module' or 'module:attribute' naming a Target or an AnyIO-style namespace; "
        "built in: streamspec (the default), anyio, trio",
    )
    check.add_argument(
        "--backend",
        action="append",
        dest="backends",
        metavar="NAME",
        help="run on this backend: asyncio, trio or uvloop (repeatable; default asyncio and trio)",
    )
    check.add_argument(
        "--role",
        action="append",
        dest="roles",
        metavar="ROLE",
        help=f"only the rules of this role (repeatable): {', '.join(ROLES)}",
    )
    check.add_argument(
        "--rule",
        action="append",
        dest="rules",
        metavar="ID",
        help="only this rule (repeatable; with --role, either selects)",
    )
    check.add_argument(
        "--profile",
        default=None,
        metavar="NAME",
        help="Hypothesis profile: ci (bounded, repeatable; the default unless "
        "$HYPOTHESIS_PROFILE says otherwise) or dev (explores more)",
    )
    check.add_argument(
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="the seed the property checks draw their examples from (default 0 with ci, a "
        "random one with dev; the report names it)",
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time limit of each event-loop run of a check (default 10)",
    )
    check.add_argument(
        "--budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="time a whole check may take before it is abandoned as hung (default 60, or six "
        "timeouts when that is more)",
    )
    check.add_argument(
        "--json",
        dest="json_file",
        metavar="FILE",
        help="also write one JSON record per rule and backend to FILE ('-' for stdout, "
        "which then carries nothing else: the report goes to stderr)",
    )
    check.add_argument(
        "-q", "--quiet", action="store_true", help="no progress lines on stderr while running"
    )
    return parser, {"rules": rules, "check": check}


def _usage_error(message: str) -> int:
    print(f"streamspec check: error: {message}", file=sys.stderr)
    return _EXIT_USAGE


def _rules() -> int:
    for role, title in ROLES.items():
        print(f"{role}: {title}")
        for rule in RULES.values():
            if rule.role == role:
                print(f"  {rule.id:28} {rule.sentence}")
    return 0


def _check(args: argparse.Namespace) -> int:
    # Imported here so that `streamspec rules` works without the check extra installed.
    from .conformance import report, runner
    from .conformance.target import load_target

    try:
        from .conformance import profiles
    except ModuleNotFoundError as exc:  # the check extra is missing
        return _usage_error(
            f"the conformance suite needs {exc.name}, which is not installed: "
            "pip install 'streamspec[check]'"
        )

    timeout = runner.DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    try:
        if not timeout > 0:
            raise ValueError(f"--timeout must be a positive number of seconds, got {timeout:g}")
        if args.budget is not None and not args.budget > 0:
            raise ValueError(f"--budget must be a positive number of seconds, got {args.budget:g}")
        backends = runner.resolve_backends(args.backends)
        selected = runner.selected_rules(args.roles, args.rules)
        target = load_target(args.target, directory=os.getcwd())
        if target.provides_nothing():
            raise ValueError(f"target {target.name!r} provides no stream at all")
        runner.validate_target(target)
        profile = profiles.chosen_profile(args.profile)
        run = report.RunInfo(
            target=args.target,
            profile=profile,
            seed=_run_seed(profile, args.seed),
            backends=[b.name for b in backends],
            skipped=runner.skipped_backends(args.backends),
            timeout=args.timeout,
            budget=args.budget,
        )
    except (ValueError, LookupError, runner.SuiteUnavailable) as exc:
        return _usage_error(str(exc).splitlines()[0])

    progress = report.Progress(sys.stderr, len(selected) * len(backends))
    results: list[runner.CheckResult] = []
    interrupted = False
    try:
        for result in runner.iter_results(
            target,
            backends=[b.name for b in backends],
            roles=args.roles,
            rules=args.rules,
            timeout=timeout,
            budget=args.budget,
            profile=run.profile,
            seed=run.seed,
            on_start=None if args.quiet else progress.started,
        ):
            results.append(result)
            if not args.quiet:
                progress.finished(result)
    except runner.SuiteUnavailable as exc:
        return _usage_error(str(exc))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()

    # With the JSON on stdout, the report goes to stderr, so that stdout can be piped to a
    # JSON reader.
    json_to_stdout = args.json_file == "-"
    (sys.stderr if json_to_stdout else sys.stdout).write(
        report.format_report(results, target=target.name, interrupted=interrupted, run=run)
    )
    if args.json_file is not None:
        if json_to_stdout:
            report.write_json(results, sys.stdout)
        else:
            with open(args.json_file, "w", encoding="utf-8") as file:
                report.write_json(results, file)
    sys.stdout.flush()
    if interrupted:
        print("interrupted: the report covers only the checks that finished", file=sys.stderr)
        return _EXIT_INTERRUPTED
    return 0 if all(r.ok for r in results) else _EXIT_FAILED


def _run_seed(profile: str, seed: int | None) -> int:
    """The run's seed (see :func:`.conformance.profiles.run_seed`), for a known profile."""
    from hypothesis.errors import InvalidArgument

    from .conformance import profiles

    try:
        return profiles.run_seed(profile, seed)
    except InvalidArgument:
        raise ValueError(f"unknown Hypothesis profile {profile!r}; use ci or dev") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser, commands = _parser()
    # Unknown options are collected, not refused, by the top-level parser, so that they are
    # refused by the command's own parser, with that command's usage.
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        if args.command == "rules":
            return _rules()
        return _check(args)
    except BrokenPipeError:
        # The reader went away (`streamspec rules | head`): stop quietly, and keep Python
        # from complaining again when it flushes stdout at exit.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
