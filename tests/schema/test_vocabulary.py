"""Every loss, optimizer, decay and metric the schema accepts compiles to a script that trains.

The variants are compiled from a small MLP config and run in this process (one
TensorFlow import for all of them) for a couple of steps on the digits.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.schema import registry
from plxgen.compiler import compile_config
from tests.conftest import import_script, plxgen

tf = pytest.importorskip("tensorflow")

BASE: dict[str, Any] = {
    "version": 1,
    "project": {"name": "vocabulary"},
    "environment": {
        "run_config": {
            "tf_random_seed": 3,
            "save_summary_steps": 2,
            "save_checkpoints_steps": 2,
        }
    },
    "model": {
        "classifier": {
            "one_hot_encode": True,
            "n_classes": 10,
            "graph": {
                "input_layers": "image",
                "layers": [
                    {"Flatten": None},
                    {"Dense": {"units": 16, "activation": "relu"}},
                    {"Dense": {"units": 10}},
                ],
            },
        }
    },
    "train": {
        "train_steps": 2,
        "data_pipeline": {
            "TFRecordImagePipeline": {
                "batch_size": 16,
                "data_files": ["data/digits_train.tfrecord"],
                "meta_data_file": "data/meta_data.json",
                "feature_processors": {
                    "image": {
                        "layers": [
                            {"Cast": {"dtype": "float32"}},
                            {"Standardization": None},
                        ]
                    }
                },
            }
        },
    },
    "eval": {
        "steps": 2,
        "data_pipeline": {
            "TFRecordImagePipeline": {
                "batch_size": 16,
                "shuffle": False,
                "data_files": ["data/digits_eval.tfrecord"],
                "meta_data_file": "data/meta_data.json",
            }
        },
    },
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vocabulary")
    plxgen("data", "digits", "-o", root / "data", check=True)
    return root


def variant(**changes: Any) -> dict[str, Any]:
    """The base config with model fields replaced (a `kind` key switches classifier/regressor)."""
    config = json.loads(json.dumps(BASE))
    kind = changes.pop("kind", "classifier")
    model = config["model"].pop("classifier")
    if kind == "regressor":
        model.pop("one_hot_encode")
        model.pop("n_classes")
        model["graph"]["layers"][-1] = {"Dense": {"units": 1}}
    elif kind == "sparse":
        model.pop("one_hot_encode")
        kind = "classifier"
    elif kind == "binary":
        model.pop("one_hot_encode")
        model.pop("n_classes")
        model["graph"]["layers"][-1] = {"Dense": {"units": 1}}
        kind = "classifier"
    model.update(changes)
    config["model"][kind] = model
    return config


def compile_and_load(folder: Path, name: str, config: dict[str, Any]) -> Any:
    """Compile a config into folder/name.py and import it as a module."""
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    script = folder / f"{name}.py"
    script.write_text(compile_config(path, script, []))
    return import_script(script)


def train(folder: Path, name: str, config: dict[str, Any]) -> dict[str, Any]:
    """Compile, run train_and_evaluate for two steps in this process, return metrics.json."""
    module = compile_and_load(folder, name, config)
    model_dir = folder / "runs" / name
    assert module.main(["--model-dir", str(model_dir)]) == 0
    report: dict[str, Any] = json.loads((model_dir / "metrics.json").read_text())
    assert report["global_step"] == 2
    for section in ("train", "eval"):
        assert all(math.isfinite(v) for v in report[section].values()), report
    return report


LOSS_CASES = [
    ("AbsoluteDifference", "classifier"),
    ("MeanSquaredError", "classifier"),
    ("LogLoss", "binary"),
    ("HuberLoss", "regressor"),
    ("ClippedDeltaLoss", "regressor"),
    ("SoftmaxCrossEntropy", "classifier"),
    ("SoftmaxCrossEntropy", "sparse"),
    ("SigmoidCrossEntropy", "classifier"),
    ("SigmoidCrossEntropy", "binary"),
    ("HingeLoss", "binary"),
    ("CosineDistance", "classifier"),
    ("PoissonLoss", "regressor"),
    ("KullbackLeiberDivergence", "classifier"),
]


def test_loss_cases_cover_the_table() -> None:
    assert {name for name, _ in LOSS_CASES} == set(registry.LOSSES)


@pytest.mark.parametrize(
    ("loss", "kind"), LOSS_CASES, ids=[f"{l}-{k}" for l, k in LOSS_CASES]
)
def test_every_loss_trains(folder: Path, loss: str, kind: str) -> None:
    loss_args = {"weights": 2.0} if loss == "MeanSquaredError" else None
    config = variant(kind=kind, loss={loss: loss_args})
    if loss == "LogLoss":  # probabilities in, as tf.losses.log_loss took them
        config["model"]["classifier"]["graph"]["layers"][-1]["Dense"][
            "activation"
        ] = "sigmoid"
    if loss == "PoissonLoss":
        config["model"]["regressor"]["graph"]["layers"][-1]["Dense"][
            "activation"
        ] = "softplus"
    train(folder, f"loss_{loss}_{kind}", config)


@pytest.mark.parametrize("optimizer", sorted(registry.OPTIMIZERS))
def test_every_optimizer_trains(folder: Path, optimizer: str) -> None:
    train(
        folder,
        f"opt_{optimizer}",
        variant(loss={"SoftmaxCrossEntropy": None}, optimizer={optimizer: None}),
    )


METRIC_CASES: dict[str, list[Any]] = {
    "classifier": [
        "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives", "Mean", "Accuracy", "Precision",
        "Recall", "AUC", {"SpecificityAtSensitivity": {"sensitivity": 0.5}},
        {"SensitivityAtSpecificity": {"specificity": 0.5}}, {"PrecisionAtThresholds": {"thresholds": [0.3, 0.7]}},
        {"RecallAtThresholds": {"thresholds": 0.5}}, {"SparseRecallAtK": {"k": 3}}, {"SparsePrecisionAtK": {"k": 3}},
        "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError", "MeanCosineDistance",
        {"PercentageLess": {"threshold": 0.5}}, "MeanIOU",
    ],
    "sparse": ["Accuracy", {"SparseRecallAtK": {"k": 2}}, {"SparsePrecisionAtK": {"k": 2}}, "MeanIOU"],
    "binary": ["Accuracy", "AUC", "Precision", "MeanIOU"],
    "regressor": [
        "MeanAbsoluteError", {"MeanRelativeError": {"normalizer": 9.0}}, "MeanSquaredError",
        "RootMeanSquaredError", "Covariance", "PearsonCorrelation", {"PercentageLess": {"threshold": 4.5}}, "Mean",
    ],
}  # fmt: skip


def test_metric_cases_cover_the_table() -> None:
    names = {
        m if isinstance(m, str) else next(iter(m))
        for ms in METRIC_CASES.values()
        for m in ms
    }
    assert names == set(registry.METRICS)


@pytest.mark.parametrize("kind", sorted(METRIC_CASES))
def test_every_metric_is_reported(folder: Path, kind: str) -> None:
    loss = {"SoftmaxCrossEntropy": None} if kind in ("classifier", "sparse") else None
    config = variant(
        kind=kind, metrics=METRIC_CASES[kind], **({"loss": loss} if loss else {})
    )
    report = train(folder, f"metrics_{kind}", config)
    assert len(report["eval"]) == 1 + sum(
        (
            len(m["PrecisionAtThresholds"]["thresholds"])
            if isinstance(m, dict) and "PrecisionAtThresholds" in m
            else 1
        )
        for m in METRIC_CASES[kind]
    )


def reference_decay(args: dict[str, Any], step: float) -> float:
    """tf.train's 2017 decay as polyaxon applied it, in plain Python."""
    lr, kind = args["learning_rate"], args["decay_type"]
    start, stop = args.get("start_decay_at", 0), args.get("stop_decay_at", 1e10)
    steps, rate = args.get("decay_steps", 10000), args.get("decay_rate", 0.0)
    x = min(step, stop) - start
    p = x / steps
    if args.get("staircase"):
        p = math.floor(p)
    if kind == "exponential_decay":
        decayed = lr * rate**p
    elif kind == "inverse_time_decay":
        decayed = lr / (1 + rate * p)
    elif kind == "natural_exp_decay":
        decayed = lr * math.exp(-rate * p)
    elif kind == "polynomial_decay":
        end, power = args.get("end_learning_rate", 0.0001), args.get("power", 1.0)
        decayed = (lr - end) * (1 - min(x, steps) / steps) ** power + end
    else:
        boundaries, values = args["boundaries"], args["values"]
        decayed = values[sum(1 for b in boundaries if x > b)]
    final = lr if step < start else decayed
    return max(final, args.get("min_learning_rate", 1e-12))


DECAYS = [
    {"decay_type": "exponential_decay", "decay_rate": 0.5, "decay_steps": 10},
    {
        "decay_type": "exponential_decay",
        "decay_rate": 0.5,
        "decay_steps": 10,
        "staircase": True,
        "start_decay_at": 5,
    },
    {
        "decay_type": "inverse_time_decay",
        "decay_rate": 0.3,
        "decay_steps": 7,
        "stop_decay_at": 40,
    },
    {
        "decay_type": "natural_exp_decay",
        "decay_rate": 0.2,
        "decay_steps": 5,
        "min_learning_rate": 0.004,
    },
    {
        "decay_type": "polynomial_decay",
        "decay_steps": 30,
        "end_learning_rate": 0.001,
        "power": 2.0,
    },
    {
        "decay_type": "piecewise_constant",
        "boundaries": [10, 20],
        "values": [0.1, 0.05, 0.01],
    },
]


@pytest.mark.parametrize(
    "decay", DECAYS, ids=[f"{d['decay_type']}-{i}" for i, d in enumerate(DECAYS)]
)
def test_learning_rate_decay_follows_the_2017_formulas(
    folder: Path, decay: dict[str, Any]
) -> None:
    args = {"learning_rate": 0.1, **decay}
    name = f"decay_{decay['decay_type']}_{DECAYS.index(decay)}"
    module = compile_and_load(folder, name, variant(optimizer={"SGD": args}))
    schedule = module.build_optimizer()._learning_rate  # Keras' schedule or the script's
    for step in (0, 1, 4, 5, 6, 10, 11, 15, 20, 21, 29, 30, 45, 100):
        assert float(schedule(step)) == pytest.approx(
            reference_decay(args, step), rel=1e-5
        ), step


def test_bare_names_mean_the_defaults(folder: Path) -> None:
    """`loss: SoftmaxCrossEntropy`, `- Flatten`, `- Accuracy` stand for `Name: {}`."""
    config = variant(
        loss="SoftmaxCrossEntropy", optimizer="RMSProp", metrics=["Accuracy", "AUC"]
    )
    model = config["model"]["classifier"]
    model["graph"]["layers"][0] = "Flatten"
    processors = config["train"]["data_pipeline"]["TFRecordImagePipeline"][
        "feature_processors"
    ]
    processors["image"]["layers"][1] = "Standardization"
    report = train(folder, "bare_names", config)
    assert set(report["eval"]) == {"loss", "accuracy", "auc"}
