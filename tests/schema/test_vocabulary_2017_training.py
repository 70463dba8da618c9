"""Scripts compiled from 2017 spellings train: the renamed keys reach Keras, the ignored ones change nothing.

A representative config (Keras 2 layer spellings, TF1 keys on the loss,
optimizer, metrics and regularizer, the node form, `train.steps`) trains two
steps by default; every loss, metric and optimizer written with all the keys
its 2017 class accepted trains under `-m slow`.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from plxgen.errors import collecting_warnings
from tests.schema.test_vocabulary import (
    METRIC_CASES,
    LOSS_CASES,
    compile_and_load,
    folder,
    train,
    variant,
)
from tests.schema.test_vocabulary_2017 import CLASSES, value_for

__all__ = ["folder"]  # the fixture, shared with test_vocabulary

tf = pytest.importorskip("tensorflow")

LAYERS: list[Any] = [
    {"Reshape": {"target_shape": [64, 1], "name": "seq"}},
    {"Conv1D": {"filters": 4, "kernel_size": 3, "name": "conv"}},
    {"LeakyReLU": {"alpha": 0.2, "name": "leaky", "inbound_nodes": [["conv", 0, 0]]}},
    {"SpatialDropout1D": {"rate": 0.1, "noise_shape": [1, 1, 4], "name": "drop"}},
    {"ThresholdedReLU": {"theta": 0.5, "name": "thresholded"}},
    {"Flatten": None},
    {
        "Dense": {
            "units": 16,
            "kernel_regularizer": {"L2": {"l": 0.001, "name": "l2", "collect": True}},
        }
    },
    {"Dense": {"units": 10, "name": "logits"}},
]


def representative() -> dict[str, Any]:
    config = variant(
        loss={"SoftmaxCrossEntropy": {"collect": True, "name": "xent", "weights": 1.0}},
        optimizer={
            "Adam": {
                "learning_rate": 0.01,
                "use_locking": False,
                "global_step": "global_step",
                "name": "adam",
            }
        },
        metrics=[
            {
                "Accuracy": {
                    "name": "acc",
                    "metrics_collections": ["metrics"],
                    "updates_collections": ["updates"],
                }
            },
            "MeanTensor",
        ],
    )
    graph = config["model"]["classifier"]["graph"]
    graph["layers"] = copy.deepcopy(LAYERS)
    graph["output_layers"] = [["logits", 0, 0]]
    pipeline = config["train"]["data_pipeline"]["TFRecordImagePipeline"]
    pipeline["feature_processors"]["image"]["layers"].append(
        {"Resize": {"height": 8, "width": 8, "align_corners": False}}
    )
    config["eval"]["data_pipeline"]["TFRecordImagePipeline"]["feature_processors"] = (
        copy.deepcopy(pipeline["feature_processors"])
    )
    config["train"]["steps"] = config["train"].pop("train_steps")
    config["project"]["is_public"] = True
    return config


def test_representative_2017_config_trains(folder: Path) -> None:
    with collecting_warnings() as found:
        module = compile_and_load(folder, "legacy", representative())
    codes = sorted({d.code for d in found.found})
    assert codes == ["ignored-key", "legacy-name"], [d.format() for d in found.found]
    source = Path(module.__file__).read_text()
    assert 'keras.layers.LeakyReLU(negative_slope=0.2, name="leaky")(conv)' in source
    assert 'keras.layers.ReLU(name="thresholded", threshold=0.5)' in source
    assert 'keras.layers.SpatialDropout1D(name="drop", rate=0.1)' in source
    report = train(folder, "legacy", representative())
    assert (
        "acc" in report["eval"] and "accuracy" not in report["eval"]
    ), report  # 2017's metric name
    assert "xent" in report["eval"] and "loss" not in report["eval"], report  # its loss's


def all_keys(section: str, name: str) -> dict[str, Any]:
    """The class's arguments with every key 2017 accepted (the plausible values of the policy test)."""
    keys = CLASSES.get((section, name), {})  # none: a name plxgen adds to 2017's
    skip = {
        "input_layer",
        "output_layer",
        "values",
    }  # references: the test of the policy checks them
    return {
        k: value_for(section, name, k, kind)
        for k, kind in keys.items()
        if k not in skip
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("loss", "kind"), LOSS_CASES, ids=[f"{l}-{k}" for l, k in LOSS_CASES]
)
def test_every_loss_trains_with_every_2017_key(
    folder: Path, loss: str, kind: str
) -> None:
    args = all_keys("losses", loss)
    if kind == "sparse":
        args.pop("label_smoothing", None)  # needs one-hot labels
    config = variant(kind=kind, loss={loss: args})
    layers = config["model"]["regressor" if kind == "regressor" else "classifier"][
        "graph"
    ]["layers"]
    if loss == "LogLoss":
        layers[-1]["Dense"]["activation"] = "sigmoid"
    if loss == "PoissonLoss":
        layers[-1]["Dense"]["activation"] = "softplus"
    train(folder, f"legacy_loss_{loss}_{kind}", config)


@pytest.mark.slow
@pytest.mark.parametrize(
    "optimizer", sorted(n for s, n in CLASSES if s == "optimizers")
)
def test_every_optimizer_trains_with_every_2017_key(
    folder: Path, optimizer: str
) -> None:
    args = all_keys("optimizers", optimizer)
    args.update(decay_type="exponential_decay", decay_rate=0.9, decay_steps=10)
    config = variant(loss={"SoftmaxCrossEntropy": None}, optimizer={optimizer: args})
    train(folder, f"legacy_opt_{optimizer}", config)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(METRIC_CASES))
def test_every_metric_trains_with_every_2017_key(folder: Path, kind: str) -> None:
    metrics = []
    for metric in METRIC_CASES[kind]:
        name, args = (
            (metric, {}) if isinstance(metric, str) else next(iter(metric.items()))
        )
        named = {**all_keys("metrics", name), **args}
        if kind == "sparse":
            named.pop("class_id", None)  # a metric of one class needs one-hot labels
        if "name" in named:
            named["name"] = f"{name.lower()}_2017"  # 2017's summary name, one per metric
        metrics.append({name: named})
    loss = {"SoftmaxCrossEntropy": None} if kind in ("classifier", "sparse") else None
    config = variant(kind=kind, metrics=metrics, **({"loss": loss} if loss else {}))
    train(folder, f"legacy_metrics_{kind}", config)
