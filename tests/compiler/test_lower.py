"""Lowering on its own: small documents in, the IR (or located diagnostics) out.

Each test lowers a variant of one minimal classifier (or of the DQN example)
through the public `lower_document`, then asserts on the IR's values.
"""

from __future__ import annotations

import textwrap

import pytest

from plxgen.compiler import ir, lower_document
from plxgen.compiler import lower as lowering
from plxgen.compiler.load import load_text
from plxgen.compiler.lower import (
    pipeline_features,
    snake_case,
)
from plxgen.compiler.rl_ir import RLExperiment
from plxgen.errors import ConfigError, Diagnostic
from plxgen.schema import registry
from plxgen.schema.registry import number, rl
from plxgen.schema.registry.losses import LossEntry

MODEL = """\
model:
  classifier:
    n_classes: 10
    one_hot_encode: true
    loss: SoftmaxCrossEntropy
    graph:
      input_layers: image
      layers:
        - Flatten
        - Dense: {units: 10}
"""
TRAIN = """\
train:
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [train.tfrecord]
      meta_data_file: meta.json
"""
DQN = """\
version: 1
project:
  name: dqn_cartpole
environment:
  run_config:
    tf_random_seed: 1
model:
  dqn:
    graph:
      input_layers: state
      layers:
        - Dense: {units: 256, activation: relu}
        - Dense: {units: 256, activation: relu}
    loss: {HuberLoss: }
    optimizer: {Adam: {learning_rate: 0.0023}}
    clip_gradients: 10
    discount: 0.99
    dueling: false
    target_update_frequency: 10
    exploration:
      Decay: {exploration_rate: 1.0, min_exploration_rate: 0.04, decay_steps: 8000}
train:
  train_steps: 50000
  env: {Gym: {env_id: CartPole-v1}}
  memory: {Memory: {size: 100000, batch_size: 64}}
  first_update: 1000
  update_frequency: 256
  gradient_steps: 128
eval:
  episodes: 20
"""


def config(*blocks: str, model: str = MODEL, train: str = TRAIN) -> str:
    """The minimal classifier with `model`/`train` replaced and `blocks` added."""
    head = "version: 1\nproject:\n  name: t\n"
    return head + model + train + "".join(textwrap.dedent(b) for b in blocks)


def lower(text: str, data_prefix: str = "") -> ir.Experiment:
    experiment = lower_document(load_text(text, "t.yaml"), "t.yaml", data_prefix)
    assert isinstance(experiment, ir.Experiment)
    return experiment


def errors(text: str) -> list[Diagnostic]:
    with pytest.raises(ConfigError) as info:
        lower_document(load_text(text, "t.yaml"), "t.yaml", "")
    return info.value.diagnostics


def codes(text: str) -> list[tuple[str, str]]:
    return [(d.path, d.code) for d in errors(text)]


def layers(**kinds: str) -> str:
    """A model whose graph is the given layer lines (name -> YAML of the item)."""
    items = "".join(f"        - {line}\n" for line in kinds.values())
    return MODEL.split("      layers:\n")[0] + "      layers:\n" + items


# ------------------------------------------------------------ environment


def test_replicas_give_the_mirrored_strategy() -> None:
    env = lower(config("environment:\n  replicas: 2\n")).environment
    assert (env.strategy, env.replicas) == ("mirrored", 2)
    assert (env.cluster, env.n_workers, env.n_ps) == (None, 0, 0)
    assert env.jit_compile is False
    assert env.steps_per_execution == 100


def test_session_options_become_tf_config_settings() -> None:
    run_config = lower(config("""\
            environment:
              run_config:
                tf_random_seed: 7
                save_checkpoints_steps: 50
                session:
                  intra_op_parallelism_threads: 4
                  allow_soft_placement: false
                  gpu_options:
                    per_process_gpu_memory_fraction: 0.5
                    visible_device_list: [1, 0]
            """)).run_config
    assert run_config.seed == 7
    assert (run_config.save_checkpoints_steps, run_config.save_checkpoints_secs) == (
        50,
        None,
    )
    assert run_config.session == ir.Session(
        intra_op_threads=4,
        inter_op_threads=None,
        soft_placement=False,
        log_device_placement=False,
        memory_growth=True,
        memory_fraction=0.5,
        visible_gpus=(1, 0),
    )


def test_a_cluster_with_parameter_servers() -> None:
    env = lower(config("""\
            environment:
              worker_configs:
                - index: 1
                  intra_op_parallelism_threads: 2
              run_config:
                cluster:
                  master: ["h:1"]
                  worker: ["h:2", "h:3"]
                  ps: ["h:4"]
            """)).environment
    assert env.strategy == "parameter_server"
    assert env.cluster == (
        ("chief", ("h:1",)),
        ("worker", ("h:2", "h:3")),
        ("ps", ("h:4",)),
    )
    assert (env.n_workers, env.n_ps) == (2, 1)
    (task,) = env.task_sessions
    assert (task.task_type, task.index, task.session.intra_op_threads) == (
        "worker",
        1,
        2,
    )


def test_environment_conflicts_are_located() -> None:
    found = errors(config("""\
            environment:
              replicas: 2
              jit_compile: true
              run_config:
                save_checkpoints_steps: 10
                save_checkpoints_secs: 10
                cluster:
                  worker: ["h:1", "h:1"]
            """))
    assert [(d.path, d.code) for d in found] == [
        ("environment.replicas", "conflict"),
        ("environment.jit_compile", "conflict"),
        ("environment.run_config.save_checkpoints_secs", "conflict"),
        ("environment.run_config.cluster.worker[1]", "conflict"),
    ]
    assert found[1].message == (
        "XLA-compiled steps are offered on one device, not with multi_worker_mirrored"
    )


def test_logging_path_and_format() -> None:
    logging = lower(
        config("""\
            settings:
              logging:
                level: DEBUG
                path: logs/train.log
                formatter: "%(levelname)s %(message)s"
            """),
        data_prefix="..",
    ).logging
    assert logging == ir.Logging(
        "DEBUG", "%(levelname)s %(message)s", "../logs/train.log"
    )
    bad = config('settings:\n  logging:\n    formatter: "%(nope)s"\n')
    (found,) = errors(bad)
    assert (found.line, found.col, found.code) == (21, 16, "bad-format")
    assert found.message == (
        "not a logging format: Formatting field not found in record: 'nope'"
    )


# ------------------------------------------------------------------- data


def test_pipeline_kind_batch_size_files_and_shuffle_buffer() -> None:
    train = lower(
        config(train="""\
train:
  data_pipeline:
    TFRecordImagePipeline:
      batch_size: 32
      min_after_dequeue: 100
      allow_smaller_final_batch: false
      data_files: [train.tfrecord, ../more/x.tfrecord, /abs/y.tfrecord]
      meta_data_file: meta.json
"""),
        data_prefix="../data",
    ).train
    assert (train.section, train.kind, train.batch_size) == (
        "train",
        "TFRecordImagePipeline",
        32,
    )
    assert train.shuffle_buffer == 100 + 3 * 32
    assert train.drop_remainder is True
    assert train.data_files == (
        "../data/train.tfrecord",
        "../more/x.tfrecord",
        "/abs/y.tfrecord",
    )
    assert train.meta_data_file == "../data/meta.json"
    assert pipeline_features(train) == ("image",) == registry.PIPELINES[train.kind].features


def test_capacity_is_the_shuffle_buffer() -> None:
    train = lower(config(train=TRAIN + "      capacity: 77\n")).train
    assert train.shuffle_buffer == 77


def test_a_feature_processor_with_its_defaults_filled_in() -> None:
    train = lower(config(train=TRAIN + """\
      feature_processors:
        image:
          layers:
            - Cast: {dtype: float32}
            - Resize: {height: 8, width: 8, method: 1}
            - Normalization: {mean: 0.5, variance: 0.25}
""")).train
    (processor,) = train.processors
    assert (processor.feature, processor.func) == ("image", "process_image")
    assert [(op.kind, op.args, op.index) for op in processor.ops] == [
        ("Cast", (("dtype", "float32"),), 0),
        ("Resize", (("height", 8), ("method", "nearest"), ("width", 8)), 1),
        ("Normalization", (("mean", 0.5), ("stddev", 0.5)), 2),
    ]
    assert processor.ops[1].source == (
        "train.data_pipeline.TFRecordImagePipeline.feature_processors.image.layers[1].Resize"
    )
    assert processor.random is False


def test_train_and_eval_processors_named_apart_when_they_differ() -> None:
    def section(name: str, dtype: str) -> str:
        return (
            TRAIN.replace("train:", f"{name}:")
            + "      feature_processors:\n        image:\n"
            + f"          layers: [{{Cast: {{dtype: {dtype}}}}}]\n"
        )

    same = lower(config(section("eval", "float32"), train=section("train", "float32")))
    assert same.eval is not None
    assert same.train.processors[0].func == same.eval.processors[0].func
    assert same.train.processors[0].func == "process_image"
    differ = lower(
        config(section("eval", "float16"), train=section("train", "float32"))
    )
    assert differ.eval is not None
    assert differ.train.processors[0].func == "process_train_image"
    assert differ.eval.processors[0].func == "process_eval_image"


def test_numpy_pipeline_features_and_label() -> None:
    numpy = """\
train:
  data_pipeline:
    NumpyPipeline:
      data_files: [d.npz]
      features: [a, b]
      label: y
"""
    model = MODEL.replace("input_layers: image", "input_layers: [a, b]").replace(
        "        - Flatten\n", "        - Concatenate: {inbound_nodes: [a, b]}\n"
    )
    train = lower(config(train=numpy, model=model)).train
    assert pipeline_features(train) == ("a", "b")
    assert dict(train.options) == {"features": ["a", "b"], "label": "y"}
    assert codes(config(train=numpy.replace("label: y", "label: b"), model=model)) == [
        ("train.data_pipeline.NumpyPipeline.label", "conflict")
    ]


# ------------------------------------------------------------------ graph


def test_a_sequential_graph_reuses_x() -> None:
    graph = lower(
        config(
            model=layers(
                conv="Conv2D: {filters: 4, kernel_size: 3, padding: same}",
                flat="Flatten",
                dense="Dense: {units: 10}",
            ),
            # The images reach the model as uint8: the convolution takes floats.
            train=TRAIN
            + "      feature_processors: {image: {layers: [{Cast: {dtype: float32}}]}}\n",
        )
    ).model.graph
    assert graph.inputs == (ir.Input("image", "image"),)
    assert [(layer.var, layer.inputs) for layer in graph.layers] == [
        ("x", ("image",)),
        ("x", ("x",)),
        ("x", ("x",)),
    ]
    conv = graph.layers[0].call
    assert conv.func.qualname == "keras.layers.Conv2D"
    assert conv.kwargs == (
        ("filters", 4),
        ("kernel_size", 3),
        ("padding", "same"),
        ("name", "Conv2D_1"),  # the config's name of the layer, for Keras too
    )
    assert graph.outputs == ("x",)


def test_inbound_nodes_name_layers_and_default_names() -> None:
    graph = lower(
        config(
            model=layers(
                flat="Flatten: {name: flat}",
                a="Dense: {units: 8}",
                b="Dense: {units: 8, inbound_nodes: flat}",
                cat="Concatenate: {inbound_nodes: [Dense_1, Dense_2]}",
                out="Dense: {units: 10, name: out}",
            )
        )
    ).model.graph
    assert [(layer.var, layer.inputs) for layer in graph.layers] == [
        ("flat", ("image",)),
        ("dense_1", ("flat",)),
        ("dense_2", ("flat",)),
        ("concatenate_3", ("dense_1", "dense_2")),
        ("out", ("concatenate_3",)),
    ]
    # inbound_nodes is wiring; the layer is named as the config names it.
    assert graph.layers[2].call.kwargs == (("units", 8), ("name", "Dense_2"))
    assert [dict(layer.call.kwargs)["name"] for layer in graph.layers] == [
        "flat",
        "Dense_1",
        "Dense_2",
        "Concatenate_1",
        "out",
    ]
    assert graph.outputs == ("out",)


def test_nested_initializers_and_regularizers_are_calls() -> None:
    graph = lower(
        config(
            model=layers(
                flat="Flatten",
                dense=(
                    "Dense: {units: 10, kernel_initializer: {Constant: {value: 0.5}},"
                    " kernel_regularizer: {L2: {l: 0.01}}}"
                ),
            )
        )
    ).model.graph
    kwargs = dict(graph.layers[1].call.kwargs)
    assert kwargs["kernel_initializer"] == ir.Call(
        ir.Symbol("keras.initializers.Constant"), (("value", 0.5),)
    )
    assert kwargs["kernel_regularizer"] == ir.Call(
        ir.Symbol("keras.regularizers.L2"), (("l2", 0.01),)
    )


def test_graph_wiring_mistakes_are_located() -> None:
    found = errors(
        config(
            model=layers(
                flat="Flatten: {name: flat}",
                lost="Dense: {units: 3}",
                add="Add: {inbound_nodes: [flatt]}",
                out="Dense: {units: 10, name: out, inbound_nodes: flat}",
            )
        )
    )
    base = "model.classifier.graph.layers"
    assert [(d.path, d.code) for d in found] == [
        (f"{base}[2].Add", "merge-inputs"),
        (f"{base}[2].Add.inbound_nodes", "unknown-node"),
    ]
    assert found[1].hint == "did you mean 'flat'?"


def test_a_node_named_the_keras_way_is_told_the_config_name_of_that_layer() -> None:
    # Keras would name the second Dense `dense_1`; the config names it Dense_2.
    def model(node: str) -> str:
        return config(
            model=layers(
                flat="Flatten: {name: flat}",
                a="Dense: {units: 4}",
                b="Dense: {units: 4}",
                cat=f"Concatenate: {{inbound_nodes: [flat, {node}]}}",
                out="Dense: {units: 10}",
            )
        )

    found = errors(model("dense_1"))
    assert [d.code for d in found] == ["unknown-node"]
    assert found[0].hint is not None
    assert found[0].hint.startswith("did you mean 'Dense_2'? Keras would call that layer")
    # Following the hint wires the layer the user meant: the second Dense.
    graph = lower(model("Dense_2")).model.graph
    assert graph.layers[3].inputs == (graph.layers[0].var, graph.layers[2].var)


def test_a_name_that_is_another_layers_default_name_is_refused() -> None:
    # The second Dense is named like the first's default: Keras would see two Dense_1.
    found = errors(
        config(
            model=layers(
                a="Dense: {units: 8}",
                b="Dense: {units: 10, name: Dense_1}",
            )
        )
    )
    assert [(d.path, d.code) for d in found] == [
        ("model.classifier.graph.layers[1].Dense.name", "duplicate-name")
    ]


# ------------------------------------------------------------------ model


def test_loss_follows_the_labels() -> None:
    one_hot = lower(config()).model
    assert (one_hot.labels, one_hot.scores) == ("one_hot", "softmax")
    assert one_hot.loss == ir.Loss(
        "SoftmaxCrossEntropy",
        ir.Call(
            ir.Symbol("keras.losses.CategoricalCrossentropy"),
            (("from_logits", True), ("label_smoothing", 0.0), ("reduction", None)),
        ),
        1.0,
    )
    sparse = lower(config(model=MODEL.replace("one_hot_encode: true", "name: m"))).model
    assert (sparse.labels, sparse.name) == ("sparse", "m")
    assert sparse.loss.call == ir.Call(
        ir.Symbol("keras.losses.SparseCategoricalCrossentropy"),
        (("from_logits", True), ("reduction", None)),
    )


def test_optimizer_with_a_decay() -> None:
    optimizer = lower(config(model=MODEL + """\
    clip_gradients: 2.0
    optimizer:
      SGD:
        learning_rate: 0.1
        decay_type: exponential_decay
        decay_rate: 0.5
        decay_steps: 100
        staircase: true
""")).model.optimizer
    assert (optimizer.name, optimizer.learning_rate, optimizer.clipnorm) == (
        "SGD",
        0.1,
        2.0,
    )
    assert optimizer.call.func.qualname == "keras.optimizers.SGD"
    assert optimizer.call.kwargs[-1] == ("global_clipnorm", 2.0)
    decay = optimizer.decay
    assert decay is not None
    assert (decay.kind, decay.rate, decay.decay_steps) == (
        "exponential_decay",
        0.1,
        100,
    )
    assert (decay.decay_rate, decay.staircase) == (0.5, True)


def test_an_optimizer_leaves_out_keras_defaults_the_config_does_not_give() -> None:
    def kwargs(optimizer: str) -> dict[str, object]:
        model = MODEL + f"    optimizer: {optimizer}\n"
        kwargs = dict(lower(config(model=model)).model.optimizer.call.kwargs)
        assert kwargs.pop("global_clipnorm") == 0.5  # 2017's clip_gradients
        return kwargs

    # 2017's beta1 and beta2 are Keras' defaults; its epsilon (1e-08) is not.
    assert kwargs("Adam") == {"epsilon": 1e-08}
    assert kwargs("{Adam: {beta1: 0.9, beta2: 0.99}}") == {
        "beta_1": 0.9,
        "beta_2": 0.99,
        "epsilon": 1e-08,
    }
    assert kwargs("{Nestrov: {momentum: 0.0}}") == {"momentum": 0.0, "nesterov": True}
    assert kwargs("RMSProp") == {"epsilon": 1e-10}


def test_metrics_once_per_output() -> None:
    one = lower(config(model=MODEL + "    metrics: [Accuracy, AUC]\n")).model
    assert [m.key for m in one.metrics] == ["accuracy", "auc"]
    assert one.metrics[0].call == ir.Call(
        ir.Symbol("keras.metrics.CategoricalAccuracy"), (("name", "accuracy"),)
    )
    two_outputs = layers(
        flat="Flatten: {name: flat}",
        a="Dense: {units: 10, name: a, inbound_nodes: flat, is_output: true}",
        b="Dense: {units: 10, name: b, inbound_nodes: flat, is_output: true}",
    )
    model = lower(config(model=two_outputs + "    metrics: [Accuracy]\n")).model
    assert model.graph.outputs == ("b", "a")  # the last layer, then those marked
    assert [m.key for m in model.metrics] == ["b_accuracy", "a_accuracy"]
    second = model.metrics[1].call
    assert second.func == ir.Symbol("OutputMetric")
    assert dict(second.kwargs)["index"] == 1
    assert dict(second.kwargs)["metric"].kwargs == (("name", "a_accuracy"),)


def test_model_mistakes_are_located() -> None:
    model = MODEL.replace("units: 10", "units: 3") + (
        "    metrics: [Accuracy, Accuracy]\n"
        "    optimizer: {Adam: {decay_type: exponential_decay}}\n"
    )
    assert codes(config(model=model)) == [
        ("model.classifier.graph.layers[1].Dense.units", "output-units"),
        ("model.classifier.metrics[1]", "duplicate-metric"),
        ("model.classifier.optimizer.Adam.decay_type", "decay-rate"),
    ]


def test_a_new_loss_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lowering reads the entry: symbol, fixed, renamed arguments with defaults, scores."""
    entry = LossEntry(
        "A made-up loss.",
        {"weights": number(1.0, "w"), "alpha": number(0.25, "a")},
        symbol="keras.losses.CategoricalFocalCrossentropy",
        renames={"alpha": "alpha"},
        fixed={"from_logits": True},
        scores="softmax",
    )
    monkeypatch.setitem(registry.LOSSES, "Focal", entry)
    text = config(model=MODEL.replace("SoftmaxCrossEntropy", "Focal"))
    # Lowering alone: the committed schema does not know the name.
    experiment = lowering.lower(load_text(text, "t.yaml"), "t.yaml", "")
    assert isinstance(experiment, ir.Experiment)
    model = experiment.model
    assert model.loss == ir.Loss(
        "Focal",
        ir.Call(
            ir.Symbol("keras.losses.CategoricalFocalCrossentropy"),
            (("from_logits", True), ("alpha", 0.25), ("reduction", None)),
        ),
        1.0,
    )
    assert model.scores == "softmax"


def test_losses_check_their_labels_and_arguments() -> None:
    sparse = MODEL.replace("one_hot_encode: true", "name: m").replace(
        "loss: SoftmaxCrossEntropy",
        "loss: {SoftmaxCrossEntropy: {label_smoothing: 0.1}}",
    )
    found = errors(config(model=sparse))
    assert [(d.path, d.code, d.message) for d in found] == [
        (
            "model.classifier.loss.SoftmaxCrossEntropy.label_smoothing",
            "needs-one-hot",
            "label smoothing needs one-hot labels",
        )
    ]
    kl = MODEL.replace(
        "loss: SoftmaxCrossEntropy", "loss: {KullbackLeiberDivergence: {dim: 1}}"
    )
    (diagnostic,) = errors(config(model=kl))
    assert (diagnostic.code, diagnostic.hint) == ("unsupported-value", "use dim: -1")
    clipped = lower(
        config(
            model=MODEL.replace(
                "loss: SoftmaxCrossEntropy",
                "loss: {ClippedDeltaLoss: {clip_value_max: 2.0, weights: 3}}",
            )
        )
    ).model.loss
    assert clipped.weight == 3.0
    assert clipped.call == ir.Call(
        ir.Symbol("functools.partial"),
        (("clip_value_min", -1.0), ("clip_value_max", 2.0)),
        (ir.Symbol("clipped_delta_loss"),),
    )


def test_metrics_follow_the_label_kind() -> None:
    labels = "    n_classes: 10\n    one_hot_encode: true\n"
    binary = MODEL.replace(labels, "").replace("units: 10", "units: 1")
    binary = binary.replace("loss: SoftmaxCrossEntropy", "loss: SigmoidCrossEntropy")
    model = lower(config(model=binary + "    metrics: [MeanIOU, AUC]\n")).model
    assert [m.call for m in model.metrics] == [
        ir.Call(
            ir.Symbol("keras.metrics.BinaryIoU"),
            (("target_class_ids", [0, 1]), ("threshold", 0.5), ("name", "mean_iou")),
        ),
        ir.Call(
            ir.Symbol("keras.metrics.AUC"),
            (("num_thresholds", 200), ("curve", "ROC"), ("name", "auc")),
        ),
    ]
    sparse = MODEL.replace("one_hot_encode: true", "name: m")
    model = lower(config(model=sparse + "    metrics: [MeanIOU, Covariance]\n")).model
    assert model.metrics[0].call == ir.Call(
        ir.Symbol("keras.metrics.MeanIoU"),
        (("num_classes", 10), ("sparse_y_pred", False), ("name", "mean_iou")),
    )
    assert model.metrics[1].helper == "Comoments"
    regressor = MODEL.replace("classifier:", "regressor:").replace(
        "units: 10", "units: 1"
    )
    regressor = regressor.replace(labels, "")
    regressor = regressor.replace("loss: SoftmaxCrossEntropy", "loss: MeanSquaredError")
    text = config(
        model=regressor + "    metrics: [MeanIOU, {SparseRecallAtK: {k: 2}}]\n"
    )
    assert codes(text) == [
        ("model.regressor.metrics[0]", "needs-classifier"),
        ("model.regressor.metrics[1]", "needs-classifier"),
    ]


def test_a_model_of_values_refuses_every_metric_of_classes() -> None:
    regressor = MODEL.replace("classifier:", "regressor:").replace("units: 10", "units: 1")
    regressor = regressor.replace("    n_classes: 10\n    one_hot_encode: true\n", "")
    regressor = regressor.replace("loss: SoftmaxCrossEntropy", "loss: MeanSquaredError")
    for_values = [n for n, e in registry.METRICS.items() if not e.classes]
    assert {"MeanAbsoluteError", "RootMeanSquaredError", "PearsonCorrelation"} <= set(for_values)
    assert not {"Accuracy", "AUC", "Precision", "MeanIOU"} & set(for_values)
    listed = "".join(f"      - {n}\n" for n in ("Accuracy", "MeanAbsoluteError", "AUC"))
    found = errors(config(model=regressor + "    metrics:\n" + listed))
    assert [(d.path, d.code, d.message) for d in found] == [
        ("model.regressor.metrics[0]", "needs-classifier",
         "Accuracy needs class labels; this model predicts values"),
        ("model.regressor.metrics[2]", "needs-classifier",
         "AUC needs class labels; this model predicts values"),
    ]  # fmt: skip
    assert found[0].hint == (
        "use it under model.classifier, or a metric of values: " + ", ".join(for_values)
    )
    # As the hint says: a metric of values in its place validates.
    fixed = listed.replace("Accuracy", "RootMeanSquaredError").replace("AUC", "Mean")
    lower(config(model=regressor + "    metrics:\n" + fixed))


def test_a_generator_is_encoder_bridge_decoder() -> None:
    generator = """\
model:
  generator:
    encoder:
      input_layers: image
      layers:
        - Flatten
        - Dense: {units: 4}
    bridge: {LatentBridge: {latent_dim: 2}}
    decoder:
      layers:
        - Dense: {units: 64}
"""
    model = lower(config(model=generator)).model
    assert (model.kind, model.labels, model.target) == ("generator", "float", "image")
    assert model.bridge == ir.Bridge("LatentBridge", 2, 0.0, 1.0)
    assert [(layer.var, layer.inputs) for layer in model.graph.layers] == [
        ("x", ("image",)),
        ("x", ("x",)),
        ("latent", ("x",)),
        ("x", ("latent",)),  # a sequential decoder reuses x
    ]
    assert model.graph.layers[2].source == "model.generator.bridge.LatentBridge"
    assert model.graph.outputs == ("x",)
    assert model.loss.call.func.qualname == "keras.losses.MeanSquaredError"


def test_snake_case_names_metrics_as_keras_does() -> None:
    assert snake_case("TruePositives") == "true_positives"
    assert snake_case("AUC") == "auc"
    assert snake_case("MeanIOU") == "mean_iou"


# --------------------------------------------------------------------- RL


def test_dqn_lowers_to_an_agent() -> None:
    experiment = lower_document(load_text(DQN, "t.yaml"), "t.yaml", "")
    assert isinstance(experiment, RLExperiment)
    agent = experiment.agent
    assert (agent.kind, agent.name, agent.discount, agent.dueling) == (
        "dqn",
        "dqn_cartpole",
        0.99,
        None,
    )
    assert [layer.var for layer in agent.graph.layers] == ["x", "x"]
    assert agent.dense_stack is not None and len(agent.dense_stack) == 2
    assert agent.dense_stack[0].activation == "relu"
    assert agent.loss is not None
    assert agent.loss.call.func.qualname == "keras.losses.Huber"
    assert (agent.optimizer.learning_rate, agent.optimizer.clipnorm) == (0.0023, 10)
    exploration = agent.exploration
    assert exploration is not None and exploration.decay is not None
    assert (exploration.kind, exploration.decay.kind) == ("epsilon", "polynomial_decay")
    assert (exploration.decay.floor, exploration.decay.end) == (0.04, 0.04)
    assert (experiment.memory.kind, experiment.memory.batch_size) == ("replay", 64)
    assert experiment.env.env_id == "CartPole-v1"
    assert (experiment.first_update, experiment.eval_episodes) == (1000, 20)
    assert experiment.eval_every_steps == 1000  # train_steps // 50
    assert experiment.run_config.seed == 1


def test_rl_defaults_come_from_the_registry() -> None:
    trpo = """\
version: 1
project:
  name: trpo
model:
  trpo:
    graph:
      input_layers: state
      layers:
        - Dense: {units: 8}
train:
  train_steps: 1000
  env: {Gym: {env_id: CartPole-v1}}
  memory: {BatchMemory: {batch_size: 64}}
"""
    experiment = lower_document(load_text(trpo, "t.yaml"), "t.yaml", "")
    assert isinstance(experiment, RLExperiment)
    agent = experiment.agent
    entry = rl.PG_MODELS["trpo"]
    assert agent.params == tuple((k, entry.default(k)) for k in entry.params)
    assert (agent.discount, agent.target_update_frequency) == (0.97, None)
    assert (experiment.eval_episodes, experiment.keep_best) == (10, True)
    decay = DQN.replace("decay_steps: 8000}", "decay_steps: 8000, start_decay_at: 5}")
    explored = lower_document(load_text(decay, "t.yaml"), "t.yaml", "")
    assert isinstance(explored, RLExperiment) and explored.agent.exploration
    rate = explored.agent.exploration.decay
    assert rate is not None and (rate.window, rate.start, rate.stop) == (True, 5, 1e9)


def test_rl_mistakes_are_located() -> None:
    text = (
        DQN.replace("first_update: 1000", "first_update: 10")
        .replace("    tf_random_seed: 1\n", "    tf_random_seed: 1\n  replicas: 2\n")
        .replace(
            "- Dense: {units: 256, activation: relu}\n",
            "- Dense: {units: 4, name: value}\n",
            1,
        )
    )
    assert codes(text) == [
        ("environment.replicas", "not-for-model"),
        ("model.dqn.graph.layers[0].Dense.name", "duplicate-name"),
        ("train.first_update", "first-update"),
    ]


# ------------------------------------------------------- several mistakes


def test_several_mistakes_give_several_located_diagnostics() -> None:
    text = """\
version: 1
project:
  name: "..."
model:
  classifier:
    one_hot_encode: true
    graph:
      input_layers: picture
      layers:
        - Flatten
        - Dense: {units: 1}
train:
  data_pipeline:
    TFRecordImagePipeline:
      data_files: [train.tfrecord]
      meta_data_file: meta.json
"""
    found = errors(text)
    assert [(d.line, d.col, d.path, d.code) for d in found] == [
        (3, 9, "project.name", "bad-name"),
        (6, 5, "model.classifier.one_hot_encode", "missing-n-classes"),
        (8, 21, "model.classifier.graph.input_layers", "unknown-feature"),
    ]
    assert all(d.file == "t.yaml" for d in found)
    assert found[2].message == "the data pipeline provides no feature 'picture'"
    assert found[2].hint == "features: image"
