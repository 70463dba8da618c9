"""Generated models equal the same models written by hand in Keras.

Each case imports a generated script (a committed example or a config compiled
here), calls its `build_model` with the pipeline's feature specs, and compares
the layer types, the parameter count (in total and per layer) and the output
shapes with a model written directly with keras.layers below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from plxgen.compiler import compile_config
from tests.conftest import ROOT, import_script

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
layers = keras.layers

IMAGE = {"image": tf.TensorSpec([None, 28, 28, 1], tf.float32)}
FLAT = {"image": tf.TensorSpec([None, 784], tf.float32)}


def compiled(tmp_path: Path, name: str, config: dict[str, Any]) -> Any:
    """Compile a config dict next to tmp data paths and import the script."""
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    script = tmp_path / f"{name}.py"
    script.write_text(compile_config(path, script, []))
    return import_script(script)


def example(name: str) -> Any:
    return import_script(ROOT / "generated_examples" / f"{name}.py")


def lenet(inputs: Any) -> Any:
    x = layers.Conv2D(32, 5, padding="same", activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(64, 5, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.4)(x)
    return layers.Dense(10)(x)


def functional(inputs: Any) -> Any:
    pixels = layers.Flatten()(inputs)
    left = layers.Dense(64, activation="relu")(pixels)
    right = layers.Dense(64, activation="tanh")(pixels)
    agreement = layers.Dot(axes=1, normalize=True)([left, right])
    both = layers.Concatenate()([left, right, agreement])
    total = layers.Add()([left, right])
    return [layers.Dense(10)(both), layers.Dense(10)(total)]


def autoencoder(inputs: Any) -> Any:
    x = layers.Dense(128, activation="relu")(inputs)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dense(128, activation="relu")(x)
    return layers.Dense(784)(x)


class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, with the mean and log-variance as sublayers."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.z_mean = layers.Dense(latent_dim)
        self.z_log_var = layers.Dense(latent_dim)

    def call(self, x: Any) -> Any:
        mean, log_var = self.z_mean(x), self.z_log_var(x)
        return mean + tf.exp(0.5 * log_var) * tf.random.normal(tf.shape(mean))


def vae(inputs: Any) -> Any:
    x = layers.Dense(128, activation="relu")(inputs)
    x = layers.Dense(32, activation="relu")(x)
    x = Sampling(2)(x)
    x = layers.Dense(128, activation="relu")(x)
    return layers.Dense(784)(x)


def rows(inputs: Any) -> Any:
    x = layers.Reshape((28, 28))(inputs)
    lstm = layers.LSTM(
        32,
        return_sequences=True,
        kernel_initializer=keras.initializers.GlorotUniform(seed=3),
        recurrent_regularizer=keras.regularizers.L2(0.0001),
    )
    x = layers.Bidirectional(lstm)(x)
    dense = layers.Dense(
        16, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3)
    )
    x = layers.TimeDistributed(dense)(x)
    x = layers.GlobalMaxPooling1D()(x)
    return layers.Dense(10)(x)


def recurrent(inputs: Any) -> Any:
    x = layers.Reshape((28, 28))(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.TimeDistributed(layers.Dense(4))(x)
    x = layers.Conv1D(6, 3, kernel_regularizer=keras.regularizers.L2(0.01))(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.BatchNormalization()(x)
    return layers.Dense(10)(x)


RECURRENT_GRAPH = {
    "input_layers": "image",
    "layers": [
        {"Reshape": {"target_shape": [28, 28]}},
        {"Bidirectional": {"layer": {"LSTM": {"units": 8, "return_sequences": True}}}},
        {"TimeDistributed": {"layer": {"Dense": {"units": 4}}}},
        {
            "Conv1D": {
                "filters": 6,
                "kernel_size": 3,
                "kernel_regularizer": {"L2": {"l": 0.01}},
            }
        },
        {"GlobalMaxPooling1D": None},
        {"BatchNormalization": None},
        {"Dense": {"units": 10}},
    ],
}


def recurrent_config() -> dict[str, Any]:
    pipeline = {
        "TFRecordImagePipeline": {
            "data_files": ["data/digits_train.tfrecord"],
            "meta_data_file": "data/meta_data.json",
        }
    }
    return {
        "version": 1,
        "project": {"name": "recurrent"},
        "model": {
            "classifier": {
                "loss": "SoftmaxCrossEntropy",
                "one_hot_encode": True,
                "n_classes": 10,
                "graph": RECURRENT_GRAPH,
            }
        },
        "train": {"data_pipeline": pipeline},
    }


def by_hand(features: dict[str, Any], body: Callable[[Any], Any]) -> Any:
    (spec,) = features.values()
    inputs = keras.Input(shape=spec.shape[1:], dtype=spec.dtype, name="image")
    return keras.Model({"image": inputs}, body(inputs))


def summary(model: Any) -> tuple[list[str], list[int], int, list[tuple[Any, ...]]]:
    """Layer types, per-layer and total parameter counts, output shapes."""
    kinds = [type(layer).__name__ for layer in model.layers]
    counts = [layer.count_params() for layer in model.layers]
    outputs = [tuple(o.shape) for o in tf.nest.flatten(model.outputs)]
    return kinds, counts, model.count_params(), outputs


CASES = {
    "lenet_digits": (IMAGE, lenet),
    "functional_digits": (IMAGE, functional),
    "autoencoder_digits": (FLAT, autoencoder),
    "vae_digits": (FLAT, vae),
    "recurrent_digits": (IMAGE, rows),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_example_model_equals_keras_by_hand(name: str) -> None:
    features, body = CASES[name]
    generated = example(name).build_model(features)
    expected = by_hand(features, body)
    kinds, counts, total, outputs = summary(generated)
    want_kinds, want_counts, want_total, want_outputs = summary(expected)
    if name == "vae_digits":
        assert kinds[3] == "LatentBridge" and want_kinds[3] == "Sampling"
        kinds[3] = want_kinds[3]
    assert kinds == want_kinds
    assert counts == want_counts
    assert total == want_total
    assert outputs == want_outputs


def test_wrappers_and_nested_arguments_equal_keras_by_hand(tmp_path: Path) -> None:
    module = compiled(tmp_path, "recurrent", recurrent_config())
    generated = module.build_model(IMAGE)
    expected = by_hand(IMAGE, recurrent)
    assert summary(generated) == summary(expected)
    # The nested regularizer is the same object with the same factor.
    conv = next(l for l in generated.layers if isinstance(l, layers.Conv1D))
    assert isinstance(conv.kernel_regularizer, keras.regularizers.L2)
    assert conv.kernel_regularizer.l2 == pytest.approx(0.01)


def test_same_initializer_seed_gives_the_same_weights() -> None:
    generated = example("recurrent_digits").build_model(IMAGE)
    expected = by_hand(IMAGE, rows)
    ours = generated.get_layer(index=2).forward_layer.cell.kernel
    theirs = expected.get_layer(index=2).forward_layer.cell.kernel
    assert bool(tf.reduce_all(ours == theirs))


def test_same_weights_give_same_outputs() -> None:
    """With the hand-written model's weights, the generated one computes the same function."""
    generated = example("functional_digits").build_model(IMAGE)
    expected = by_hand(IMAGE, functional)
    generated.set_weights(expected.get_weights())
    batch = {"image": tf.random.stateless_normal([4, 28, 28, 1], seed=[1, 2])}
    for ours, theirs in zip(generated(batch), expected(batch)):
        assert float(tf.reduce_max(tf.abs(ours - theirs))) < 1e-5
