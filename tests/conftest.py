"""Shared test options: `pytest --update-goldens` rewrites every golden file."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (a test that passes or
# fails by chance is a defect); `HYPOTHESIS_PROFILE=explore` draws new ones.
settings.register_profile("default", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite generated_examples/*.py and tests/broken/*.err from the current compiler",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


def compare_golden(path: Path, actual: str, update: bool) -> None:
    """Assert a golden file equals `actual`, or rewrite it with --update-goldens."""
    if update:
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8") if path.exists() else ""
    if actual != expected:
        import difflib

        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                str(path),
                "compiled",
            )
        )
        pytest.fail(
            f"{path} is stale; review the diff, then run `pytest --update-goldens`:\n{diff[:6000]}"
        )


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The compile cache of a test run lives in its own folder, never the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        patch.delenv("PLXGEN_NO_CACHE", raising=False)
        yield
