"""The two tiers and the optional extras (tests/conftest.py), checked on a small suite of their
own: the fast tier leaves the slow one out and says so, ``--slow`` runs it, asking only for slow
tests never ends in "no tests ran", and a missing extra skips naming it — or fails where its
``MOVIEREC_REQUIRE_*`` variable is set, so that CI can never skip one silently."""

from __future__ import annotations

from pathlib import Path

import pytest

CONFTEST = Path(__file__).with_name("conftest.py").read_text()
ABSENT = """
EXTRAS["absent"] = ("MOVIEREC_REQUIRE_ABSENT", lambda: "absent is not installed: pip install it")
"""
SUITE = """
import pytest

def test_fast():
    pass

@pytest.mark.slow
def test_slow():
    pass

def test_starts_spark(spark):
    pass

@pytest.mark.needs("absent")
def test_needs_absent():
    pass
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("MOVIEREC_REQUIRE_ABSENT", raising=False)
    monkeypatch.delenv("MOVIEREC_REQUIRE_SPARK", raising=False)
    pytester.makeconftest(CONFTEST + ABSENT)
    pytester.makeini("[pytest]\naddopts = -rs -p no:cacheprovider\n")
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def test_the_fast_tier_leaves_out_slow_tests_and_those_starting_spark(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_inprocess()
    result.assert_outcomes(passed=1, skipped=1, deselected=2)
    result.stdout.fnmatch_lines(["fast tier: 2 slow tests left out (run everything with --slow)"])


def test_slow_runs_both_tiers(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("--slow", "-k", "not spark")
    result.assert_outcomes(passed=2, skipped=1, deselected=1)


def test_asking_only_for_slow_tests_skips_them_naming_the_flag(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-k", "test_slow")
    assert result.ret == pytest.ExitCode.OK  # not NO_TESTS_COLLECTED (5)
    result.assert_outcomes(skipped=1, deselected=3)
    result.stdout.fnmatch_lines(["*slow tier: run with `python -m pytest --slow`"])


def test_a_missing_extra_skips_with_its_reason(suite: pytest.Pytester) -> None:
    result = suite.runpytest_inprocess("-k", "absent")
    result.assert_outcomes(skipped=1, deselected=3)
    result.stdout.fnmatch_lines(["SKIPPED*absent is not installed: pip install it"])


def test_a_missing_extra_fails_where_it_is_required(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOVIEREC_REQUIRE_ABSENT", "1")
    result = suite.runpytest_inprocess("-k", "absent")
    result.assert_outcomes(errors=1, deselected=3)
    result.stdout.fnmatch_lines(
        ["*absent is not installed: pip install it (MOVIEREC_REQUIRE_ABSENT is set)"]
    )


def test_every_extra_names_its_require_variable() -> None:
    from conftest import EXTRAS

    assert set(EXTRAS) == {"torch", "spark", "browser", "ml1m", "notebook", "postgres"}
    for extra, (variable, _) in EXTRAS.items():
        assert variable == f"MOVIEREC_REQUIRE_{extra.upper()}"
