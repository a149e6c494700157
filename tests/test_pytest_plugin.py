"""The pytest plugin, end to end: a third party's test run with the suite switched on (or not).

Each test writes a tiny project with pytester and runs pytest on it in this process. The tiny
target's TLS stream is AnyIO's, or a subclass that checks no host name (it breaks TLS-HOSTNAME);
only a few quick TLS rules are selected.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(autouse=True, scope="module")
def _certificates_made_outside_the_inner_runs() -> None:
    """Make the suite's TLS certificates in this process before any inner run does.

    Pytester's in-process runs drop the modules first imported inside them; cryptography's
    lazily imported modules, imported again afterwards, no longer match its compiled core
    ("curve must be an EllipticCurve instance"), and every later TLS check of the session fails.
    """
    from streamspec.conformance import _certs

    _certs.server_context()
    _certs.client_context()


BLIND_TLS = textwrap.dedent(
    """
    import ssl

    from anyio.streams.tls import TLSStream

    class BlindTLSStream(TLSStream):
        @classmethod
        async def wrap(cls, transport_stream, *, server_side=None, hostname=None,
                       ssl_context=None, standard_compatible=True):
            if ssl_context is not None and not server_side:
                ssl_context.check_hostname = False
            return await super().wrap(
                transport_stream, server_side=server_side, hostname=hostname,
                ssl_context=ssl_context, standard_compatible=standard_compatible,
            )
    """
)


@pytest.fixture
def tiny(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(tiny_streams=BLIND_TLS)
    pytester.syspathinsert()
    return pytester


def test_inert_unless_asked(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(test_plain="def test_one():\n    assert 1 + 1 == 2\n")
    result = tiny.runpytest("-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["plugins: *streamspec-*", "collecting ... collected 1 item"])
    result.stdout.no_fnmatch_line("*streamspec?*-asyncio*")


def test_a_module_naming_a_target_gets_one_test_per_rule_and_backend(
    tiny: pytest.Pytester,
) -> None:
    tiny.makepyfile(
        test_conformance="""
        from anyio.streams.tls import TLSStream
        from tiny_streams import BlindTLSStream
        from streamspec.conformance import Divergence, Target

        streamspec_target = Target(
            name="tiny",
            tls_stream=BlindTLSStream,
            known_divergences=(
                Divergence("TLS-ALPN", "thought to lose ALPN", "https://example.invalid/3"),
            ),
        )
        streamspec_rules = ["TLS-HOSTNAME", "TLS-UNTRUSTED", "TLS-ALPN", "TLS-LISTENER-SURVIVES"]
        """
    )
    result = tiny.runpytest("-v", "-rs")
    result.assert_outcomes(passed=2, failed=4, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*test_conformance.py::streamspec?TLS-HOSTNAME-asyncio? FAILED*",
            "*test_conformance.py::streamspec?TLS-HOSTNAME-trio? FAILED*",
            "*test_conformance.py::streamspec?TLS-UNTRUSTED-asyncio? PASSED*",
            "*test_conformance.py::streamspec?TLS-UNTRUSTED-trio? PASSED*",
            "*test_conformance.py::streamspec?TLS-ALPN-asyncio? FAILED*",
            "*test_conformance.py::streamspec?TLS-ALPN-trio? FAILED*",
            "*test_conformance.py::streamspec?TLS-LISTENER-SURVIVES-asyncio? SKIPPED*",
            "*test_conformance.py::streamspec?TLS-LISTENER-SURVIVES-trio? SKIPPED*",
        ]
    )
    # A failure shows the rule's sentence and the observation, without a traceback.
    result.stdout.fnmatch_lines(
        [
            "*streamspec rule TLS-HOSTNAME on asyncio*",
            "[[]TLS-HOSTNAME[]] on asyncio: A client refuses a server certificate issued for *",
            "observed:",
            "    the client completed the handshake although *",
        ]
    )
    # The stale divergence fails, and says why.
    result.stdout.fnmatch_lines(["*stale known divergence: the rule passes on trio*"])
    result.stdout.fnmatch_lines(["SKIPPED *not provided: tiny does not provide tls_listener"])
    assert "Traceback" not in result.stdout.str()


def test_a_known_divergence_is_an_expected_failure(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        test_conformance="""
        from tiny_streams import BlindTLSStream
        from streamspec.conformance import Divergence, Target

        def streamspec_target():
            return Target(
                name="tiny",
                tls_stream=BlindTLSStream,
                known_divergences=(
                    Divergence("TLS-HOSTNAME", "checks no host name", "https://example.invalid/4"),
                ),
            )

        streamspec_rules = "TLS-HOSTNAME"
        streamspec_backends = ["trio"]
        """
    )
    result = tiny.runpytest("-v", "-rx")
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*streamspec?TLS-HOSTNAME-trio? XFAIL*",
            "XFAIL *known divergence: checks no host name (https://example.invalid/4)",
        ]
    )


def test_the_command_line_option_adds_the_suite(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        tiny_target="""
        from anyio.streams.tls import TLSStream
        from streamspec.conformance import Target

        target = Target(name="tiny", tls_stream=TLSStream)
        """,
        test_plain="def test_one():\n    pass\n",
    )
    result = tiny.runpytest(
        "-v",
        "--streamspec-target=tiny_target:target",
        "--streamspec-rule=TLS-UNTRUSTED",
        "--streamspec-rule=TLS-CLOSE-NOTIFY",
        "--streamspec-backend=asyncio",
    )
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "tiny_target.py::streamspec?TLS-UNTRUSTED-asyncio? PASSED*",
            "tiny_target.py::streamspec?TLS-CLOSE-NOTIFY-asyncio? PASSED*",
        ]
    )


def test_the_ini_file_adds_the_suite(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        tiny_target="""
        from tiny_streams import BlindTLSStream
        from streamspec.conformance import Target

        target = Target(name="tiny", tls_stream=BlindTLSStream)
        """
    )
    tiny.makeini(
        """
        [pytest]
        streamspec_target = tiny_target:target
        streamspec_rules = TLS-HOSTNAME
        streamspec_backends = asyncio trio
        """
    )
    result = tiny.runpytest("-v")
    result.assert_outcomes(failed=2)


def test_the_ini_file_sets_the_budget_of_a_check(tiny: pytest.Pytester) -> None:
    # BYTE-INTACT runs dozens of examples over several subjects (TLS handshakes included):
    # far more than a hundredth of a second.
    tiny.makeini(
        """
        [pytest]
        streamspec_target = streamspec
        streamspec_rules = BYTE-INTACT
        streamspec_backends = trio
        streamspec_budget = 0.01
        """
    )
    result = tiny.runpytest("-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*did not finish within its budget of 0.01 s*"])


def test_a_bad_selection_in_a_module_is_a_collection_error(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(test_conformance='streamspec_target = "anyio"\nstreamspec_roles = ["nope"]\n')
    result = tiny.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["streamspec: unknown role nope; roles are *"])
    assert "Traceback" not in result.stdout.str()


def test_a_bad_selection_on_the_command_line_is_a_usage_error(tiny: pytest.Pytester) -> None:
    result = tiny.runpytest("--streamspec-target=anyio", "--streamspec-rule=NOPE")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: streamspec: no rule NOPE in the catalogue *"])


def _ids(result: pytest.RunResult) -> list[str]:
    """The node IDs of the suite that a ``-v`` run printed."""
    return [line.split()[0] for line in result.outlines if "::streamspec[" in line]


def test_a_printed_node_id_runs_that_test_again_alone(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        tiny_target="""
        from anyio.streams.tls import TLSStream
        from streamspec.conformance import Target

        target = Target(name="tiny", tls_stream=TLSStream)
        """
    )
    tiny.makeini(
        """
        [pytest]
        streamspec_target = tiny_target:target
        streamspec_rules = TLS-UNTRUSTED TLS-CLOSE-NOTIFY
        """
    )
    everything = tiny.runpytest("-v")
    everything.assert_outcomes(passed=4)
    ids = _ids(everything)
    assert ids == [
        "tiny_target.py::streamspec[TLS-UNTRUSTED-asyncio]",
        "tiny_target.py::streamspec[TLS-UNTRUSTED-trio]",
        "tiny_target.py::streamspec[TLS-CLOSE-NOTIFY-asyncio]",
        "tiny_target.py::streamspec[TLS-CLOSE-NOTIFY-trio]",
    ]
    for node_id in (ids[1], ids[2]):
        again = tiny.runpytest("-v", node_id)
        again.assert_outcomes(passed=1)
        assert _ids(again) == [node_id]


def test_the_command_line_target_gives_node_ids_that_run_again(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        tiny_target="""
        from anyio.streams.tls import TLSStream
        from streamspec.conformance import Target

        target = Target(name="tiny", tls_stream=TLSStream)
        """
    )
    options = ["--streamspec-target=tiny_target:target", "--streamspec-rule=TLS-UNTRUSTED"]
    node_id = "tiny_target.py::streamspec[TLS-UNTRUSTED-trio]"
    assert node_id in _ids(tiny.runpytest("-v", *options))
    again = tiny.runpytest("-v", *options, node_id)
    again.assert_outcomes(passed=1)
    assert _ids(again) == [node_id]


def test_a_bad_target_in_the_ini_file_is_reported_once_in_one_line(
    tiny: pytest.Pytester,
) -> None:
    tiny.makepyfile(test_plain="def test_one():\n    pass\n")
    tiny.makeini("[pytest]\nstreamspec_target = no_such_module:target\n")
    result = tiny.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = "ERROR: streamspec: target module 'no_such_module' cannot be imported: *"
    result.stderr.fnmatch_lines([error])
    output = result.stdout.str() + result.stderr.str()
    assert output.count("cannot be imported") == 1
    assert "Traceback" not in output


def test_a_bad_target_in_a_module_is_one_collection_error(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(test_conformance='streamspec_target = "tiny_streams:nothing_here"\n')
    result = tiny.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["streamspec: module 'tiny_streams' has no attribute 'nothing_here'"]
    )
    assert result.stdout.str().count("has no attribute 'nothing_here'") == 1
    assert "Traceback" not in result.stdout.str()


def test_a_failure_ends_with_the_command_that_repeats_it(tiny: pytest.Pytester) -> None:
    tiny.makepyfile(
        test_conformance="""
        from tiny_streams import BlindTLSStream
        from streamspec.conformance import Target

        streamspec_target = Target(name="tiny", tls_stream=BlindTLSStream)
        streamspec_rules = ["TLS-HOSTNAME"]
        streamspec_backends = ["trio"]
        """
    )
    result = tiny.runpytest("--streamspec-profile=dev", "--streamspec-seed=7")
    result.assert_outcomes(failed=1)
    command = (
        "pytest 'test_conformance.py::streamspec[TLS-HOSTNAME-trio]' "
        "--streamspec-profile=dev --streamspec-seed=7"
    )
    result.stdout.fnmatch_lines(["reproduce:", f"    {command}"])
    output = result.stdout.str()
    assert "reproduce_failure" not in output
    assert "your test function" not in output
    # The command is one that works.
    again = tiny.runpytest(*command.replace("'", "").split()[1:])
    again.assert_outcomes(failed=1)


def test_a_default_backend_that_is_not_installed_is_skipped_by_name(
    tiny: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamspec.conformance.runner import BACKENDS, Backend

    monkeypatch.setitem(BACKENDS, "trio", Backend("trio", "trio", requires="no_such_trio"))
    tiny.makepyfile(
        tiny_target="""
        from anyio.streams.tls import TLSStream
        from streamspec.conformance import Target

        target = Target(name="tiny", tls_stream=TLSStream)
        """
    )
    result = tiny.runpytest(
        "-v", "-rs", "--streamspec-target=tiny_target:target", "--streamspec-rule=TLS-UNTRUSTED"
    )
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "streamspec: target tiny_target:target, backends asyncio, hypothesis profile ci, "
            "seed 0; skipped: trio (not installed (pip install no_such_trio))",
            "*streamspec?TLS-UNTRUSTED-trio? SKIPPED*",
            "SKIPPED *backend trio not installed (pip install no_such_trio)",
        ]
    )


def test_a_built_in_target_gives_node_ids_that_run_again(pytester: pytest.Pytester) -> None:
    # Its module lies outside the project, so its node IDs carry the module's absolute path.
    options = ["--streamspec-target=streamspec", "--streamspec-rule=TLS-ALPN"]
    ids = _ids(pytester.runpytest("-v", *options))
    assert len(ids) == 2
    assert ids[1].endswith("conformance/targets.py::streamspec[TLS-ALPN-trio]")
    assert Path(ids[1].partition("::")[0]).is_absolute()
    again = pytester.runpytest("-v", *options, ids[1])
    again.assert_outcomes(passed=1)
