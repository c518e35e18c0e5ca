"""Speed-ups change no outputs: a few runs give, to the last bit, what the model gave before.

The reference (tests/data/reference_outputs.json) was written by the model before the speed-ups
of issue 6. A change meant to alter what the model does writes it again (`python -m
tests.reference`) and says so; a change meant only to make it faster must pass as it is.
"""

from __future__ import annotations

import json

import pytest

from .reference import CASES, REFERENCE, outputs


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_outputs_as_the_reference(name: str) -> None:
    reference = json.loads(REFERENCE.read_text())
    assert set(reference) == set(CASES)
    now = outputs(name)
    before = reference[name]
    changed = [k for k in before["metrics"] if now["metrics"][k] != before["metrics"][k]]
    assert not changed, f"{name}: metrics changed: {changed}"
    assert now["daily"] == before["daily"]
    assert now["legs"] == before["legs"]
