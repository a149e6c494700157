"""The pytest plugin, end to end: a third party's test run with the suite switched on (or not).

Each test writes a tiny project with pytester and runs pytest on it in this process. The tiny
target's TLS stream is AnyIO's, or a subclass that checks no host name (it breaks TLS-HOSTNAME);
only a few quick TLS rules are selected.
"""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

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
