"""The name tables hold what lowering reads from them, each declared once."""

from __future__ import annotations

from pathlib import Path

from plxgen.compiler import lower
from plxgen.schema import registry
from plxgen.schema.registry import rl

SCHEMA = Path(registry.__file__).resolve().parents[1]


def test_every_optimizer_names_its_keras_symbol_and_passes_known_arguments() -> None:
    for name, entry in registry.OPTIMIZERS.items():
        assert entry.symbol and entry.symbol.startswith("keras.optimizers."), name
        assert set(entry.renames) <= set(entry.params), name
        assert "learning_rate" not in entry.renames, name  # the schedule passes it


def test_every_loss_is_a_keras_loss_or_a_function_of_the_script() -> None:
    for name, entry in registry.LOSSES.items():
        # Both only where Keras' symbol computes the 2017 loss at some values only.
        both = entry.symbol is not None and entry.function is not None
        assert entry.symbol or entry.function, name
        assert both == bool(entry.keras_at), name
        assert set(entry.keras_at) <= set(entry.renames), name
        assert entry.symbol is None or entry.symbol.startswith("keras.losses."), name
        assert set(entry.renames) | set(entry.unsupported) <= set(entry.params), name
        assert "weights" in entry.params and "weights" not in entry.renames, name
        assert set(entry.by_labels) <= set(entry.labels) <= set(registry.LABELS), name
        assert entry.scores in (None, "softmax", "sigmoid"), name


def test_every_metric_says_what_it_calls_for_each_label_kind() -> None:
    for name, entry in registry.METRICS.items():
        assert set(entry.by_labels) <= set(entry.labels) <= set(registry.LABELS), name
        calls = [entry.symbol, *(v.symbol for v in entry.by_labels.values())]
        assert entry.function or all(
            entry.variant(labels) for labels in entry.labels
        ), name
        assert not (entry.function and any(calls)), name
        for variant in [entry, *entry.by_labels.values()]:
            assert set(variant.renames) <= set(entry.params), name
        assert set(entry.nonzero) <= set(entry.params), name
        assert not entry.per_threshold or "thresholds" in entry.params, name
    keys = [lower.snake_case(name) for name in registry.METRICS]
    assert len(set(keys)) == len(keys)


def test_every_initializer_regularizer_and_constraint_names_its_keras_class() -> None:
    for family, module in (
        (registry.INITIALIZERS, "initializers"),
        (registry.REGULARIZERS, "regularizers"),
        (registry.CONSTRAINTS, "constraints"),
    ):
        for name, entry in family.items():
            assert entry.symbol and entry.symbol.startswith(f"keras.{module}."), name


def test_every_regularizer_argument_has_a_keras_name() -> None:
    for name, entry in registry.REGULARIZERS.items():
        assert set(entry.renames) == set(entry.params), name


def test_decays_are_the_decay_types_with_their_flags() -> None:
    assert registry.DECAY_TYPES == list(registry.DECAYS)
    needs_rate = {k for k, d in registry.DECAYS.items() if d.needs_rate}
    assert needs_rate == {
        "exponential_decay",
        "inverse_time_decay",
        "natural_exp_decay",
    }


def test_defaults_are_read_back_from_the_schema() -> None:
    assert registry.LOSSES["ClippedDeltaLoss"].default("clip_value_min") == -1.0
    assert registry.METRICS["MeanIOU"].default("num_classes") is None
    assert registry.OPTIMIZERS["Adam"].complete({"beta1": 0.5})["beta2"] == 0.999
    assert registry.schema_default(rl.Q_TRAIN, "first_update") == 1000


def test_rl_kinds_are_their_entries() -> None:
    assert rl.KINDS == (*rl.Q_MODELS, *rl.PG_MODELS)
    for kind, schema in rl.model_kinds({}, {}, {}).items():
        entry = {**rl.Q_MODELS, **rl.PG_MODELS}[kind]
        assert set(entry.params) | {"discount"} <= set(schema["properties"]), kind
    assert rl.DISCRETE_EXPLORATION in rl.DISCRETE_EXPLORATIONS
    assert rl.CONTINUOUS_EXPLORATION in rl.CONTINUOUS_EXPLORATIONS


def test_rl_decays_are_learning_rate_decays_default_first() -> None:
    decay = rl.EXPLORATIONS["Decay"].params["decay_type"]
    assert set(decay["enum"]) < set(registry.DECAY_TYPES)
    assert decay["enum"][0] == decay["default"]


def test_rl_tables_name_registered_losses_and_explorations() -> None:
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


def test_the_keras_defaults_left_out_are_keras_own() -> None:
    import inspect

    import keras

    for symbol, defaults in registry.KERAS_DEFAULTS.items():
        cls = getattr(keras.optimizers, symbol.rsplit(".", 1)[1])
        parameters = inspect.signature(cls).parameters
        for keyword, value in defaults.items():
            assert parameters[keyword].default == value, (symbol, keyword)
    symbols = {entry.symbol for entry in registry.OPTIMIZERS.values()}
    assert set(registry.KERAS_DEFAULTS) <= symbols
