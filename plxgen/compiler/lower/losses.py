"""How a model is scored: the 2017 loss as a per-example Keras loss, and each
2017 metric as one or more Keras metrics, both as their registry entries say."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import Path
from plxgen.compiler.lower.context import Context, snake_case
from plxgen.schema import registry
from plxgen.schema.registry.metrics import MetricEntry

# Scalars the scripts write beside the loss and metrics: a loss may not take their names.
_SCALARS = ("learning_rate", "exploration_rate")
# Bound on what one config may ask for (each metric is a few lines that black formats).
MAX_METRICS = 100


def lower_loss(
    ctx: Context, name: str, args: dict[str, Any], path: Path, labels: str
) -> ir.Loss:
    """The 2017 loss as a per-example Keras loss, reported under its 2017 `name`."""
    loss = _lower_loss(ctx, name, args, path, labels)
    key = args.get("name") or loss.key  # plxgen.schema.legacy
    if key in _SCALARS:
        ctx.fail(path + ("name",), f"{key!r} is the name of another scalar of the script",
                 "reserved-name", f"name the loss otherwise, e.g. {snake_case(name)}")  # fmt: skip
    return replace(loss, key=key)


def _lower_loss(
    ctx: Context, name: str, args: dict[str, Any], path: Path, labels: str
) -> ir.Loss:
    entry = registry.LOSSES[name]
    values = entry.complete(args)
    if labels not in entry.labels:
        if labels == "sparse":
            sparse = [n for n, e in registry.LOSSES.items() if "sparse" in e.labels]
            ctx.fail(
                path,
                f"{name} compares outputs with one-hot labels",
                "needs-one-hot",
                "set one_hot_encode: true, or use " + " or ".join(sparse),
                key=True,
            )
        elif labels == "float":  # a regressor, a generator, an agent: no classes to set
            for_values = ", ".join(n for n, e in registry.LOSSES.items() if labels in e.labels)
            ctx.fail(path, f"{name} needs class labels; this model predicts values", "needs-classifier",
                     f"use it under model.classifier, or a loss of values: {for_values}", key=True)  # fmt: skip
        else:
            ctx.fail(path, f"{name} needs n_classes", "needs-n-classes",
                     "set the model's n_classes, e.g. n_classes: 10", key=True)  # fmt: skip
    variant = entry.by_labels.get(labels)
    # The sparse variant leaves out what only one-hot labels allow (label smoothing).
    left_out = [a for a in entry.renames if variant and a not in variant.renames]
    for arg in left_out:
        if values[arg] != entry.default(arg):
            ctx.fail(
                path + (arg,),
                f"{arg.replace('_', ' ')} needs one-hot labels",
                "needs-one-hot",
                "set one_hot_encode: true",
            )
    for arg, why in entry.unsupported.items():
        if values[arg] != entry.default(arg):
            ctx.fail(
                path + (arg,),
                why,
                "unsupported-value",
                f"use {arg}: {entry.default(arg)}",
            )
    weight = float(values["weights"])
    if entry.uses_function(values):  # the script's own function, bound to its arguments
        assert entry.function is not None, name
        helper = ir.Symbol(entry.function)
        call = ir.Call(
            ir.Symbol("functools.partial"), tuple(entry.call_kwargs(values)), (helper,)
        )
        return ir.Loss(name, call, weight)
    keras = entry.variant(labels)
    assert keras is not None, name
    # `fixed` first (from_logits), and per example: the script weighs and averages it.
    renamed = [(kw, values[arg]) for arg, kw in keras.renames.items()]
    kwargs = (*keras.fixed.items(), *renamed, ("reduction", None))
    call = ir.Call(ir.Symbol(keras.symbol), kwargs)
    return ir.Loss(name, call, weight)


def lower_metric(
    ctx: Context,
    name: str,
    args: dict[str, Any],
    path: Path,
    labels: str,
    n_classes: int | None,
) -> list[ir.Metric]:
    """One 2017 metric as one or more Keras metrics."""
    metrics = _lower_metric(ctx, name, args, path, labels, n_classes)
    weight = args.get("weights", 1)  # 2017's scalar weights (plxgen.schema.legacy)
    if weight == 1:
        return metrics
    return [_weighted(metric, float(weight)) for metric in metrics]


def _weighted(metric: ir.Metric, weight: float) -> ir.Metric:
    """A metric whose every example weighs `weight`, as tf.metrics weighed them."""
    call = ir.Call(
        ir.Symbol("WeightedMetric"),
        (("metric", metric.call), ("weight", weight), ("name", metric.key)),
    )
    return ir.Metric(metric.key, call, metric.helper)


def _lower_metric(
    ctx: Context,
    name: str,
    args: dict[str, Any],
    path: Path,
    labels: str,
    n_classes: int | None,
) -> list[ir.Metric]:
    entry = registry.METRICS[name]
    key = args.get("name") or snake_case(name)  # 2017's `name` (plxgen.schema.legacy)
    if labels == "float" and entry.classes:
        for_values = ", ".join(n for n, e in registry.METRICS.items() if not e.classes)
        ctx.fail(path, f"{name} needs class labels; this model predicts values",
                 "needs-classifier",
                 f"use it under model.classifier, or a metric of values: {for_values}")  # fmt: skip
        return []
    if labels not in entry.labels:
        _wrong_labels(ctx, name, entry, labels, path)
    values = entry.complete(args)
    for arg in entry.nonzero:
        if values[arg] == 0:
            ctx.fail(path, f"the {arg} must not be 0", f"zero-{arg}",
                     f"give a {arg} other than 0, or leave it out for its default")  # fmt: skip
    if "num_classes" in values and values["num_classes"] is None:
        values["num_classes"] = (
            n_classes  # the model's, unless the metric names its own
        )
    if args.get("class_id") is not None:  # 2017's class_id (plxgen.schema.legacy)
        return _per_class(ctx, entry, values, args["class_id"], path, labels, n_classes, key)
    if entry.per_threshold:
        assert entry.symbol is not None, name
        return _per_threshold(entry.symbol, values["thresholds"])
    if entry.function:  # the script's own per-example function, averaged
        call = ir.Call(
            ir.Symbol("keras.metrics.MeanMetricWrapper"),
            (
                ("fn", ir.Symbol(entry.function)),
                *entry.call_kwargs(values),
                ("name", key),
            ),
        )
        return [ir.Metric(key, call, entry.function)]
    keras = entry.variant(labels)
    if keras is None:
        return []  # no metric for these labels (reported above)
    call = ir.Call(ir.Symbol(keras.symbol), (*keras.call_kwargs(values), ("name", key)))
    # A symbol without a dot is a class of the script (Comoments).
    return [ir.Metric(key, call, None if "." in keras.symbol else keras.symbol)]


def _per_class(
    ctx: Context,
    entry: MetricEntry,
    values: dict[str, Any],
    class_id: int,
    path: Path,
    labels: str,
    n_classes: int | None,
    key: str,
) -> list[ir.Metric]:
    """SparsePrecisionAtK / SparseRecallAtK of one class: Keras' Precision or
    Recall of the top k scores, sliced to that class (one-hot labels)."""
    assert entry.per_class is not None
    if n_classes is not None and class_id >= n_classes:
        ctx.fail(path + ("class_id",), f"class_id {class_id} is not a class of {n_classes}",
                 "out-of-range", f"give a class from 0 to {n_classes - 1}")  # fmt: skip
    if labels != "one_hot":
        ctx.fail(path + ("class_id",), "a metric of one class compares one-hot labels",
                 "needs-one-hot", "set one_hot_encode: true")  # fmt: skip
    kwargs = (("top_k", values["k"]), ("class_id", class_id), ("name", key))
    return [ir.Metric(key, ir.Call(ir.Symbol(entry.per_class), kwargs), None)]


def _wrong_labels(
    ctx: Context, name: str, entry: MetricEntry, labels: str, path: Path
) -> None:
    """A classifier's metric given class labels it cannot compare scores with."""
    if labels == "sparse":
        ctx.fail(
            path,
            f"{name} compares scores with one-hot labels",
            "needs-one-hot",
            "set one_hot_encode: true",
        )
    else:  # binary labels: a classifier without n_classes
        ctx.fail(path, f"{name} needs a classifier with n_classes", "needs-n-classes",
                 "set the model's n_classes, e.g. n_classes: 10")  # fmt: skip


def _per_threshold(symbol: str, thresholds: Any) -> list[ir.Metric]:
    """PrecisionAtThresholds / RecallAtThresholds: one metric a threshold."""
    thresholds = [thresholds] if not isinstance(thresholds, list) else thresholds
    prefix = symbol.rsplit(".", 1)[-1].lower()
    out = []
    for t in thresholds[: MAX_METRICS + 1]:
        mkey = f"{prefix}_at_{t:g}"
        out.append(
            ir.Metric(
                mkey,
                ir.Call(ir.Symbol(symbol), (("thresholds", t), ("name", mkey))),
                None,
            )
        )
    return out
