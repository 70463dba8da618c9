"""The name tables hold what lowering reads from them, each declared once."""

from __future__ import annotations

from pathlib import Path

from plxgen.schema import registry, rl_registry
from plxgen.schema.registry import rl

SCHEMA = Path(registry.__file__).resolve().parents[1]


def test_every_optimizer_names_its_keras_symbol_and_passes_known_arguments() -> None:
    for name, entry in registry.OPTIMIZERS.items():
        assert entry.symbol and entry.symbol.startswith("keras.optimizers."), name
        assert set(entry.renames) <= set(entry.params), name
        assert "learning_rate" not in entry.renames, name  # the schedule passes it


def test_optimizer_keras_is_the_view_of_the_entries() -> None:
    assert set(registry.OPTIMIZER_KERAS) == set(registry.OPTIMIZERS)
    for name, (symbol, renames, fixed) in registry.OPTIMIZER_KERAS.items():
        entry = registry.OPTIMIZERS[name]
        assert (symbol, renames, fixed) == (entry.symbol, entry.renames, entry.fixed)


def test_every_regularizer_argument_has_a_keras_name() -> None:
    for name, (_, entry) in registry.REGULARIZERS.items():
        assert set(entry.renames) == set(entry.params), name
        assert registry.REGULARIZER_ARGS[name] == entry.renames


def test_rl_decays_are_learning_rate_decays_default_first() -> None:
    decay = rl.EXPLORATIONS["Decay"].params["decay_type"]
    assert set(decay["enum"]) < set(registry.DECAY_TYPES)
    assert decay["enum"][0] == decay["default"]


def test_the_former_rl_module_name_is_the_same_tables() -> None:
    for name in ("KINDS", "Q_KINDS", "PG_KINDS", "EXPLORATIONS", "Q_LOSSES"):
        assert getattr(rl_registry, name) is getattr(rl, name)
    assert set(rl.Q_LOSSES) <= set(registry.LOSSES)
    assert set(rl.CONTINUOUS_EXPLORATIONS) | set(rl.DISCRETE_EXPLORATIONS) == set(
        rl.EXPLORATIONS
    )


def test_modules_stay_small() -> None:
    """A family module stays under 400 lines, any other schema module under 600."""
    for path in sorted(SCHEMA.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        limit = 400 if path.parent.name == "registry" else 600
        assert lines <= limit, f"{path.relative_to(SCHEMA)}: {lines} lines"
