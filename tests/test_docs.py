"""The docs point at tests that exist: every test named in docs/reliability.md is defined."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO_ROOT

REFERENCE = re.compile(r"`([\w/]+\.py)::(\w+)(?:\[[^\]]*\])?`")
REFERENCES = sorted(set(REFERENCE.findall((REPO_ROOT / "docs" / "reliability.md").read_text())))


def test_reliability_doc_names_tests():
    assert len(REFERENCES) >= 20


@pytest.mark.parametrize(("path", "name"), REFERENCES, ids=[f"{p}::{n}" for p, n in REFERENCES])
def test_each_test_named_in_the_reliability_doc_exists(path, name):
    source = (REPO_ROOT / "tests" / path).read_text()

    assert re.search(rf"^def {name}\(", source, re.MULTILINE), f"{path} has no test {name}"
