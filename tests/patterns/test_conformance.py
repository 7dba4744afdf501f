"""Every public conformance case: match, extracted values, and rejection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from logsieve.patterns import PatternError, compile

_SHARED = Path(__file__).resolve().parents[3] / "shared/conformance/filter_cases_public.jsonl"
_VENDORED = Path(__file__).with_name("data") / "filter_cases_public.jsonl"
# The shared copy is the living spec when it is beside the checkout (as in CI); a fresh clone
# on its own uses the copy vendored with the tests.
CASES_FILE = _SHARED if _SHARED.exists() else _VENDORED
CASES = [json.loads(line) for line in CASES_FILE.read_text(encoding="utf-8").splitlines() if line]


def test_corpus_is_loaded() -> None:
    assert len(CASES) >= 222
    assert {c["kind"] for c in CASES} == {"text", "regex", "json", "space"}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case: dict) -> None:
    if case.get("expect_error"):
        with pytest.raises(PatternError):
            compile(case["pattern"])
        return
    pattern = compile(case["pattern"])
    assert pattern.matches(case["message"]) is case["match"]
    extracted = pattern.extract(case["message"])
    assert (extracted is not None) is case["match"]
    if "extracted" in case:
        assert extracted == case["extracted"]
