"""Every experiment file the documentation shows validates as it is written.

A fenced ```yaml block of README.md or docs/*.md that is a whole experiment
file (it has `version:` and `model:` at its top level) is validated in-process,
through the compiler's own functions; a block without them is a fragment and
is skipped by that rule alone.

Each example of docs/reference.md is validated too, written into a generated
example at the one place its section names (a section titled by a path, or
`Written under` one); a section whose place is a pattern (`*_initializer`,
`feature_processors.FEATURE`) names no one place and is left out by that rule,
as is an example the page shows cut short (`...`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import copy
import json
from typing import Any

import yaml

from plxgen.compiler import check
from plxgen.compiler.load import load_text
from plxgen.errors import ConfigError
from plxgen.schema.examples import DEFINITION_EXAMPLES
from tests.conftest import ROOT

_FENCE = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, int, str]]:
    """(file, line, text) of every fenced yaml block of the documentation."""
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = path.read_text()
        for match in _FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 2
            found.append((path.relative_to(ROOT).as_posix(), line, match.group(1)))
    return found


def _whole_file(text: str) -> bool:
    """A whole experiment file: `version:` and `model:` at its top level."""
    keys = re.findall(r"^([A-Za-z_]+):", text, re.MULTILINE)
    return "version" in keys and "model" in keys


WHOLE = [b for b in _blocks() if _whole_file(b[2])]


def test_the_documentation_shows_whole_files() -> None:
    assert WHOLE, "no whole experiment file found in the documentation"


@pytest.mark.parametrize(
    "file, line, text", WHOLE, ids=[f"{f}:{n}" for f, n, _ in WHOLE]
)
def test_a_whole_file_in_the_documentation_validates(
    file: str, line: int, text: str
) -> None:
    try:
        check(load_text(text, f"{file}:{line}"))
    except ConfigError as exc:
        pytest.fail("\n".join(d.format() for d in exc.diagnostics))


_BASES = {"model.regressor": "digits_regressor.yaml"}
# A key whose example means something only beside another key's example.
_WITH = {"n_ps": "n_workers"}
_ROW = re.compile(r"^\| `(\w+)` \| [^|]* \| [^|]* \| `(.*)` \| .* \|$")


def _reference_examples() -> list[tuple[int, str, str, Any]]:
    """(line, section, key, example) of each key of a `## PATH` section of the reference."""
    found = []
    place: str | None = None
    lines = (ROOT / "docs" / "reference.md").read_text().splitlines()
    for number, line in enumerate(lines, 1):
        if line.startswith("#"):
            title = line.lstrip("#").strip()
            top = line.startswith("## ") and re.fullmatch(r"[a-z_.]+", title)
            place = title if top else None
            continue
        row = _ROW.match(line)
        if row and place and not row.group(2).endswith("..."):
            found.append((number, place, row.group(1), json.loads(row.group(2))))
    return found


def _placed(place: str, key: str, example: Any) -> str:
    """A generated example with one key's example written into its section.

    A graph's keys go into the reference's own example graph (`output_layers`
    names one of its layers).
    """
    base = _BASES.get(place, "lenet.yaml")
    data = yaml.safe_load((ROOT / "generated_examples" / base).read_text())
    if place == "graph":
        place = "model.classifier.graph"
        data["model"]["classifier"]["graph"] = copy.deepcopy(
            DEFINITION_EXAMPLES["graph"]
        )
    node = data
    for part in place.split("."):
        node = node.setdefault(part, {})
    node[key] = copy.deepcopy(example)
    if key in _WITH:
        other = _WITH[key]
        node[other] = next(e for _, p, k, e in EXAMPLES if (p, k) == (place, other))
    return yaml.safe_dump(data, sort_keys=False)


EXAMPLES = _reference_examples()


def test_the_reference_examples_are_found() -> None:
    places = {place for _, place, _, _ in EXAMPLES}
    assert {"train", "model.classifier", "model.regressor", "graph"} <= places


@pytest.mark.parametrize(
    "line, place, key, example",
    EXAMPLES,
    ids=[f"reference.md:{n}:{p}.{k}" for n, p, k, _ in EXAMPLES],
)
def test_a_reference_example_validates_in_its_section(
    line: int, place: str, key: str, example: Any
) -> None:
    text = _placed(place, key, example)
    try:
        check(load_text(text, f"docs/reference.md:{line}"))
    except ConfigError as exc:
        pytest.fail(text + "\n".join(d.format() for d in exc.diagnostics))
