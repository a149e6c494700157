"""Run AnyIO 4.16's own stream tests against streamspec, with only their imports rewritten.

    .venv/bin/python tests/anyio_suite/run.py              # against streamspec
    .venv/bin/python tests/anyio_suite/run.py --against anyio   # unchanged, against AnyIO
    .venv/bin/python tests/anyio_suite/run.py -- -k tls    # extra pytest arguments

(``make anyio-suite`` runs the first.) It downloads AnyIO's source distribution with pip (once;
it is kept in ``build/anyio-suite``), copies ``tests/conftest.py`` and ``tests/streams``, and
rewrites every ``from anyio.streams.<module> import ...`` to import from the streamspec module
of that name (``file`` is ``streamspec.files``), and ``create_memory_object_stream`` from
streamspec; a name streamspec does not have (AnyIO's private helpers) stays AnyIO's, and the
run lists it. Nothing else in the tests changes.

The tests that fail on purpose are listed in ``plugin.py`` (``EXPECTED_FAILURES``), each with
the reason:
a deliberate divergence (the docs' guide pages list them) or AnyIO's exact message text. They
run as strict expected failures, so one that starts passing fails the run and the entry must
go. The exit status is pytest's: 0 when every other test passes.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

ANYIO_VERSION = "4.16.0"
ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "build" / "anyio-suite"
#: Where each of AnyIO's stream modules lives in streamspec.
MODULES = {
    "anyio.streams.buffered": "streamspec.buffered",
    "anyio.streams.file": "streamspec.files",
    "anyio.streams.memory": "streamspec.memory",
    "anyio.streams.stapled": "streamspec.stapled",
    "anyio.streams.text": "streamspec.text",
    "anyio.streams.tls": "streamspec.tls",
}
#: Names imported from ``anyio`` itself that streamspec provides.
TOP_LEVEL = {"create_memory_object_stream": "streamspec"}


def fetch_tests(work: Path) -> Path:
    """Download AnyIO's sdist into ``work`` (unless there) and unpack its tests; return the
    folder of the unpacked ``tests``."""
    work.mkdir(parents=True, exist_ok=True)
    sdist = work / f"anyio-{ANYIO_VERSION}.tar.gz"
    if not sdist.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary",
             ":all:", f"anyio=={ANYIO_VERSION}", "-d", str(work)],
            check=True,
        )  # fmt: skip
    suite = work / "tests"  # named as in AnyIO: some tests match their own module path
    shutil.rmtree(suite, ignore_errors=True)
    prefix = f"anyio-{ANYIO_VERSION}/tests/"
    wanted = (prefix + "__init__.py", prefix + "conftest.py", prefix + "streams/")
    with tarfile.open(sdist) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(wanted)]
        archive.extractall(work, members=members, filter="data")
    (work / f"anyio-{ANYIO_VERSION}" / "tests").rename(suite)
    shutil.rmtree(work / f"anyio-{ANYIO_VERSION}")
    return suite


def rewrite_imports(source: str) -> tuple[str, list[str]]:
    """Point ``source``'s imports of AnyIO's stream modules at streamspec; return the new text
    and the names that stay AnyIO's because streamspec lacks them."""
    kept: list[str] = []
    lines = source.splitlines(keepends=True)
    # Replace from the bottom up, so earlier line numbers stay valid.
    for node in sorted(_imports(ast.parse(source)), key=lambda n: n.lineno, reverse=True):
        ours, theirs = [], []
        for alias in node.names:
            target = MODULES.get(node.module or "") or TOP_LEVEL.get(alias.name)
            if node.module == "anyio" and alias.name not in TOP_LEVEL:
                target = None
            if target and hasattr(_module(target), alias.name):
                ours.append((target, alias))
            else:
                theirs.append(alias)
                if node.module != "anyio":
                    kept.append(f"{node.module}.{alias.name}")
        if not ours:
            continue
        statements = [ast.ImportFrom(node.module, theirs, 0)] if theirs else []
        statements += [ast.ImportFrom(module, [alias], 0) for module, alias in ours]
        indent = " " * node.col_offset
        text = "".join(f"{indent}{ast.unparse(s)}\n" for s in statements)
        assert node.end_lineno is not None
        lines[node.lineno - 1 : node.end_lineno] = [text]
    return "".join(lines), kept


def _module(name: str) -> object:
    """The streamspec module ``name``, or None if this streamspec has none."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        return None


def _imports(tree: ast.Module) -> Iterator[ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module in MODULES or node.module == "anyio"):
            yield node


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--against",
        choices=["streamspec", "anyio"],
        default="streamspec",
        help="streamspec (imports rewritten) or anyio (the tests unchanged, as a baseline)",
    )
    parser.add_argument("--work", type=Path, default=WORK, help="download and unpack here")
    parser.add_argument("pytest_args", nargs="*", help="more arguments for pytest")
    args = parser.parse_args()

    suite = fetch_tests(args.work)
    if args.against == "streamspec":
        for path in sorted((suite / "streams").glob("test_*.py")):
            text, kept = rewrite_imports(path.read_text())
            path.write_text(text)
            for name in kept:
                print(f"{path.name}: {name} stays AnyIO's (streamspec has no such name)")
    (args.work / "pytest.ini").write_text(
        "[pytest]\n"
        "anyio_mode = auto\n"
        "xfail_strict = true\n"
        "filterwarnings =\n    error\n"
        # A test that fails on purpose leaves its memory streams (and its server's socket)
        # open; the ResourceWarning for them would surface, as an error, in whatever later
        # test (or session end) the garbage collector runs in.
        "    ignore:<Memory.* was garbage-collected without being closed:ResourceWarning\n"
        "    ignore:unclosed <ssl.SSLSocket:ResourceWarning\n"
        "addopts = -p no:cacheprovider -p no:streamspec -p no:trio -p no:asyncio\n"
    )
    # A pytest of its own: streamspec and AnyIO are imported here already, and pytest must
    # import them itself to rewrite the tests' asserts.
    command = [
        sys.executable, "-m", "pytest", "-p", "plugin", "-q", "-rfEx", "--tb=short",
        "-c", str(args.work / "pytest.ini"), "--rootdir", str(args.work),
        str(suite / "streams"), *args.pytest_args,
    ]  # fmt: skip
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
        ),
        "ANYIO_SUITE_AGAINST": args.against,
    }
    return subprocess.run(command, env=environment, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
