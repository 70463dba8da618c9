"""The data pipelines of train and eval: their files, batching and shuffling,
and the feature processors that run on each feature."""

from __future__ import annotations

import copy
import keyword
from dataclasses import replace
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.literals import ident, py
from plxgen.compiler.load import INT64_MAX, Path, format_path, show
from plxgen.compiler.lower.context import IDENT, Context, one
from plxgen.schema import registry
from plxgen.schema.registry.pipelines import PipelineKind
from plxgen.schema.registry.processors import ProcessorKind

# Modules a processor function uses: a feature (its argument) must not shadow them.
_MODULES = {"tf", "keras", "np", "os", "sys", "json", "math", "seed"}
# What a processor's `{seed}` stands for: its own seed, from the batch's and its index.
_SEED = "tf.random.experimental.stateless_fold_in(seed, {})"


def pipeline_features(pipe: ir.Pipeline) -> tuple[str, ...] | None:
    """The features a pipeline gives the model (None: named by its meta data at run time)."""
    return pipe.features


def lower_pipeline(ctx: Context, section: dict[str, Any], path: Path) -> ir.Pipeline:
    """A data pipeline section (train or eval)."""
    name, spec = one(section["data_pipeline"])
    kind = registry.PIPELINES[name]
    ppath: Path = path + ("data_pipeline", name)
    files, sources = _pipeline_files(ctx, kind, spec, ppath)
    boundaries = spec.get("bucket_boundaries") or []
    given = {
        "sources": sources,
        "dynamic_pad": _field(kind, spec, "dynamic_pad"),
        "bucket_boundaries": list(boundaries),
    }
    options = {
        arg: given[arg] if arg in given else _field(kind, spec, arg)
        for arg in kind.reader_args
        if arg != "bucket_boundaries" or boundaries  # none: the reader's default
    }
    _check_label(ctx, options, ppath)
    features = (
        tuple(options[kind.features_field]) if kind.features_field else kind.features
    )
    # A 2017 pipeline's bucket_boundaries that it cannot apply never gets here: the
    # policy table warns of it and drops it (plxgen.schema.legacy). plxgen's own
    # pipelines of examples without a length are told so, rather than ignore it.
    if boundaries and not kind.buckets:
        ctx.fail(
            ppath + ("bucket_boundaries",),
            f"{name} reads examples without a length to bucket by",
            "not-sequences",
            "remove bucket_boundaries (the sequence and text pipelines bucket by length)",
            key=True,
        )
    if boundaries and sorted(set(boundaries)) != list(boundaries):
        ctx.fail(
            ppath + ("bucket_boundaries",),
            "bucket boundaries must increase strictly",
            "bad-boundaries",
            f"e.g. {sorted(set(boundaries))}",
            key=True,
        )
    processors = []
    for feature, graph in (spec.get("feature_processors") or {}).items():
        fpath = ppath + ("feature_processors", feature)
        if features is not None and feature not in features:
            ctx.fail(
                fpath,
                f"{name} provides no feature {show(feature)}",
                "unknown-feature",
                "features: " + ", ".join(features),
                key=True,
            )
            continue
        if (
            not IDENT.fullmatch(feature)
            or keyword.iskeyword(feature)
            or feature.startswith("__")
            or feature in _MODULES
        ):
            ctx.fail(
                fpath,
                f"the feature name {show(feature)} is not a Python identifier",
                "bad-name",
                "feature processors need features named like variables",
                key=True,
            )
            continue
        processors.append(_processor(ctx, feature, graph, fpath, name, kind.images))
    return ir.Pipeline(
        section=path[0],  # type: ignore[arg-type]
        data_files=tuple(ctx.data_path(f) for f in files),
        meta_data_file=(
            ctx.data_path(spec["meta_data_file"]) if kind.meta_data else None
        ),
        batch_size=_field(kind, spec, "batch_size"),
        num_epochs=_field(kind, spec, "num_epochs"),
        shuffle=_field(kind, spec, "shuffle"),
        shuffle_buffer=_shuffle_buffer(ctx, kind, spec, ppath),
        drop_remainder=not _field(kind, spec, "allow_smaller_final_batch"),
        num_threads=_field(kind, spec, "num_threads"),
        processors=tuple(processors),
        reader=kind.reader,
        features=features,
        kind=name,
        cache=_field(kind, spec, "cache") and kind.caches,
        dynamic_pad=given["dynamic_pad"],
        bucket_boundaries=tuple(boundaries),
        options=tuple(options.items()),
        constants=kind.constants,
        records=kind.records,
        lines=kind.lines,
        ids=kind.ids,
        source=kind.source,
        images=kind.images,
        modules=kind.modules,
        numpy=kind.numpy,
        pairs=kind.pairs,
        meta_shapes=kind.meta_shapes,
        min_after_dequeue=(
            None if spec.get("capacity") else _field(kind, spec, "min_after_dequeue")
        ),
    )


def _field(kind: PipelineKind, spec: dict[str, Any], name: str) -> Any:
    """A field of the pipeline: the config's, else (a copy of) its schema default."""
    return spec[name] if name in spec else copy.deepcopy(kind.default(name))


def _pipeline_files(
    ctx: Context, kind: PipelineKind, spec: dict[str, Any], path: Path
) -> tuple[list[str], int]:
    """The files a pipeline reads, and how many of them come before its target files."""
    files = spec[kind.files]
    files = [files] if isinstance(files, str) else list(files)
    sources = len(files)
    if kind.targets:
        targets = spec[kind.targets]
        targets = [targets] if isinstance(targets, str) else list(targets)
        if len(targets) != len(files):
            ctx.fail(
                path + (kind.targets,),
                f"{kind.files} lists {len(files)}, {kind.targets} {len(targets)}",
                "conflict",
                "each source file has its line-aligned target file",
                key=True,
            )
        files += targets
    return files, sources


def _check_label(ctx: Context, options: dict[str, Any], path: Path) -> None:
    """The label is none of the features: an array of a NumpyPipeline, a column of a CsvPipeline."""
    if "label" in options and options["label"] in options.get("features", ()):
        ctx.fail(
            path + ("label",),
            f"the array {show(options['label'])} is both a feature and the label",
            "conflict",
            "remove it from `features`: a model never sees its label as an input",
            key=True,
        )
    column = options.get("label_column")
    if column is not None and column in (options["feature_columns"] or ()):
        ctx.fail(
            path + ("feature_columns",),
            f"the label column {show(column)} is listed as a feature",
            "conflict",
            "remove it from `feature_columns`: a model never sees its label as an input",
            key=True,
        )


def _shuffle_buffer(
    ctx: Context, kind: PipelineKind, spec: dict[str, Any], path: Path
) -> int:
    """capacity, else min_after_dequeue + 3 * batch_size: the buffer these keys describe.

    2017's reader shuffled less (a parallel_read queue of 256 records, at least
    128 left after each read, min_after_dequeue ignored): docs/compatibility.md.
    """
    if spec.get("capacity"):
        return int(spec["capacity"])
    dequeue = _field(kind, spec, "min_after_dequeue")
    size = int(dequeue + 3 * _field(kind, spec, "batch_size"))
    if size > INT64_MAX:
        ctx.fail(
            path + ("min_after_dequeue",),
            "min_after_dequeue + 3 * batch_size does not fit in 64 bits",
            "out-of-range",
            "set capacity, the shuffle buffer size, instead",
            key=True,
        )
        return INT64_MAX
    return size


def _processor(
    ctx: Context,
    feature: str,
    graph: dict[str, Any],
    path: Path,
    pipeline: str,
    images: bool,
) -> ir.Processor:
    """The feature processors of one feature (of a pipeline with `images` or without)."""
    inputs = graph.get("input_layers", [feature])
    inputs = [inputs] if isinstance(inputs, str) else inputs
    if inputs and list(inputs) != [feature]:
        ctx.fail(
            path + ("input_layers",),
            f"the processors of {show(feature)} take that feature as their only input",
            "processor-input",
            f"write input_layers: [{feature}]",
        )
    ops = []
    for i, item in enumerate(graph["layers"]):
        name, args = one(item)
        opath = path + ("layers", i, name)
        if registry.FEATURE_PROCESSORS[name].image and not images:
            generic = [n for n, e in registry.FEATURE_PROCESSORS.items() if not e.image]
            ctx.fail(
                opath,
                f"{name} is an image operation; {pipeline} has no images",
                "not-images",
                "use " + ", ".join(sorted(generic)),
                key=True,
            )
        ops.append(_op(ctx, name, args, opath, i, feature))
    return ir.Processor(feature, f"process_{feature}", tuple(ops))


def _op(
    ctx: Context, name: str, args: dict[str, Any], path: Path, index: int, feature: str
) -> ir.Op:
    """One processor with its defaults filled in, checked beyond the schema, and its statements."""
    entry = registry.FEATURE_PROCESSORS[name]
    full: dict[str, Any] = {k: v.get("default") for k, v in entry.params.items()}
    full.update(args)
    source = format_path(path)
    # Values the statements read besides the arguments.
    derived: dict[str, Any] = {}
    if name == "Reshape":
        shape = full["target_shape"]
        if isinstance(shape, int):
            shape = [shape]
        if any(size < 1 for size in shape):
            # The batch axis is already -1, and tf.reshape takes one -1 at most.
            ctx.fail(
                path + ("target_shape",),
                f"{shape} has a size below 1",
                "unsupported-value",
                "give every size of one example (the batch axis is kept)",
            )
        full = {"shape": [-1, *shape]}
    elif name == "Resize":
        full["method"] = registry.RESIZE_METHODS[full["method"]]
    elif name == "ConvertColorSpace":
        if full["from_space"] == full["to_space"]:
            ctx.fail(
                path + ("to_space",),
                "the color space is already " + full["to_space"],
                "no-op",
                "remove this processor",
            )
    elif name == "Normalization":
        mean, variance = full["mean"], full["variance"]
        if (
            isinstance(mean, list)
            and isinstance(variance, list)
            and len(mean) != len(variance)
        ):
            ctx.fail(
                path + ("variance",),
                f"{len(variance)} variances for {len(mean)} means",
                "length-mismatch",
                "give one variance per mean (or one number for all)",
            )
        variances = variance if isinstance(variance, list) else [variance]
        if any(v <= 0 for v in variances):
            ctx.fail(path + ("variance",), "a variance must be above 0", "out-of-range",
                     "the features are divided by its square root: e.g. 1.0")  # fmt: skip
            # Nothing to write: the mistake stops the compile.
            return ir.Op(name, tuple(sorted(full.items())), source, index)
        roots = [v**0.5 for v in variances]
        full = {
            "mean": mean,
            "stddev": roots if isinstance(variance, list) else roots[0],
        }
    elif name == "Flip":
        # The axis of a batch of images, [batch, height, width, channels].
        derived["image_axis"] = full["axis"] + 1
    elif name == "ExtractGlimpse":
        derived["noise"] = "uniform" if full["uniform_noise"] else "zero"
    elif name in ("AdjustContrast", "AdjustHue", "AdjustSaturation") and full["is_random"]:
        _random_range(ctx, name, full, path, derived)
    elif name == "DrawBoundingBoxes":
        # TensorFlow's own default: red.
        derived["colors"] = full["colors"] or [[1.0, 0.0, 0.0, 1.0]]
    random = entry.random or bool(full.get("is_random"))
    return ir.Op(
        name,
        tuple(sorted(full.items())),
        source,
        index,
        random,
        statements=_statements(entry, full, derived, feature, index, random),
        helper=entry.helper if random else None,
    )


# The random range of an Adjust op: its lowest and highest keys (2017's is_random).
_RANGES = {
    "AdjustContrast": ("contrast_factor", "contrast_factor_max"),
    "AdjustSaturation": ("saturation_factor", "saturation_factor_max"),
}


def _random_range(
    ctx: Context, name: str, full: dict[str, Any], path: Path, derived: dict[str, Any]
) -> None:
    """The range a random Adjust op draws from, checked as tf.image's random_* checked it."""
    if name == "AdjustHue":
        if not 0 <= full["delta"] <= 0.5:
            ctx.fail(path + ("delta",), "a random hue delta is in [0, 0.5]", "out-of-range",
                     "the hue moves by up to delta either way: e.g. delta: 0.1")  # fmt: skip
        derived["lowest"] = -full["delta"]
        return
    low, high = _RANGES[name]
    if full[high] is None:
        ctx.fail(path, f"a random {name} draws from [{low}, {high}): {high} is missing",
                 "missing-key", f"add {high}: a factor above {low}", key=True)  # fmt: skip
    elif full[low] < 0 or full[high] <= full[low]:
        ctx.fail(path + (high,), f"{high} ({full[high]}) must be above {low} ({full[low]}), "
                 f"and {low} at least 0", "out-of-range",
                 f"draw from a range such as {low}: 0.5, {high}: 1.5")  # fmt: skip


def _statements(
    entry: ProcessorKind,
    args: dict[str, Any],
    derived: dict[str, Any],
    feature: str,
    index: int,
    random: bool,
) -> tuple[str, ...]:
    """The lines an op writes: its entry's code, every value through py() and the feature through ident()."""
    holes = {key: py(value) for key, value in {**args, **derived}.items()}
    holes["x"] = ident(feature)
    holes["seed"] = _SEED.format(py(index))
    if args.get("seed") is not None:  # 2017's op-level seed, folded in after the op's position
        holes["seed"] = f"tf.random.experimental.stateless_fold_in({holes['seed']}, {py(args['seed'])})"
    lines = []
    for statement in entry.random_code if random and entry.random_code else entry.code:
        if isinstance(statement, tuple):
            arg, choices = statement
            chosen = choices.get(args[arg])
            if chosen is None:
                continue
            statement = chosen
        lines.append(statement.format_map(holes))
    return tuple(lines)


def name_processors(
    train: ir.Pipeline, evaluation: ir.Pipeline | None
) -> tuple[ir.Pipeline, ir.Pipeline | None]:
    """Train and eval share `process_<feature>` unless their processors differ."""
    if evaluation is None:
        return train, None
    ours = {p.feature: p for p in train.processors}

    def ops(p: ir.Processor) -> list[tuple[str, Any]]:
        return [(op.kind, op.args) for op in p.ops]

    differ = {
        p.feature
        for p in evaluation.processors
        if p.feature in ours and ops(p) != ops(ours[p.feature])
    }

    def named(pipe: ir.Pipeline) -> ir.Pipeline:
        processors = tuple(
            (
                replace(p, func=f"process_{pipe.section}_{p.feature}")
                if p.feature in differ
                else p
            )
            for p in pipe.processors
        )
        return replace(pipe, processors=processors)

    return named(train), named(evaluation)
