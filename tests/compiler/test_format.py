"""The formatter is black on the whole script: stable, and what `black --check` accepts."""

from __future__ import annotations

from pathlib import Path

import black
import pytest

from tests.conftest import configs_in

from plxgen.compiler import lower_document, read_config
from plxgen.compiler.format import format_source
from plxgen.compiler.render import render
from plxgen.compiler.write import HEADER_LINES

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = configs_in(ROOT / "generated_examples")


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_the_formatted_body_is_stable(config: Path) -> None:
    experiment = lower_document(read_config(config), config.name, "")
    body = format_source(render(experiment))
    assert format_source(body) == body
    golden = config.with_suffix(".py").read_text().split("\n", HEADER_LINES)[-1]
    assert body == golden


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_scripts_are_what_black_writes_with_its_defaults(config: Path) -> None:
    """`black --check` in a user's repository passes on a generated script."""
    script = config.with_suffix(".py").read_text()
    assert black.format_str(script, mode=black.Mode()) == script


def test_a_script_that_does_not_parse_is_a_plxgen_bug() -> None:
    with pytest.raises(Exception):
        format_source("def f(:\n")
