"""Every generated script lints clean: pyflakes' rules and pycodestyle's errors (ruff F, E4, E7, E9).

The scripts read like hand-written Keras examples (STYLE.md, habit 7): no unused
imports or names, no undefined names, no syntax a linter flags. The only inline
suppression they may carry is `# noqa: E402`, for an import that must follow
code (the environment set before TensorFlow loads).
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("ruff")

SCRIPTS = sorted((ROOT / "generated_examples").glob("**/*.py"))
RULES = "F,E4,E7,E9"
NOQA = re.compile(r"#\s*noqa\b(?P<codes>:[^#\n]*)?", re.IGNORECASE)


def test_generated_scripts_pass_ruff() -> None:
    assert SCRIPTS
    result = subprocess.run(
        [
            sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache",
            "--select", RULES, "--output-format", "concise",
            *[str(p.relative_to(ROOT)) for p in SCRIPTS],
        ],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_inline_suppression_but_the_import_order_one(script: Path) -> None:
    text = script.read_text()
    for number, line in enumerate(text.splitlines(), 1):
        for found in NOQA.finditer(line):
            codes = (found.group("codes") or "").lstrip(":").replace(" ", "")
            assert codes == "E402", f"{script}:{number}: {line.strip()}"


# Methods that Keras, TensorFlow or Python call by name.
CALLED_BY_NAME = {"call", "build", "get_config", "compute_output_shape", "update_state", "result", "reset_state"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_definition_is_used(script: Path) -> None:
    """No function, method, class or constant that nothing names again (ruff does not see these)."""
    text = script.read_text()
    defined = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.Assign):
            defined.update(t.id for t in node.targets if isinstance(t, ast.Name) and t.id.isupper())
    unused = [
        name for name in sorted(defined - CALLED_BY_NAME)
        if not name.startswith("__") and len(re.findall(rf"\b{name}\b", text)) < 2
    ]
    assert not unused, unused
