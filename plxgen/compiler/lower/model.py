"""The model: its kind (classifier, regressor, generator), labels, graph,
loss and metrics (once per output when there are several), and its optimizer
with the 2017 learning-rate decay."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import Path, format_path, show
from plxgen.compiler.lower.context import Context, one, or_default, parse_source
from plxgen.compiler.lower.graph import lower_graph
from plxgen.compiler.lower.losses import MAX_METRICS, lower_loss, lower_metric
from plxgen.schema import registry
from plxgen.schema.sections.model import BRIDGES, kind_fields

_UNSET = object()

# Layers that only move values: a uint8 input stays uint8 through them.
_MOVES_VALUES = {
    "keras.layers.Flatten",
    "keras.layers.Reshape",
    "keras.layers.Permute",
    "keras.layers.Cropping1D",
    "keras.layers.Cropping2D",
    "keras.layers.Cropping3D",
}


def _needs_floats(qualname: str) -> bool:
    """Whether a Keras layer fails on uint8 inputs (measured, Keras 3.15).

    Convolutions and the layers that add noise call TensorFlow ops that take
    floats only; the others (Dense, the recurrent, pooling and normalization
    layers) promote uint8 to float32 themselves.
    """
    name = qualname.rsplit(".", 1)[-1]
    return qualname.startswith("keras.layers.") and (
        "Conv" in name or name.endswith(("Dropout", "Noise"))
    )


def uint8_features(*pipelines: ir.Pipeline | None) -> frozenset[str]:
    """The features that reach the model as uint8: images decoded from records
    that no processor turns into another dtype."""
    found = set()
    for pipe in pipelines:
        if pipe is None or not (pipe.images and pipe.records):
            continue
        for feature in pipe.features or ():
            dtype = "uint8"
            for processor in pipe.processors:
                for op in processor.ops if processor.feature == feature else ():
                    args = dict(op.args)
                    if "dtype" in args:
                        dtype = str(args["dtype"])
                    elif not registry.FEATURE_PROCESSORS[op.kind].keeps_dtype:
                        dtype = "float32"
            if dtype == "uint8":
                found.add(feature)
    return frozenset(found)


def _check_dtypes(ctx: Context, graph: ir.Graph, uint8: frozenset[str]) -> None:
    """A layer that computes on the uint8 images of a pipeline without a Cast."""
    feature_of = {i.var: i.feature for i in graph.inputs if i.feature in uint8}
    for layer in graph.layers:
        fed = [feature_of[v] for v in layer.inputs if v in feature_of]
        feature_of.pop(layer.var, None)  # its output, unless it only moves values
        if not fed:
            continue
        qualname = layer.call.func.qualname
        if qualname in _MOVES_VALUES:
            feature_of[layer.var] = fed[0]
        elif _needs_floats(qualname):
            ctx.fail(
                parse_source(layer.source),
                f"this layer computes on the uint8 images of feature {fed[0]!r}; it needs floats",
                "uint8-input",
                f"add `Cast: {{dtype: float32}}` to the pipeline's feature_processors of {fed[0]!r}",
                key=True,
            )


def lower_model(
    ctx: Context,
    kind: str,
    spec: dict[str, Any],
    path: Path,
    features: tuple[str, ...] | None,
    project: str,
    uint8: frozenset[str] = frozenset(),
) -> ir.Model:
    """model.classifier / model.regressor / model.generator.

    `uint8`: the features that reach the model as uint8 images.
    """
    fields = kind_fields(kind)
    n_classes = spec.get("n_classes")
    if kind == "classifier":
        one_hot = or_default(spec, fields, "one_hot_encode")
        if one_hot and n_classes is None:
            ctx.fail(
                path + ("one_hot_encode",),
                "one_hot_encode needs n_classes",
                "missing-n-classes",
                "add n_classes: N",
                key=True,
            )
        labels = "one_hot" if one_hot else ("sparse" if n_classes else "binary")
    else:
        labels = "float"
    bridge: ir.Bridge | None = None
    target: str | None = None
    if kind == "generator":
        graph, bridge, target = _generator(ctx, spec, path, features, fields)
    else:
        graph = lower_graph(ctx, spec["graph"], path + ("graph",), features)
        _check_output_units(ctx, graph, labels, n_classes)
    _check_dtypes(ctx, graph, uint8)
    loss_name, loss_args = one(
        spec.get("loss") or registry.schema_default(fields, "loss")
    )
    loss_path = path + ("loss", loss_name)
    loss = lower_loss(ctx, loss_name, loss_args, loss_path, labels)
    loss = replace(loss, output=routed(ctx, graph, loss_args, loss_path))
    metrics = _metrics(ctx, spec, path, labels, n_classes, graph, loss.key)
    summaries = spec.get("summaries") or []
    wanted = registry.SUMMARIES if summaries == "all" else tuple(summaries)
    clip_embed = float(or_default(spec, fields, "clip_embed_gradients"))
    if not any(
        layer.call.func.qualname == "keras.layers.Embedding" for layer in graph.layers
    ):
        clip_embed = 0.0  # nothing to clip: no code for it
    optimizer = lower_model_optimizer(ctx, spec, path, fields, bool(clip_embed))
    return ir.Model(
        kind=kind,
        # A Keras model name is a TensorFlow root scope: no leading `_` or `-`.
        name=spec.get("name") or project.lstrip("_-") or "model",
        graph=graph,
        loss=loss,
        optimizer=optimizer,
        metrics=metrics,
        labels=labels,
        n_classes=n_classes,
        scores=registry.LOSSES[loss_name].scores,
        bridge=bridge,
        target=target,
        summaries=tuple(k for k in wanted if k not in ("loss", "learning_rate")),
        clip_embed=clip_embed,
    )


def _metrics(
    ctx: Context,
    spec: dict[str, Any],
    path: Path,
    labels: str,
    n_classes: int | None,
    graph: ir.Graph,
    loss_key: str = "loss",
) -> tuple[ir.Metric, ...]:
    """model.metrics, each once per output (or of the one it names), none listed
    twice, at most MAX_METRICS."""
    metrics: list[ir.Metric] = []
    keys: set[str] = set()
    for i, item in enumerate(spec.get("metrics") or []):
        name, args = one(item)
        mpath = path + ("metrics", i, name)
        output = routed(ctx, graph, args, mpath)
        for metric in _per_output(
            lower_metric(ctx, name, args, path + ("metrics", i), labels, n_classes),
            graph.outputs,
            output,
        ):
            if metric.key in keys:
                ctx.fail(
                    path + ("metrics", i),
                    f"metric {metric.key!r} is listed twice",
                    "duplicate-metric",
                    "remove this one: each metric is computed and reported once",
                )
            elif metric.key == loss_key:
                ctx.fail(
                    path + ("metrics", i),
                    f"metric {metric.key!r} has the name of the loss",
                    "duplicate-metric",
                    "give the metric or the loss another `name`: each is reported under its own",
                )
            keys.add(metric.key)
            metrics.append(metric)
        if len(metrics) > MAX_METRICS:
            ctx.fail(
                path + ("metrics",),
                f"more than {MAX_METRICS} metrics",
                "too-large",
                "report fewer metrics (each threshold of PrecisionAtThresholds is one)",
                key=True,
            )
            break
    return tuple(metrics)


def routed(ctx: Context, graph: ir.Graph, args: dict[str, Any], path: Path) -> int | None:
    """The index of the one graph output a loss or metric compares (2017's
    output_layer, or the `values` of Mean and PercentageLess); None: every output."""
    for key in ("output_layer", "values"):
        name = args.get(key)
        if name is None:
            continue
        for index, known in enumerate(graph.output_names):
            if name in known:
                return index if len(graph.outputs) > 1 else None
        outputs = ", ".join(n[0] for n in graph.output_names if n)
        ctx.fail(
            path + (key,),
            f"{show(name)} is not an output of the graph",
            "unknown-output",
            f"name one of its outputs ({outputs}), or list the layer in the graph's output_layers",
        )
    return None


def _per_output(
    metrics: list[ir.Metric], outputs: tuple[str, ...], output: int | None = None
) -> list[ir.Metric]:
    """With several outputs, each metric once per output (or of the one routed
    to), keyed `<output>_<metric>`."""
    if len(outputs) < 2:
        return metrics
    out = []
    for index, var in enumerate(outputs):
        if output is not None and index != output:
            continue
        for metric in metrics:
            key = f"{var}_{metric.key}"
            inner = ir.Call(
                metric.call.func,
                tuple((k, key if k == "name" else v) for k, v in metric.call.kwargs),
                metric.call.args,
            )
            call = ir.Call(
                ir.Symbol("OutputMetric"),
                (("metric", inner), ("index", index), ("name", key)),
            )
            out.append(ir.Metric(key, call, metric.helper))
    return out


def _generator(
    ctx: Context,
    spec: dict[str, Any],
    path: Path,
    features: tuple[str, ...] | None,
    fields: dict[str, Any],
) -> tuple[ir.Graph, ir.Bridge, str | None]:
    """model.generator: encoder -> bridge -> decoder as one graph."""
    # One model: the unnamed layers of each part are named after it (encoder_Dense_1).
    encoder = lower_graph(
        ctx, spec["encoder"], path + ("encoder",), features, prefix="encoder_"
    )
    target = encoder.inputs[0].feature if len(encoder.inputs) == 1 else None
    if len(encoder.inputs) > 1:
        ctx.fail(
            path + ("encoder", "input_layers"),
            "a generator reconstructs one feature: its encoder has one input",
            "generator-input",
            "name the one feature to reconstruct in the encoder's input_layers",
        )
    if len(encoder.outputs) != 1:
        ctx.fail(
            path + ("encoder", "output_layers"),
            f"the encoder has {len(encoder.outputs)} outputs; the bridge takes one",
            "generator-output",
            "list one layer in the encoder's output_layers (and mark no other is_output)",
        )
    name, args = one(spec.get("bridge") or registry.schema_default(fields, "bridge"))
    # NoOpBridge takes no arguments: its IR holds LatentBridge's defaults.
    values = BRIDGES["LatentBridge"].complete(args)
    bridge = ir.Bridge(
        name,
        int(values["latent_dim"]),
        float(values["mean"]),
        float(values["stddev"]),
    )
    taken = {i.var for i in encoder.inputs} | {layer.var for layer in encoder.layers}
    code = encoder.outputs[0] if encoder.outputs else "x"
    layers = list(encoder.layers)
    if name == "LatentBridge":
        var = "latent"
        while var in taken:
            var += "_"
        taken.add(var)
        call = ir.Call(
            ir.Symbol("LatentBridge"),
            (
                ("latent_dim", bridge.latent_dim),
                ("mean", bridge.mean),
                ("stddev", bridge.stddev),
                ("name", args.get("name") or "bridge"),  # 2017's name (plxgen.schema.legacy)
            ),
        )
        layers.append(
            ir.Layer(var, call, (code,), format_path(path + ("bridge", name)))
        )
        code = var
    decoder = lower_graph(
        ctx,
        spec["decoder"],
        path + ("decoder",),
        features,
        given=code,
        taken=taken,
        prefix="decoder_",
    )
    graph = ir.Graph(
        encoder.inputs,
        (*layers, *decoder.layers),
        decoder.outputs,
        decoder.output_names,
    )
    bridge_name = args.get("name") or "bridge"
    named = [dict(layer.call.kwargs).get("name") for layer in graph.layers]
    if name == "LatentBridge" and named.count(bridge_name) > 1:
        ctx.fail(
            path + ("bridge", name, "name") if "name" in args else path + ("bridge", name),
            f"a layer of the encoder or decoder is also named {bridge_name!r}",
            "duplicate-name",
            "give the bridge (or that layer) another name: Keras names its weights after it",
            key="name" not in args,
        )
    return graph, bridge, target


def _check_output_units(
    ctx: Context, graph: ir.Graph, labels: str, n_classes: int | None
) -> None:
    """A Dense output layer has as many units as the labels need."""
    by_var = {layer.var: layer for layer in graph.layers}
    for out in graph.outputs:
        last = by_var.get(out)
        if last is None or last.call.func.qualname != "keras.layers.Dense":
            continue
        units = dict(last.call.kwargs).get("units")
        expected = n_classes if labels in ("one_hot", "sparse") else 1
        if expected is not None and units != expected:
            what = (
                f"n_classes ({n_classes})"
                if labels in ("one_hot", "sparse")
                else "1 (one value per example)"
            )
            ctx.fail(
                parse_source(last.source) + ("units",),
                f"the output layer has {units} units but the labels need {what}",
                "output-units",
                f"set units: {expected}",
            )


def lower_model_optimizer(
    ctx: Context,
    spec: dict[str, Any],
    path: Path,
    fields: dict[str, Any],
    clip_in_step: bool = False,
) -> ir.Optimizer:
    """A model's optimizer (`fields`: its kind's, for the defaults), clipped by clip_gradients."""
    name, args = one(
        spec.get("optimizer") or registry.schema_default(fields, "optimizer")
    )
    clip = or_default(spec, fields, "clip_gradients")
    return lower_optimizer(
        ctx, name, args, path + ("optimizer", name), clip, clip_in_step
    )


def lower_optimizer(
    ctx: Context,
    name: str,
    args: dict[str, Any],
    path: Path,
    clip: float,
    clip_in_step: bool = False,
) -> ir.Optimizer:
    """The optimizer, its learning rate and its 2017 decay.

    `clip_in_step`: the training step clips the global norm itself (before the
    embeddings' own clip, as 2017 did), so the optimizer does not.
    """
    entry = registry.OPTIMIZERS[name]
    full = entry.complete(args)
    assert entry.symbol is not None, name
    # Keras' own default is left out, unless the config gives the value.
    given = {entry.renames.get(arg, arg) for arg in args} | set(entry.fixed)
    keras_defaults = registry.KERAS_DEFAULTS.get(entry.symbol, {})
    kwargs = [
        (keyword, value)
        for keyword, value in entry.call_kwargs(full)
        if keyword in given or keras_defaults.get(keyword, _UNSET) != value
    ]
    if args.get("name"):  # 2017's name (plxgen.schema.legacy)
        kwargs.append(("name", args["name"]))
    if clip and not clip_in_step:
        kwargs.append(("global_clipnorm", clip))
    decay = None
    kind = full["decay_type"]
    if kind:
        check_decay_rate(ctx, kind, full["decay_rate"], args, path)
        check_decay_window(ctx, full, args, path)
        boundaries, values = full["boundaries"] or [], full["values"] or []
        if kind == "piecewise_constant" and (
            not boundaries or len(values) != len(boundaries) + 1
        ):
            ctx.fail(
                path + ("decay_type",),
                "piecewise_constant needs boundaries and one more values",
                "piecewise",
                "e.g. boundaries: [1000, 2000], values: [0.1, 0.01, 0.001]",
            )
        decay = ir.Decay(
            kind=kind,
            rate=full["learning_rate"],
            decay_steps=full["decay_steps"],
            decay_rate=full["decay_rate"],
            # tf.train.polynomial_decay took no staircase (an exploration rate's does).
            staircase=full["staircase"] and registry.DECAYS[kind].staircase,
            start=full["start_decay_at"],
            stop=full["stop_decay_at"],
            window=bool(full["start_decay_at"])
            or full["stop_decay_at"] < entry.default("stop_decay_at"),
            floor=full["min_learning_rate"],
            end=full["end_learning_rate"],
            power=full["power"],
            boundaries=tuple(boundaries),
            values=tuple(values),
        )
    symbol = entry.symbol
    if entry.script_class and (
        not entry.decayed_only or (decay is not None and full.get("momentum"))
    ):
        symbol = entry.script_class
    schedule, floor = keras_schedule(decay) if decay else (None, None)
    return ir.Optimizer(
        name,
        ir.Call(ir.Symbol(symbol), tuple(kwargs)),
        full["learning_rate"],
        decay,
        clip,
        schedule,
        floor,
    )


def keras_schedule(decay: ir.Decay) -> tuple[ir.Call | None, float | None]:
    """The Keras schedule computing exactly this 2017 decay, and the floor it needs.

    Keras' schedules decay from step 0 on, without end: a decay window is the
    script's own. The floor (min_learning_rate) is needed where the decay can
    go below it: Keras' schedule is then kept above it (None: it never binds).
    """
    entry = registry.DECAYS[decay.kind]
    if entry.schedule is None or decay.window:
        return None, None
    values = {
        "rate": decay.rate,
        "decay_steps": decay.decay_steps,
        "decay_rate": decay.decay_rate,
        "staircase": decay.staircase,
        "end": decay.end,
        "power": decay.power,
        "boundaries": list(decay.boundaries),
        "values": list(decay.values),
    }
    kwargs = tuple((kw, values[field]) for field, kw in entry.schedule_args.items())
    # The lowest rate the decay reaches: exponential and inverse-time decays tend to 0
    # (exponential_decay grows with a decay_rate above 1).
    lowest = {
        "exponential_decay": decay.rate if decay.decay_rate >= 1 else 0.0,
        "polynomial_decay": min(decay.rate, decay.end),
        "piecewise_constant": min(decay.values, default=0.0),
    }.get(decay.kind, 0.0)
    floor = decay.floor if decay.floor > lowest else None
    return ir.Call(ir.Symbol(entry.schedule), kwargs), floor


def check_decay_window(
    ctx: Context, values: dict[str, Any], args: dict[str, Any], path: Path
) -> None:
    """A decay stops no earlier than it starts (else the rate grows without bound)."""
    start, stop = values["start_decay_at"], values["stop_decay_at"]
    if stop < start:
        key = "stop_decay_at" if "stop_decay_at" in args else "start_decay_at"
        ctx.fail(
            path + (key,),
            f"stop_decay_at ({stop}) is below start_decay_at ({start}): "
            "the decay would run backwards and the rate grow",
            "decay-window",
            f"set stop_decay_at to {start} or more, or start_decay_at lower",
        )


def check_decay_rate(
    ctx: Context, kind: str, rate: float, args: dict[str, Any], path: Path
) -> None:
    """A decay by decay_rate (exponential, inverse_time, natural_exp) needs one above 0."""
    if registry.DECAYS[kind].needs_rate and not rate:
        where = (
            path + ("decay_rate",) if "decay_rate" in args else path + ("decay_type",)
        )
        ctx.fail(
            where,
            f"{kind} needs a decay_rate above 0",
            "decay-rate",
            "set decay_rate, e.g. 0.96",
            key=True,
        )
