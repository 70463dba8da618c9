"""The data pipelines of train and eval: their files, batching and shuffling,
and the feature processors that run on each feature."""

from __future__ import annotations

import keyword
from dataclasses import replace
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import INT64_MAX, Path, format_path, show
from plxgen.compiler.lower.context import IDENT, Context, one
from plxgen.schema import registry

PIPELINE_FEATURES = {
    "TFRecordImagePipeline": ("image",),
    "CsvPipeline": ("x",),
    "ParallelTextPipeline": ("source",),
    "TFRecordSourceSequencePipeline": ("source",),
    "ImageCaptioningPipeline": ("image",),
}
# Pipelines of token sequences (2017 seq2seq inputs): sources padded to a batch's longest.
_SOURCE_PIPELINES = {"ParallelTextPipeline", "TFRecordSourceSequencePipeline"}
# Modules a processor function uses: a feature (its argument) must not shadow them.
_MODULES = {"tf", "keras", "np", "os", "sys", "json", "math", "seed"}
# Processors that work on any numeric feature; the others are image operations.
_GENERIC_PROCESSORS = {"Cast", "Reshape", "Rescaling", "Normalization", "GaussianNoise"}
_IMAGE_PIPELINES = {"TFRecordImagePipeline", "NumpyPipeline", "ImageCaptioningPipeline"}


def pipeline_features(pipe: ir.Pipeline) -> tuple[str, ...] | None:
    """The features a pipeline gives the model (None: named by its meta data at run time)."""
    if pipe.kind == "NumpyPipeline":
        return tuple(dict(pipe.options)["features"])
    return PIPELINE_FEATURES.get(pipe.kind)


def lower_pipeline(ctx: Context, section: dict[str, Any], path: Path) -> ir.Pipeline:
    """A data pipeline section (train or eval)."""
    name, spec = one(section["data_pipeline"])
    ppath: Path = path + ("data_pipeline", name)
    options: dict[str, Any] = {}
    files = _pipeline_files(ctx, name, spec, ppath, options)
    features: tuple[str, ...] | None = PIPELINE_FEATURES.get(name)
    if name == "NumpyPipeline":
        features = tuple(spec.get("features", ["x"]))
        options["label"] = spec.get("label", "y")
        if options["label"] in features:
            ctx.fail(
                ppath + ("label",),
                f"the array {show(options['label'])} is both a feature and the label",
                "conflict",
                key=True,
            )
        options["features"] = list(features)
    elif name == "CsvPipeline":
        options["label_column"] = spec["label_column"]
        options["feature_columns"] = spec.get("feature_columns")
        options["field_delim"] = spec.get("field_delim", ",")
        if options["label_column"] in (options["feature_columns"] or ()):
            ctx.fail(
                ppath + ("feature_columns",),
                f"the label column {show(options['label_column'])} is listed as a feature",
                "conflict",
                key=True,
            )
    elif name == "TFRecordSequencePipeline":
        options["label_feature"] = spec.get("label_feature", "label")
    boundaries = spec.get("bucket_boundaries") or []
    if boundaries and name != "TFRecordSequencePipeline":
        what = (
            "pads each batch to its longest source; it does not bucket by length"
            if name in _SOURCE_PIPELINES
            else "has no sequences to bucket by length"
        )
        ctx.fail(
            ppath + ("bucket_boundaries",),
            f"{name} {what}",
            "not-sequences",
            "remove bucket_boundaries",
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
    batch_size = spec.get("batch_size", 64)
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
        processors.append(_processor(ctx, feature, graph, fpath, name))
    meta = spec.get("meta_data_file")
    return ir.Pipeline(
        section=path[0],  # type: ignore[arg-type]
        data_files=tuple(ctx.data_path(f) for f in files),
        meta_data_file=ctx.data_path(meta) if meta else None,
        batch_size=batch_size,
        num_epochs=spec.get("num_epochs", 1),
        shuffle=spec.get("shuffle", True),
        shuffle_buffer=_shuffle_buffer(ctx, spec, ppath),
        drop_remainder=not spec.get("allow_smaller_final_batch", True),
        num_threads=spec.get("num_threads", 3),
        processors=tuple(processors),
        kind=name,
        cache=spec.get("cache", False),
        dynamic_pad=spec.get("dynamic_pad", False),
        bucket_boundaries=tuple(boundaries),
        options=tuple(sorted(options.items())),
    )


def _pipeline_files(
    ctx: Context, name: str, spec: dict[str, Any], path: Path, options: dict[str, Any]
) -> list[str]:
    """The files a pipeline reads; kind-specific fields of the seq2seq kinds go to `options`."""
    key = {"ParallelTextPipeline": "source_files"}.get(
        name, "files" if "files" in spec else "data_files"
    )
    files = spec[key]
    files = [files] if isinstance(files, str) else list(files)
    if name == "ParallelTextPipeline":
        targets = spec["target_files"]
        targets = [targets] if isinstance(targets, str) else list(targets)
        if len(targets) != len(files):
            ctx.fail(
                path + ("target_files",),
                f"source_files lists {len(files)}, target_files {len(targets)}",
                "conflict",
                "each source file has its line-aligned target file",
                key=True,
            )
        options["sources"] = len(files)
        files += targets
    if name in _SOURCE_PIPELINES:
        options["source_delimiter"] = spec.get("source_delimiter", " ")
        options["target_delimiter"] = spec.get("target_delimiter", " ")
    if name == "TFRecordSourceSequencePipeline":
        options["source_field"] = spec.get("source_field", "source")
        options["target_field"] = spec.get("target_field", "target")
    elif name == "ImageCaptioningPipeline":
        options["image_field"] = spec.get("image_field", "image/data")
        options["caption_ids_field"] = spec.get(
            "caption_ids_field", "image/caption_ids"
        )
    return files


def _shuffle_buffer(ctx: Context, spec: dict[str, Any], path: Path) -> int:
    """capacity, else min_after_dequeue + 3 * batch_size (as tf.train.shuffle_batch)."""
    if spec.get("capacity"):
        return int(spec["capacity"])
    size = int(spec.get("min_after_dequeue", 5000) + 3 * spec.get("batch_size", 64))
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
    ctx: Context, feature: str, graph: dict[str, Any], path: Path, pipeline: str
) -> ir.Processor:
    """The feature processors of one feature."""
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
        if name not in _GENERIC_PROCESSORS and pipeline not in _IMAGE_PIPELINES:
            ctx.fail(
                opath,
                f"{name} is an image operation; {pipeline} has no images",
                "not-images",
                "use " + ", ".join(sorted(_GENERIC_PROCESSORS)),
                key=True,
            )
        ops.append(_op(ctx, name, args, opath, i))
    return ir.Processor(feature, f"process_{feature}", tuple(ops))


def _op(ctx: Context, name: str, args: dict[str, Any], path: Path, index: int) -> ir.Op:
    """One processor with its defaults filled in, checked beyond the schema."""
    entry = registry.FEATURE_PROCESSORS[name]
    full: dict[str, Any] = {k: v.get("default") for k, v in entry.params.items()}
    full.update(args)
    source = format_path(path)
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
            )
        variances = variance if isinstance(variance, list) else [variance]
        if any(v <= 0 for v in variances):
            ctx.fail(path + ("variance",), "a variance must be above 0", "out-of-range")
        else:
            roots = [v**0.5 for v in variances]
            full = {
                "mean": mean,
                "stddev": roots if isinstance(variance, list) else roots[0],
            }
    random = name in ("RandomCrop", "GaussianNoise") or (
        name in ("Flip", "Rotate90", "AdjustBrightness") and bool(full.get("is_random"))
    )
    return ir.Op(name, tuple(sorted(full.items())), source, index, random)


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
