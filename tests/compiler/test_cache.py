"""The cache of compiled script bodies: same bytes as a fresh compile, and safe to lose."""

from __future__ import annotations

from pathlib import Path

import pytest

from plxgen.compiler import cache
from plxgen.compiler import compile_config
from plxgen.errors import ConfigError
from tests.conftest import configs_in, plxgen

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = configs_in(ROOT / "generated_examples")


@pytest.fixture
def fresh_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PLXGEN_NO_CACHE", raising=False)
    return tmp_path / "xdg" / "plxgen"


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "bodies").rglob("*") if p.is_file())


def no_black(source: str) -> str:
    raise AssertionError("a cache hit must not format again")


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.stem)
def test_cached_uncached_and_golden_are_byte_identical(
    config: Path, fresh_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = config.with_suffix(".py")
    first = compile_config(config, script, [])  # miss: fills the cache
    assert len(entries(fresh_cache)) == 1
    with monkeypatch.context() as patch:
        patch.setattr("plxgen.compiler.format.format_source", no_black)
        patch.setattr("plxgen.compiler.render.render", no_black)
        hit = compile_config(config, script, [])
    monkeypatch.setenv("PLXGEN_NO_CACHE", "1")
    uncached = compile_config(config, script, [])
    assert first == hit == uncached == script.read_text(encoding="utf-8")


def test_overrides_and_paths_are_part_of_the_key(fresh_cache: Path) -> None:
    config = ROOT / "generated_examples" / "lenet_digits.yaml"
    base = compile_config(config, config.with_suffix(".py"), [])
    other = compile_config(config, config.with_suffix(".py"), ["train.train_steps=7"])
    elsewhere = compile_config(config, ROOT / "lenet_digits.py", [])
    assert "TRAIN_STEPS = 7\n" in other and "TRAIN_STEPS = 300\n" in base
    assert '["data/digits/digits_train.tfrecord"]' in elsewhere
    assert len(entries(fresh_cache)) == 3


@pytest.mark.parametrize(
    "damage",
    [b"", b"garbage", b"plxgen-body-cache 1\n0000\nimport os\n", None],
    ids=["empty", "garbage", "bad-checksum", "truncated"],
)
def test_a_damaged_entry_is_ignored_and_rewritten(
    fresh_cache: Path, damage: bytes | None
) -> None:
    config = ROOT / "generated_examples" / "lenet.yaml"
    expected = compile_config(config, config.with_suffix(".py"), [])
    (entry,) = entries(fresh_cache)
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2] if damage is None else damage)
    assert compile_config(config, config.with_suffix(".py"), []) == expected
    assert entry.read_bytes() == good


def test_an_unusable_cache_folder_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    config = ROOT / "generated_examples" / "lenet.yaml"
    assert compile_config(config, config.with_suffix(".py"), []) == (
        config.with_suffix(".py").read_text(encoding="utf-8")
    )


def test_a_broken_document_is_never_served_from_the_cache(fresh_cache: Path) -> None:
    config = ROOT / "generated_examples" / "lenet.yaml"
    compile_config(config, config.with_suffix(".py"), [])
    with pytest.raises(ConfigError):
        compile_config(config, config.with_suffix(".py"), ["train.train_steps=-1"])
    assert len(entries(fresh_cache)) == 1


def test_no_cache_option_and_variable_write_nothing(
    tmp_path: Path, fresh_cache: Path
) -> None:
    config = ROOT / "generated_examples" / "lenet.yaml"
    env = {"XDG_CACHE_HOME": str(fresh_cache.parent), "PATH": "/usr/bin:/bin"}
    out = tmp_path / "a.py"
    plxgen(
        "--no-cache", "compile", config, "-o", out,
        env=env, inherit_env=False, check=True,
    )  # fmt: skip
    plxgen(
        "compile", config, "-o", out, "--force",
        env={**env, "PLXGEN_NO_CACHE": "1"}, inherit_env=False, check=True,
    )  # fmt: skip
    assert not fresh_cache.exists()
    plxgen(
        "compile", config, "-o", out, "--force",
        env=env, inherit_env=False, check=True,
    )  # fmt: skip
    assert len(entries(fresh_cache)) == 1
    assert cache.key({"a": 1}, "x.yaml", "") != cache.key({"a": 1.0}, "x.yaml", "")


def test_compiled_templates_others_may_write_are_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Jinja's bytecode is code: a file in the cache that others may write is ignored."""
    import jinja2
    import jinja2.bccache

    from plxgen.compiler import cache

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    def environment() -> jinja2.Environment:
        return jinja2.Environment(
            loader=jinja2.DictLoader({"t.j2": "{{ 1 + 1 }}"}),
            bytecode_cache=cache.template_cache(),
        )

    assert environment().get_template("t.j2").render() == "2"  # writes the bytecode
    (compiled,) = (tmp_path / "plxgen" / "templates").iterdir()
    loads = []
    real_load = jinja2.bccache.marshal.load
    monkeypatch.setattr(
        jinja2.bccache.marshal, "load", lambda f: loads.append(1) or real_load(f)
    )
    assert environment().get_template("t.j2").render() == "2"
    assert loads == [1]  # ours and private: loaded
    compiled.chmod(0o666)
    assert environment().get_template("t.j2").render() == "2"
    assert loads == [1]  # writable by others: compiled from source instead
