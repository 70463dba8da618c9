"""How a model is scored: the 2017 loss as a per-example Keras loss, and each
2017 metric as one or more Keras metrics."""

from __future__ import annotations

from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import Path
from plxgen.compiler.lower.context import Context, snake_case

# Bound on what one config may ask for (each metric is a few lines that black formats).
MAX_METRICS = 100
_THRESHOLD_METRICS = {
    "TruePositives",
    "TrueNegatives",
    "FalsePositives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "SpecificityAtSensitivity",
    "SensitivityAtSpecificity",
    "PrecisionAtThresholds",
    "RecallAtThresholds",
}
# Metrics that are one Keras metric of the same name, without arguments.
_SIMPLE_METRICS = {
    "TruePositives",
    "TrueNegatives",
    "FalsePositives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "RootMeanSquaredError",
}
# Losses that are one Keras loss without arguments.
_KERAS_LOSSES = {
    "AbsoluteDifference": "MeanAbsoluteError",
    "MeanSquaredError": "MeanSquaredError",
    "HingeLoss": "Hinge",
    "PoissonLoss": "Poisson",
}


def lower_loss(
    ctx: Context, name: str, args: dict[str, Any], path: Path, labels: str
) -> ir.Loss:
    """The 2017 loss as a per-example Keras loss."""
    weight = args.pop("weights", 1.0)
    none: tuple[tuple[str, Any], ...] = (("reduction", None),)
    if labels == "sparse" and name != "SoftmaxCrossEntropy":
        ctx.fail(
            path,
            f"{name} compares outputs with one-hot labels",
            "needs-one-hot",
            "set one_hot_encode: true, or use SoftmaxCrossEntropy",
            key=True,
        )
    smoothing = args.get("label_smoothing", 0.0)
    if name == "SoftmaxCrossEntropy":
        if labels in ("binary", "float"):
            ctx.fail(
                path,
                "SoftmaxCrossEntropy needs n_classes",
                "needs-n-classes",
                key=True,
            )
        if labels == "sparse":
            if smoothing:
                ctx.fail(
                    path + ("label_smoothing",),
                    "label smoothing needs one-hot labels",
                    "needs-one-hot",
                    "set one_hot_encode: true",
                )
            call = ir.Call(
                ir.Symbol("keras.losses.SparseCategoricalCrossentropy"),
                (("from_logits", True), *none),
            )
        else:
            call = ir.Call(
                ir.Symbol("keras.losses.CategoricalCrossentropy"),
                (("from_logits", True), ("label_smoothing", smoothing), *none),
            )
    elif name == "SigmoidCrossEntropy":
        call = ir.Call(
            ir.Symbol("keras.losses.BinaryCrossentropy"),
            (("from_logits", True), ("label_smoothing", smoothing), *none),
        )
    elif name == "LogLoss":
        call = ir.Call(
            ir.Symbol("keras.losses.BinaryCrossentropy"),
            (("from_logits", False), *none),
        )
    elif name == "HuberLoss":
        call = ir.Call(
            ir.Symbol("keras.losses.Huber"),
            (("delta", args.get("clip", 1.0)), *none),
        )
    elif name == "ClippedDeltaLoss":
        call = ir.Call(
            ir.Symbol("functools.partial"),
            (
                ("clip_value_min", args.get("clip_value_min", -1.0)),
                ("clip_value_max", args.get("clip_value_max", 1.0)),
            ),
            (ir.Symbol("clipped_delta_loss"),),
        )
    elif name == "CosineDistance":
        call = ir.Call(
            ir.Symbol("functools.partial"),
            (("axis", args.get("dim", -1)),),
            (ir.Symbol("cosine_distance"),),
        )
    elif name == "KullbackLeiberDivergence":
        if args.get("dim", -1) != -1:
            ctx.fail(
                path + ("dim",),
                "Keras takes the divergence along the last axis only",
                "unsupported-value",
                "use dim: -1",
            )
        call = ir.Call(ir.Symbol("keras.losses.KLDivergence"), none)
    else:
        call = ir.Call(ir.Symbol(f"keras.losses.{_KERAS_LOSSES[name]}"), none)
    return ir.Loss(name, call, float(weight))


def lower_metric(
    ctx: Context,
    name: str,
    args: dict[str, Any],
    path: Path,
    labels: str,
    n_classes: int | None,
) -> list[ir.Metric]:
    """One 2017 metric as one or more Keras metrics."""
    key = snake_case(name)
    if name in _THRESHOLD_METRICS and labels == "sparse":
        ctx.fail(
            path,
            f"{name} compares scores with one-hot labels",
            "needs-one-hot",
            "set one_hot_encode: true",
        )
    classes_only = {"SparseRecallAtK", "SparsePrecisionAtK", "MeanIOU"}
    if name in classes_only and labels in ("binary", "float") and name != "MeanIOU":
        ctx.fail(path, f"{name} needs a classifier with n_classes", "needs-n-classes")

    def keras(symbol: str, **kwargs: Any) -> ir.Metric:
        return ir.Metric(
            key,
            ir.Call(
                ir.Symbol(f"keras.metrics.{symbol}"),
                (*kwargs.items(), ("name", key)),
            ),
            None,
        )

    def helper(function: str, **kwargs: Any) -> ir.Metric:
        call = ir.Call(
            ir.Symbol("keras.metrics.MeanMetricWrapper"),
            (("fn", ir.Symbol(function)), *kwargs.items(), ("name", key)),
        )
        return ir.Metric(key, call, function)

    if name in _SIMPLE_METRICS:
        return [keras(name)]
    if name == "Accuracy":
        symbol = {
            "one_hot": "CategoricalAccuracy",
            "sparse": "SparseCategoricalAccuracy",
        }.get(labels)
        if symbol:
            return [keras(symbol)]
        return (
            [keras("BinaryAccuracy", threshold=0.5)]
            if labels == "binary"
            else [keras("Accuracy")]
        )
    if name == "AUC":
        return [
            keras(
                "AUC",
                num_thresholds=args.get("num_thresholds", 200),
                curve=args.get("curve", "ROC"),
            )
        ]
    if name in ("SpecificityAtSensitivity", "SensitivityAtSpecificity"):
        value = args.get("sensitivity", args.get("specificity"))
        arg = "sensitivity" if name == "SpecificityAtSensitivity" else "specificity"
        return [
            keras(
                name,
                **{arg: value, "num_thresholds": args.get("num_thresholds", 200)},
            )
        ]
    if name in ("PrecisionAtThresholds", "RecallAtThresholds"):
        return _at_thresholds(name, args["thresholds"])
    if name == "SparseRecallAtK":
        symbol = (
            "TopKCategoricalAccuracy"
            if labels == "one_hot"
            else "SparseTopKCategoricalAccuracy"
        )
        return [keras(symbol, k=args["k"])]
    if name == "SparsePrecisionAtK":
        return [helper("sparse_precision_at_k", k=args["k"])]
    if name == "MeanIOU":
        num = args.get("num_classes") or n_classes
        if labels == "one_hot":
            return [keras("OneHotMeanIoU", num_classes=num)]
        if labels == "sparse":
            return [keras("MeanIoU", num_classes=num, sparse_y_pred=False)]
        if labels == "binary":
            return [keras("BinaryIoU", target_class_ids=[0, 1], threshold=0.5)]
        ctx.fail(path, "MeanIOU needs a classifier", "needs-classifier")
        return []
    if name == "Mean":
        return [helper("mean_prediction")]
    if name == "PercentageLess":
        return [helper("percentage_less", threshold=args["threshold"])]
    if name == "MeanRelativeError":
        if args["normalizer"] == 0:
            ctx.fail(path, "the normalizer must not be 0", "zero-normalizer")
        return [helper("relative_error", normalizer=args["normalizer"])]
    if name == "MeanCosineDistance":
        return [helper("cosine_distance", axis=args.get("dim", -1))]
    # Covariance, PearsonCorrelation: streaming moments of predictions and labels.
    call = ir.Call(
        ir.Symbol("Comoments"),
        (("correlation", name == "PearsonCorrelation"), ("name", key)),
    )
    return [ir.Metric(key, call, "Comoments")]


def _at_thresholds(name: str, thresholds: Any) -> list[ir.Metric]:
    """PrecisionAtThresholds / RecallAtThresholds: one metric a threshold."""
    thresholds = [thresholds] if not isinstance(thresholds, list) else thresholds
    symbol = name.replace("AtThresholds", "")
    out = []
    for t in thresholds[: MAX_METRICS + 1]:
        mkey = f"{symbol.lower()}_at_{t:g}"
        out.append(
            ir.Metric(
                mkey,
                ir.Call(
                    ir.Symbol(f"keras.metrics.{symbol}"),
                    (("thresholds", t), ("name", mkey)),
                ),
                None,
            )
        )
    return out
