"""Functional graphs, generators, summaries and gradient clipping of the model section.

The first tests only lower configs (no TensorFlow); the others compile a
variant, import the script and train it for two steps on the digits in this
process, or build its model.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import ir
from plxgen.compiler import check, compile_config
from plxgen.schema import registry
from plxgen.errors import ConfigError, collecting_warnings
from plxgen.compiler.load import load_bytes
from tests.conftest import import_script, plxgen

PIPELINE: dict[str, Any] = {
    "TFRecordImagePipeline": {
        "batch_size": 16,
        "data_files": ["data/digits_train.tfrecord"],
        "meta_data_file": "data/meta_data.json",
        "feature_processors": {
            "image": {"layers": [{"Cast": {"dtype": "float32"}}, "Standardization"]}
        },
    }
}
EVAL: dict[str, Any] = {
    "steps": 2,
    "data_pipeline": {
        "TFRecordImagePipeline": {
            **PIPELINE["TFRecordImagePipeline"],
            "shuffle": False,
            "data_files": ["data/digits_eval.tfrecord"],
        }
    },
}
BRANCHES: list[Any] = [
    {"Flatten": {"name": "pixels"}},
    {"Dense": {"name": "a", "units": 8, "inbound_nodes": ["pixels"]}},
    {"Dense": {"name": "b", "units": 8, "inbound_nodes": ["pixels"]}},
    {"Concatenate": {"name": "ab", "inbound_nodes": ["a", "b"]}},
    {"Dense": {"name": "first", "units": 10, "inbound_nodes": ["ab"]}},
    {"Dense": {"name": "second", "units": 10, "inbound_nodes": ["b"], "is_output": True}},
]  # fmt: skip


def config(
    model: dict[str, Any], kind: str = "classifier", **extra: Any
) -> dict[str, Any]:
    doc = {
        "version": 1,
        "project": {"name": "graphs"},
        "environment": {
            "run_config": {"tf_random_seed": 2, "save_summary_steps": 1, "save_checkpoints_steps": 2}
        },
        "model": {kind: model},
        "train": {"train_steps": 2, "data_pipeline": copy.deepcopy(PIPELINE)},
        "eval": copy.deepcopy(EVAL),
    }  # fmt: skip
    doc.update(extra)
    return doc


def classifier(graph_layers: list[Any], **fields: Any) -> dict[str, Any]:
    return {
        "loss": "SoftmaxCrossEntropy",
        "one_hot_encode": True,
        "n_classes": 10,
        "metrics": ["Accuracy"],
        "graph": {"input_layers": "image", "layers": graph_layers},
        **fields,
    }


def autoencoder(bridge: Any = "NoOpBridge", **fields: Any) -> dict[str, Any]:
    return {
        "loss": "MeanSquaredError",
        "encoder": {"input_layers": "image", "layers": [{"Flatten": None}, {"Dense": {"units": 16}}]},
        "decoder": {"layers": [{"Dense": {"units": 784}}, {"Reshape": {"target_shape": [28, 28, 1]}}]},
        "bridge": bridge,
        **fields,
    }  # fmt: skip


def lowered(doc: dict[str, Any]) -> ir.Experiment:
    return check(load_bytes(yaml.safe_dump(doc).encode(), "graphs.yaml"))


def errors(doc: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as info:
        lowered(doc)
    return [(d.path, d.code) for d in info.value.diagnostics]


# ------------------------------------------------------------------ lowering
def test_outputs_are_output_layers_then_is_output_and_metrics_are_per_output() -> None:
    graph_layers = copy.deepcopy(BRANCHES)
    model = classifier(graph_layers, metrics=["Accuracy", "AUC"])
    model["graph"]["output_layers"] = ["first"]
    exp = lowered(config(model))
    assert exp.model.graph.outputs == ("first", "second")
    assert [m.key for m in exp.model.metrics] == [
        "first_accuracy", "second_accuracy", "first_auc", "second_auc",
    ]  # fmt: skip
    assert all(m.call.func.qualname == "OutputMetric" for m in exp.model.metrics)


def test_a_layer_that_feeds_no_output_is_a_warning_and_left_out() -> None:
    graph_layers = copy.deepcopy(BRANCHES)
    graph_layers[-1]["Dense"].pop("is_output")
    unused = [
        ("model.classifier.graph.layers[1].Dense", "unused-layer"),
        ("model.classifier.graph.layers[3].Concatenate", "unused-layer"),
        ("model.classifier.graph.layers[4].Dense", "unused-layer"),
    ]
    with collecting_warnings() as found:
        exp = lowered(config(classifier(graph_layers)))
    assert [(d.path, d.code) for d in found.found] == unused
    assert {d.severity for d in found.found} == {"warning"}
    assert len(exp.model.graph.layers) == len(graph_layers) - 3
    with collecting_warnings(strict=True):  # --strict: they are errors
        assert errors(config(classifier(graph_layers))) == unused


def test_merge_layers_check_their_number_of_inputs() -> None:
    graph_layers = copy.deepcopy(BRANCHES)
    graph_layers[3] = {"Concatenate": {"name": "ab", "inbound_nodes": ["a"]}}
    graph_layers.insert(
        4, {"Dot": {"axes": 1, "name": "d", "inbound_nodes": ["a", "b", "ab"]}}
    )
    graph_layers.insert(
        5, {"Dense": {"units": 3, "name": "wide", "inbound_nodes": ["a", "b"]}}
    )
    model = classifier(graph_layers)
    model["graph"]["output_layers"] = ["first", "d", "wide"]
    assert errors(config(model)) == [
        ("model.classifier.graph.layers[3].Concatenate", "merge-inputs"),
        ("model.classifier.graph.layers[4].Dot.inbound_nodes", "merge-inputs"),
        ("model.classifier.graph.layers[5].Dense.inbound_nodes", "layer-inputs"),
        ("model.classifier.graph.layers[5].Dense.units", "output-units"),
    ]


def test_layer_names_never_shadow_builtins_or_each_other() -> None:
    graph_layers = [
        {"Flatten": {"name": "sum"}},
        {"Dense": {"name": "input", "units": 4, "inbound_nodes": ["sum"]}},
        {"Dense": {"units": 10, "inbound_nodes": ["input"]}},
    ]
    exp = lowered(config(classifier(graph_layers)))
    assert [layer.var for layer in exp.model.graph.layers] == [
        "sum_",
        "input_",
        "dense_2",
    ]


def test_generator_is_encoder_bridge_decoder_reconstructing_its_input() -> None:
    exp = lowered(
        config(
            autoencoder({"LatentBridge": {"latent_dim": 3, "stddev": 0.5}}), "generator"
        )
    )
    model = exp.model
    assert (model.kind, model.target, model.labels) == ("generator", "image", "float")
    assert model.bridge == ir.Bridge("LatentBridge", 3, 0.0, 0.5)
    calls = [layer.call.func.qualname for layer in model.graph.layers]
    assert calls == ["keras.layers.Flatten", "keras.layers.Dense", "LatentBridge",
                     "keras.layers.Dense", "keras.layers.Reshape"]  # fmt: skip
    assert model.graph.layers[3].inputs == (model.graph.layers[2].var,)
    plain = lowered(config(autoencoder(), "generator")).model
    assert plain.bridge and plain.bridge.kind == "NoOpBridge"
    assert [layer.call.func.qualname for layer in plain.graph.layers].count(
        "LatentBridge"
    ) == 0


def test_generator_errors_are_located() -> None:
    model = autoencoder()
    model["encoder"]["layers"][1]["Dense"]["is_output"] = True
    model["encoder"]["layers"][0] = {"Flatten": {"is_output": True}}
    model["decoder"]["input_layers"] = ["code", "other"]
    assert errors(config(model, "generator")) == [
        ("model.generator.decoder.input_layers", "decoder-input"),
        ("model.generator.encoder.output_layers", "generator-output"),
    ]


def test_summaries_all_and_clip_embed_gradients() -> None:
    model = classifier([{"Flatten": None}, {"Dense": {"units": 10}}], summaries="all")
    exp = lowered(config(model))
    assert exp.model.summaries == (
        "variables",
        "activations",
        "gradients",
        "image_input",
        "image_result",
    )
    assert exp.model.clip_embed == 0.0  # no Embedding: nothing to clip
    model = classifier([{"Embedding": {"input_dim": 256, "output_dim": 2}}, {"Flatten": None},
                        {"Dense": {"units": 10}}], summaries=["loss", "gradients"])  # fmt: skip
    exp = lowered(config(model))
    assert exp.model.summaries == ("gradients",)
    assert exp.model.clip_embed == 0.1  # the 2017 default


def test_several_inputs_come_from_several_features(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    images = registry.PIPELINES["TFRecordImagePipeline"]
    monkeypatch.setitem(
        registry.PIPELINES,
        "TFRecordImagePipeline",
        dataclasses.replace(images, features=("image", "mask")),
    )
    graph_layers = [
        {"Multiply": {"name": "masked", "inbound_nodes": ["image", "mask"]}},
        {"Flatten": None},
        {"Dense": {"units": 10}},
    ]
    model = classifier(graph_layers)
    model["graph"]["input_layers"] = ["image", "mask"]
    exp = lowered(config(model))
    assert [(i.feature, i.var) for i in exp.model.graph.inputs] == [
        ("image", "image"),
        ("mask", "mask"),
    ]
    assert exp.model.graph.layers[0].inputs == ("image", "mask")
    model["graph"]["input_layers"] = ["image", "image"]
    assert ("model.classifier.graph.input_layers[1]", "duplicate-item") in errors(
        config(model)
    )


# ------------------------------------------------------------------ running
tf = pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graphs")
    plxgen("data", "digits", "-o", root / "data", check=True)
    return root


def load(folder: Path, name: str, doc: dict[str, Any]) -> Any:
    """Compile `doc` into folder/NAME.py and import it."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc))
    script = folder / f"{name}.py"
    script.write_text(compile_config(path, script, []))
    return import_script(script)


def train_two_steps(
    folder: Path, name: str, doc: dict[str, Any], *args: str
) -> dict[str, Any]:
    """Compile `doc`, run its `main` in this process (two steps), return metrics.json."""
    module = load(folder, name, doc)
    model_dir = folder / "runs" / name
    assert module.main(["--model-dir", str(model_dir), *args]) == 0
    report: dict[str, Any] = json.loads((model_dir / "metrics.json").read_text())
    assert report["global_step"] == 2
    for section in ("train", "eval"):
        assert all(math.isfinite(v) for v in report[section].values()), report
    return report


def event_tags(folder: Path) -> set[str]:
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        str(folder), size_guidance={"tensors": 0}
    )
    events.Reload()
    return set(events.Tags()["tensors"])


def test_several_outputs_train_and_predict_per_output(folder: Path) -> None:
    model = classifier(copy.deepcopy(BRANCHES), metrics=["Accuracy"])
    model["graph"]["output_layers"] = "first"
    report = train_two_steps(folder, "outputs", config(model))
    assert set(report["eval"]) == {"loss", "first_accuracy", "second_accuracy"}
    module = load(folder, "outputs", config(model))
    assert (
        module.main(
            ["--model-dir", str(folder / "runs" / "outputs"), "--schedule", "predict"]
        )
        == 0
    )
    line = json.loads(
        (folder / "runs" / "outputs" / "predictions" / "predictions.jsonl").read_text().splitlines()[0]
    )
    assert set(line) == {"first", "second"} and len(line["first"]) == 10


def test_vae_trains_with_its_kl_term_and_all_summaries(folder: Path) -> None:
    doc = config(
        autoencoder({"LatentBridge": {"latent_dim": 2}}, summaries="all"), "generator"
    )
    report = train_two_steps(folder, "vae", doc)
    assert report["train"]["loss"] > 0
    module = load(folder, "vae", doc)
    model = module.build_model({"image": tf.TensorSpec([None, 28, 28, 1], tf.float32)})
    batch = tf.random.stateless_normal([5, 28, 28, 1], seed=[3, 4])
    model({"image": batch}, training=True)
    (kl,) = model.losses
    assert float(kl) >= 0.0  # the KL divergence from the unit Gaussian
    tags = event_tags(folder / "runs" / "vae" / "train")
    assert {
        "loss",
        "learning_rate",
        "gradients/global_norm",
        "image_input/image",
        "image_result/x",
    } <= tags
    assert any(t.startswith("variables/bridge/z_mean") for t in tags)
    assert any(t.startswith("activations/bridge") for t in tags)


def test_embedding_gradients_are_clipped(folder: Path) -> None:
    model = classifier(
        [{"Embedding": {"input_dim": 256, "output_dim": 3}}, {"GlobalAveragePooling1D": None}, {"Dense": {"units": 10}}],
        clip_embed_gradients=0.01,
    )  # fmt: skip
    doc = config(model)
    for section in (doc["train"], doc["eval"]):
        section["data_pipeline"]["TFRecordImagePipeline"]["feature_processors"] = {
            "image": {
                "layers": [
                    {"Cast": {"dtype": "int32"}},
                    {"Reshape": {"target_shape": [784]}},
                ]
            }
        }
    train_two_steps(folder, "embedding", doc)
    module = load(folder, "embedding", doc)
    built = module.build_model({"image": tf.TensorSpec([None, 784], tf.int32)})
    ids = tf.random.stateless_uniform([4, 784], seed=[1, 1], maxval=256, dtype=tf.int32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(built({"image": ids}) ** 2) * 1000.0
    variables = built.trainable_variables
    clipped = module.clip_embedding_gradients(
        built, tape.gradient(loss, variables), variables
    )
    norms = {
        v.path: float(tf.norm(tf.convert_to_tensor(g)))
        for v, g in zip(variables, clipped)
    }
    embedding = next(p for p in norms if p.endswith("embeddings"))
    assert norms[embedding] <= 0.01 + 1e-6
    assert (
        max(n for p, n in norms.items() if p != embedding) > 0.01
    )  # the others untouched


def test_attention_layers_take_query_and_value(folder: Path) -> None:
    graph_layers = [
        {"Reshape": {"target_shape": [28, 28], "name": "rows"}},
        {"Dense": {"units": 8, "name": "query", "inbound_nodes": ["rows"]}},
        {"MultiHeadAttention": {"num_heads": 2, "key_dim": 4, "name": "mha", "inbound_nodes": ["query", "rows"]}},
        {"Attention": {"name": "att", "inbound_nodes": ["query", "query"]}},
        {"Concatenate": {"name": "both", "inbound_nodes": ["mha", "att"]}},
        {"GlobalAveragePooling1D": None},
        {"Dense": {"units": 10}},
    ]  # fmt: skip
    train_two_steps(folder, "attention", config(classifier(graph_layers)))


def test_unnamed_layers_are_known_by_their_2017_names() -> None:
    graph_layers = [
        {"Flatten": None},
        {"Dense": {"units": 8}},
        {"Dense": {"units": 8, "name": "Dense_2", "inbound_nodes": ["Flatten_1"]}},
        {"Dense": {"units": 8, "inbound_nodes": ["Flatten_1"]}},
        {"Concatenate": {"inbound_nodes": ["Dense_1", "Dense_2", "Dense_3"]}},
        {"Dense": {"units": 10}},
    ]
    exp = lowered(config(classifier(graph_layers)))
    layers = exp.model.graph.layers
    assert layers[4].inputs == (layers[1].var, layers[2].var, layers[3].var)
    assert layers[2].inputs == layers[3].inputs == (layers[0].var,)
