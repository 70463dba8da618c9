"""Validated data -> IR, plus the checks a JSON Schema cannot express."""

from __future__ import annotations

import builtins
import json
import keyword
import re
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from plxgen.compiler import ir
from plxgen.schema import registry, rl_registry
from plxgen.errors import ConfigError, Diagnostic
from plxgen.compiler.load import INT64_MAX, Document, Path, format_path, show

if TYPE_CHECKING:  # the RL IR is loaded only for RL experiments
    from plxgen.compiler.rl_ir import RLExperiment

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Names the generated script itself uses; a layer variable never shadows them.
_RESERVED = {
    "tf", "keras", "np", "os", "sys", "json", "math", "time", "logging", "argparse",
    "features", "labels", "inputs", "outputs", "model", "x", "build_model",
}  # fmt: skip

PIPELINE_FEATURES = {
    "TFRecordImagePipeline": ("image",), "CsvPipeline": ("x",), "ParallelTextPipeline": ("source",),
    "TFRecordSourceSequencePipeline": ("source",), "ImageCaptioningPipeline": ("image",),
}  # fmt: skip
# Pipelines of token sequences (2017 seq2seq inputs): sources padded to a batch's longest.
_SOURCE_PIPELINES = {"ParallelTextPipeline", "TFRecordSourceSequencePipeline"}
# Processors that work on any numeric feature; the others are image operations.
# Modules a processor function uses: a feature (its argument) must not shadow them.
_MODULES = {"tf", "keras", "np", "os", "sys", "json", "math", "seed"}
_GENERIC_PROCESSORS = {"Cast", "Reshape", "Rescaling", "Normalization", "GaussianNoise"}
_IMAGE_PIPELINES = {"TFRecordImagePipeline", "NumpyPipeline", "ImageCaptioningPipeline"}
_BUILTINS = frozenset(dir(builtins))
_THRESHOLD_METRICS = {
    "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives", "Precision", "Recall", "AUC",
    "SpecificityAtSensitivity", "SensitivityAtSpecificity", "PrecisionAtThresholds", "RecallAtThresholds",
}  # fmt: skip
_SNAKE = {"AUC": "auc", "MeanIOU": "mean_iou"}
# Layers called with a query, a value and maybe a key.
_ATTENTION = {"Attention", "AdditiveAttention", "MultiHeadAttention"}
_ALL_SUMMARIES = (
    "loss", "learning_rate", "variables", "activations", "gradients", "image_input", "image_result",
)  # fmt: skip
# Layer arguments that are themselves `Name: {arguments}` (by their schema's $ref).
_NESTED_KINDS = {"layer", "initializer", "regularizer", "constraint"}
# Bounds on what one config may ask for: beyond them the script is absurd and
# compiling it slow (each layer and metric is a few lines that black formats).
MAX_LAYERS = 10_000
MAX_METRICS = 100
MAX_FORMAT_WIDTH = 1_000
_FORMAT_FIELD = re.compile(r"%%|%\([^)]*\)[#0 +-]*([0-9]*)(?:\.([0-9]*))?")


@lru_cache(maxsize=1)
def keras_layers_document() -> dict[str, Any]:
    """The committed table of Keras layers (and of removed ones)."""
    text = resources.files("plxgen.schemas").joinpath("keras_layers.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


def keras_layers() -> dict[str, Any]:
    """The committed table of Keras layers and their arguments."""
    layers: dict[str, Any] = keras_layers_document()["layers"]
    return layers


def snake_case(name: str) -> str:
    """`TruePositives` -> `true_positives`, as Keras names its metrics."""
    if name in _SNAKE:
        return _SNAKE[name]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _one(mapping: Any) -> tuple[str, dict[str, Any]]:
    """A `Name: {args}` mapping or bare `Name` -> (name, args)."""
    if isinstance(mapping, str):
        return mapping, {}
    ((name, args),) = mapping.items()
    return name, dict(args or {})


def _kwargs(args: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(args.items())


class Lowerer:
    """Turns one validated document into an ir.Experiment, collecting diagnostics."""

    def __init__(self, doc: Document, config_path: str, data_prefix: str) -> None:
        self.doc = doc
        self.config_path = config_path
        self.data_prefix = data_prefix
        self.errors: list[Diagnostic] = []

    def fail(
        self,
        path: Path,
        message: str,
        code: str,
        hint: str | None = None,
        *,
        key: bool = False,
    ) -> None:
        """Record a located diagnostic."""
        file, line, col = self.doc.where(path, key=key)
        self.errors.append(
            Diagnostic(file, line, col, format_path(path), message, code, hint)
        )

    # ------------------------------------------------------------ experiment
    def experiment(self) -> ir.Experiment | RLExperiment:
        """Lower the whole document."""
        data = self.doc.data
        if not data["project"]["name"].strip("."):
            self.fail(
                ("project", "name"), "a name of only dots is no folder name", "bad-name",
                "the default model folder is named after the project; use letters or digits",
            )  # fmt: skip
        ((kind, spec),) = data["model"].items()
        if kind in rl_registry.KINDS:
            from plxgen.compiler.lower.rl import lower_rl

            return lower_rl(self, kind, spec)
        model_path: Path = ("model", kind)
        train_pipe = self.pipeline(data["train"], ("train",))
        eval_section = data.get("eval")
        eval_pipe = self.pipeline(eval_section, ("eval",)) if eval_section else None
        train_pipe, eval_pipe = self._name_processors(train_pipe, eval_pipe)
        features = pipeline_features(train_pipe)
        if eval_pipe is not None and eval_pipe.kind != train_pipe.kind:
            self.fail(
                ("eval", "data_pipeline", eval_pipe.kind), f"the eval pipeline must be a {train_pipe.kind}, as in train",
                "pipeline-kind", "the model reads the same features from both", key=True,
            )  # fmt: skip
        model = self.model(kind, spec, model_path, features, data["project"]["name"])
        settings = data.get("settings", {}).get("logging", {})
        experiment = ir.Experiment(
            project=data["project"]["name"],
            description=data["project"].get("description"),
            config_path=self.config_path,
            logging=ir.Logging(
                level=settings.get("level", "INFO"),
                formatter=self._formatter(settings.get("formatter")),
                path=(
                    self._data_path(settings["path"]) if settings.get("path") else None
                ),
            ),
            run_config=self.run_config(
                data.get("environment", {}).get("run_config", {})
            ),
            model=model,
            train=train_pipe,
            train_steps=data["train"].get("train_steps"),
            eval=eval_pipe,
            eval_steps=eval_section.get("steps", 10) if eval_section else None,
            eval_delay_secs=eval_section.get("delay_secs", 0) if eval_section else 0,
            eval_throttle_secs=(
                eval_section.get("continuous_eval_throttle_secs", 60)
                if eval_section
                else 60
            ),
            resolved_config=data,
            environment=self.environment(data.get("environment", {})),
        )
        if (
            model.clip_embed
            and experiment.environment.mixed_precision == "mixed_float16"
        ):
            # Under loss scaling the embedding gradients are scaled too, so a fixed
            # clipping norm would clip by the wrong amount.
            self.fail(
                model_path + ("clip_embed_gradients",), "clip_embed_gradients does not work with mixed_float16",
                "clip-embed-float16", "use mixed_precision: mixed_bfloat16, or clip_embed_gradients: 0",
            )  # fmt: skip
        if self.errors:
            raise ConfigError(self.errors)
        return experiment

    def _formatter(self, fmt: str | None) -> str | None:
        """settings.logging.formatter, if logging can format a record with it."""
        if fmt is None:
            return None
        problem = _format_problem(fmt)
        if problem:
            self.fail(
                ("settings", "logging", "formatter"), f"not a logging format: {problem}", "bad-format",
                "use %(name)s fields of a log record, e.g. '%(asctime)s %(levelname)s %(message)s'",
            )  # fmt: skip
        return fmt

    def environment(self, env: dict[str, Any]) -> ir.Environment:
        """environment: the strategy, the cluster and the sessions of its tasks."""
        base: Path = ("environment",)
        cluster = self._cluster(env.get("run_config", {}).get("cluster"))
        jobs = dict(cluster or ())
        n_workers, n_ps = env.get("n_workers", 0), env.get("n_ps", 0)
        for key, job, n in (("n_workers", "worker", n_workers), ("n_ps", "ps", n_ps)):
            if cluster is not None and n and n != len(jobs.get(job, ())):
                self.fail(
                    base + (key,), f"{key} is {n} but run_config.cluster lists {len(jobs.get(job, ()))} {job} task(s)",
                    "conflict", "give the same number, or leave n_workers / n_ps out", key=True,
                )  # fmt: skip
        if cluster is not None:
            n_workers, n_ps = len(jobs.get("worker", ())), len(jobs.get("ps", ()))
        replicas = env.get("replicas")
        derived = (
            "parameter_server"
            if n_ps
            else (
                "multi_worker_mirrored"
                if n_workers or cluster
                else "mirrored" if replicas else "one_device"
            )
        )
        strategy = env.get("strategy") or derived
        if strategy != derived:
            why = {
                "parameter_server": "needs parameter servers: set n_ps or list ps tasks in run_config.cluster",
                "multi_worker_mirrored": "trains on workers without parameter servers",
                "mirrored": "trains on the devices of one machine, without a cluster",
                "one_device": "trains on one device, without a cluster",
            }[strategy]
            self.fail(base + ("strategy",), f"{strategy} {why}", "conflict",
                      f"this environment asks for {derived}")  # fmt: skip
        if replicas and strategy != "mirrored":
            self.fail(
                base + ("replicas",), "replicas sets the local devices of the mirrored strategy", "conflict",
                "in a cluster every worker uses all its GPUs (restrict them with gpu_options.visible_device_list)",
                key=True,
            )  # fmt: skip
        if strategy == "parameter_server":
            if not n_workers:
                self.fail(base + ("n_ps",), "parameter servers need workers to train", "conflict",
                          "set n_workers, or list worker tasks in run_config.cluster", key=True)  # fmt: skip
            if cluster is not None and "chief" not in jobs:
                self.fail(base + ("run_config", "cluster"), "parameter-server training needs a master (the chief)",
                          "conflict", "add master: [host:port]", key=True)  # fmt: skip
        sessions = []
        for job in ("worker", "ps"):
            if f"default_{job}_config" in env:
                path = base + (f"default_{job}_config",)
                sessions.append(
                    ir.TaskSession(
                        job, None, self.session(env[f"default_{job}_config"], path)
                    )
                )
            for i, item in enumerate(env.get(f"{job}_configs") or []):
                path = base + (f"{job}_configs", i)
                if item.get("index") is None:
                    self.fail(path, f"a session of {job}_configs needs the index of its task", "missing-index",
                              f"add index: N (0 for the first {job})")  # fmt: skip
                    continue
                sessions.append(
                    ir.TaskSession(job, item["index"], self.session(item, path))
                )
        precision = env.get("mixed_precision", False)
        resources = []
        for key, who in (("resources", "chief"), ("default_worker_resources", "each worker"),
                         ("default_ps_resources", "each ps")):  # fmt: skip
            for kind, amount in (env.get(key) or {}).items():
                for bound, value in (amount or {}).items():
                    resources.append((who, kind, bound, str(value)))
        return ir.Environment(
            strategy=strategy,
            replicas=replicas,
            cluster=cluster,
            n_workers=n_workers,
            n_ps=n_ps,
            delay_workers=env.get("delay_workers_by_global_step", False),
            task_sessions=tuple(sessions),
            mixed_precision="mixed_float16" if precision is True else precision or None,
            steps_per_execution=env.get("steps_per_execution", 100),
            jit_compile=self.jit_compile(env, strategy),
            resources=tuple(resources),
        )

    def jit_compile(self, env: dict[str, Any], strategy: str) -> bool:
        """environment.jit_compile, where XLA steps are offered: on one device.

        Under tf.distribute the replicated step with its all-reduce did not compile
        (TensorFlow 2.21, mirrored logical CPUs).
        """
        jit = bool(env.get("jit_compile", False))
        if jit and strategy != "one_device":
            self.fail(
                ("environment", "jit_compile"),
                f"XLA-compiled steps are offered on one device, not with {strategy}",
                "conflict", "leave jit_compile out, or train on one device", key=True,
            )  # fmt: skip
        return jit

    def _cluster(
        self, spec: dict[str, Any] | None
    ) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
        """run_config.cluster with TensorFlow's job names (the 2017 master is the chief)."""
        if not spec:
            return None
        path: Path = ("environment", "run_config", "cluster")
        if "master" in spec and "chief" in spec:
            self.fail(path + ("chief",), "master and chief name the same task", "conflict",
                      "keep one of them", key=True)  # fmt: skip
        jobs: list[tuple[str, tuple[str, ...]]] = []
        seen: dict[str, Path] = {}
        for key, job in (
            ("master", "chief"),
            ("chief", "chief"),
            ("worker", "worker"),
            ("ps", "ps"),
        ):
            if key not in spec:
                continue
            hosts = spec[key]
            if job == "chief" and len(hosts) != 1:
                self.fail(path + (key,), f"the {key} is one task, not {len(hosts)}", "conflict",
                          "list one host:port")  # fmt: skip
            for i, host in enumerate(hosts):
                if host in seen:
                    self.fail(path + (key, i), f"{show(host)} is already the address of another task",
                              "conflict", "give every task its own port")  # fmt: skip
                seen[host] = path + (key, i)
            if job != "chief" or not any(j == "chief" for j, _ in jobs):
                jobs.append((job, tuple(hosts)))
        if not any(job in ("chief", "worker") for job, _ in jobs):
            self.fail(
                path,
                "a cluster needs a master or workers to train",
                "conflict",
                key=True,
            )
        return tuple(jobs)

    def session(self, session: dict[str, Any], path: Path) -> ir.Session:
        """A session (run_config.session, a worker's or a ps's) as tf.config settings."""
        gpu = session.get("gpu_options", {})
        fractions = [
            k
            for k in ("per_process_gpu_memory_fraction", "gpu_memory_fraction")
            if k in gpu
        ]
        if len(fractions) > 1:
            self.fail(path + ("gpu_options", fractions[1]), "two spellings of the same fraction", "conflict",
                      "keep per_process_gpu_memory_fraction", key=True)  # fmt: skip
        visible = gpu.get("visible_device_list")
        return ir.Session(
            intra_op_threads=session.get("intra_op_parallelism_threads") or None,
            inter_op_threads=session.get("inter_op_parallelism_threads") or None,
            soft_placement=session.get("allow_soft_placement", True),
            log_device_placement=session.get("log_device_placement", False),
            memory_growth=gpu.get("allow_growth", True),
            memory_fraction=gpu[fractions[0]] if fractions else None,
            visible_gpus=tuple(visible) if visible else None,
        )

    def run_config(self, rc: dict[str, Any]) -> ir.RunConfig:
        """environment.run_config with the 2017 defaults."""
        steps = rc.get("save_checkpoints_steps")
        secs = rc.get("save_checkpoints_secs")
        if steps and secs:
            self.fail(
                ("environment", "run_config", "save_checkpoints_secs"),
                "give save_checkpoints_steps or save_checkpoints_secs, not both", "conflict", key=True,
            )  # fmt: skip
        if steps is None and secs is None:
            secs = 600  # tf.estimator.RunConfig's default
        return ir.RunConfig(
            seed=rc.get("tf_random_seed"),
            save_summary_steps=rc.get("save_summary_steps", 100),
            save_checkpoints_steps=steps,
            save_checkpoints_secs=secs,
            keep_checkpoint_max=rc.get("keep_checkpoint_max", 5),
            keep_checkpoint_every_n_hours=rc.get("keep_checkpoint_every_n_hours"),
            session=self.session(
                rc.get("session", {}), ("environment", "run_config", "session")
            ),
        )

    # -------------------------------------------------------------- pipeline
    def _data_path(self, path: str) -> str:
        if path.startswith("/"):
            return path
        return _join(self.data_prefix, path)

    def pipeline(self, section: dict[str, Any], path: Path) -> ir.Pipeline:
        """A data pipeline section (train or eval)."""
        name, spec = _one(section["data_pipeline"])
        ppath: Path = path + ("data_pipeline", name)
        options: dict[str, Any] = {}
        files = self._pipeline_files(name, spec, ppath, options)
        features: tuple[str, ...] | None = PIPELINE_FEATURES.get(name)
        if name == "NumpyPipeline":
            features = tuple(spec.get("features", ["x"]))
            options["label"] = spec.get("label", "y")
            if options["label"] in features:
                self.fail(
                    ppath + ("label",), f"the array {show(options['label'])} is both a feature and the label",
                    "conflict", key=True,
                )  # fmt: skip
            options["features"] = list(features)
        elif name == "CsvPipeline":
            options["label_column"] = spec["label_column"]
            options["feature_columns"] = spec.get("feature_columns")
            options["field_delim"] = spec.get("field_delim", ",")
            if options["label_column"] in (options["feature_columns"] or ()):
                self.fail(
                    ppath + ("feature_columns",), f"the label column {show(options['label_column'])} is listed as a feature",
                    "conflict", key=True,
                )  # fmt: skip
        elif name == "TFRecordSequencePipeline":
            options["label_feature"] = spec.get("label_feature", "label")
        boundaries = spec.get("bucket_boundaries") or []
        if boundaries and name != "TFRecordSequencePipeline":
            what = (
                "pads each batch to its longest source; it does not bucket by length"
                if name in _SOURCE_PIPELINES
                else "has no sequences to bucket by length"
            )
            self.fail(
                ppath + ("bucket_boundaries",), f"{name} {what}", "not-sequences",
                "remove bucket_boundaries", key=True,
            )  # fmt: skip
        if boundaries and sorted(set(boundaries)) != list(boundaries):
            self.fail(
                ppath + ("bucket_boundaries",), "bucket boundaries must increase strictly", "bad-boundaries",
                f"e.g. {sorted(set(boundaries))}", key=True,
            )  # fmt: skip
        batch_size = spec.get("batch_size", 64)
        processors = []
        for feature, graph in (spec.get("feature_processors") or {}).items():
            fpath = ppath + ("feature_processors", feature)
            if features is not None and feature not in features:
                self.fail(
                    fpath, f"{name} provides no feature {show(feature)}", "unknown-feature",
                    "features: " + ", ".join(features), key=True,
                )  # fmt: skip
                continue
            if (
                not _IDENT.fullmatch(feature)
                or keyword.iskeyword(feature)
                or feature.startswith("__")
                or feature in _MODULES
            ):
                self.fail(
                    fpath, f"the feature name {show(feature)} is not a Python identifier", "bad-name",
                    "feature processors need features named like variables", key=True,
                )  # fmt: skip
                continue
            processors.append(self.processor(feature, graph, fpath, name))
        meta = spec.get("meta_data_file")
        return ir.Pipeline(
            section=path[0],  # type: ignore[arg-type]
            data_files=tuple(self._data_path(f) for f in files),
            meta_data_file=self._data_path(meta) if meta else None,
            batch_size=batch_size,
            num_epochs=spec.get("num_epochs", 1),
            shuffle=spec.get("shuffle", True),
            shuffle_buffer=self._shuffle_buffer(spec, ppath),
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
        self, name: str, spec: dict[str, Any], path: Path, options: dict[str, Any]
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
                self.fail(
                    path + ("target_files",), f"source_files lists {len(files)}, target_files {len(targets)}",
                    "conflict", "each source file has its line-aligned target file", key=True,
                )  # fmt: skip
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

    def _shuffle_buffer(self, spec: dict[str, Any], path: Path) -> int:
        """capacity, else min_after_dequeue + 3 * batch_size (as tf.train.shuffle_batch)."""
        if spec.get("capacity"):
            return int(spec["capacity"])
        size = int(spec.get("min_after_dequeue", 5000) + 3 * spec.get("batch_size", 64))
        if size > INT64_MAX:
            self.fail(
                path + ("min_after_dequeue",), "min_after_dequeue + 3 * batch_size does not fit in 64 bits",
                "out-of-range", "set capacity, the shuffle buffer size, instead", key=True,
            )  # fmt: skip
            return INT64_MAX
        return size

    def processor(
        self, feature: str, graph: dict[str, Any], path: Path, pipeline: str
    ) -> ir.Processor:
        """The feature processors of one feature."""
        inputs = graph.get("input_layers", [feature])
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if inputs and list(inputs) != [feature]:
            self.fail(
                path + ("input_layers",), f"the processors of {show(feature)} take that feature as their only input",
                "processor-input", f"write input_layers: [{feature}]",
            )  # fmt: skip
        ops = []
        for i, item in enumerate(graph["layers"]):
            name, args = _one(item)
            opath = path + ("layers", i, name)
            if name not in _GENERIC_PROCESSORS and pipeline not in _IMAGE_PIPELINES:
                self.fail(
                    opath, f"{name} is an image operation; {pipeline} has no images", "not-images",
                    "use " + ", ".join(sorted(_GENERIC_PROCESSORS)), key=True,
                )  # fmt: skip
            ops.append(self._op(name, args, opath, i))
        return ir.Processor(feature, f"process_{feature}", tuple(ops))

    def _op(self, name: str, args: dict[str, Any], path: Path, index: int) -> ir.Op:
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
                self.fail(
                    path + ("target_shape",), f"{shape} has a size below 1",
                    "unsupported-value", "give every size of one example (the batch axis is kept)",
                )  # fmt: skip
            full = {"shape": [-1, *shape]}
        elif name == "Resize":
            full["method"] = registry.RESIZE_METHODS[full["method"]]
        elif name == "ConvertColorSpace":
            if full["from_space"] == full["to_space"]:
                self.fail(path + ("to_space",), "the color space is already " + full["to_space"], "no-op",
                          "remove this processor")  # fmt: skip
        elif name == "Normalization":
            mean, variance = full["mean"], full["variance"]
            if (
                isinstance(mean, list)
                and isinstance(variance, list)
                and len(mean) != len(variance)
            ):
                self.fail(path + ("variance",), f"{len(variance)} variances for {len(mean)} means",
                          "length-mismatch")  # fmt: skip
            if any(
                v <= 0 for v in (variance if isinstance(variance, list) else [variance])
            ):
                self.fail(
                    path + ("variance",), "a variance must be above 0", "out-of-range"
                )
            else:
                roots = [
                    v**0.5
                    for v in (variance if isinstance(variance, list) else [variance])
                ]
                full = {
                    "mean": mean,
                    "stddev": roots if isinstance(variance, list) else roots[0],
                }
        random = name in ("RandomCrop", "GaussianNoise") or (
            name in ("Flip", "Rotate90", "AdjustBrightness")
            and bool(full.get("is_random"))
        )
        return ir.Op(name, tuple(sorted(full.items())), source, index, random)

    def _name_processors(
        self, train: ir.Pipeline, evaluation: ir.Pipeline | None
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

    # ----------------------------------------------------------------- model
    def model(
        self,
        kind: str,
        spec: dict[str, Any],
        path: Path,
        features: tuple[str, ...] | None,
        project: str,
    ) -> ir.Model:
        """model.classifier / model.regressor."""
        n_classes = spec.get("n_classes")
        one_hot = spec.get("one_hot_encode", False)
        if kind == "classifier":
            if one_hot and n_classes is None:
                self.fail(path + ("one_hot_encode",), "one_hot_encode needs n_classes", "missing-n-classes",
                          "add n_classes: N", key=True)  # fmt: skip
            labels = "one_hot" if one_hot else ("sparse" if n_classes else "binary")
        else:
            labels = "float"
        bridge: ir.Bridge | None = None
        target: str | None = None
        if kind == "generator":
            graph, bridge, target = self.generator(spec, path, features)
        else:
            graph = self.graph(spec["graph"], path + ("graph",), features)
            self._check_output_units(graph, spec, path, labels, n_classes)
        default_loss = (
            "SigmoidCrossEntropy" if kind == "classifier" else "MeanSquaredError"
        )
        loss_name, loss_args = _one(spec.get("loss") or default_loss)
        loss = self.loss(loss_name, loss_args, path + ("loss", loss_name), labels)
        scores = {
            "SoftmaxCrossEntropy": "softmax",
            "SigmoidCrossEntropy": "sigmoid",
            "HingeLoss": "sigmoid",
        }.get(loss_name)
        metrics: list[ir.Metric] = []
        keys: set[str] = set()
        for i, item in enumerate(spec.get("metrics") or []):
            name, args = _one(item)
            for metric in self._per_output(
                self.metric(name, args, path + ("metrics", i), labels, n_classes),
                graph.outputs,
            ):
                if metric.key in keys:
                    self.fail(
                        path + ("metrics", i),
                        f"metric {metric.key!r} is listed twice",
                        "duplicate-metric",
                    )
                keys.add(metric.key)
                metrics.append(metric)
            if len(metrics) > MAX_METRICS:
                self.fail(
                    path + ("metrics",), f"more than {MAX_METRICS} metrics", "too-large",
                    "report fewer metrics (each threshold of PrecisionAtThresholds is one)", key=True,
                )  # fmt: skip
                break
        summaries = spec.get("summaries") or []
        wanted = _ALL_SUMMARIES if summaries == "all" else tuple(summaries)
        clip_embed = float(spec.get("clip_embed_gradients", 0.1))
        if not any(
            layer.call.func.qualname == "keras.layers.Embedding"
            for layer in graph.layers
        ):
            clip_embed = 0.0  # nothing to clip: no code for it
        opt_name, opt_args = _one(spec.get("optimizer") or "Adam")
        optimizer = self.optimizer(
            opt_name,
            opt_args,
            path + ("optimizer", opt_name),
            spec.get("clip_gradients", 0.5),
        )
        return ir.Model(
            kind=kind,
            # A Keras model name is a TensorFlow root scope: no leading `_` or `-`.
            name=spec.get("name") or project.lstrip("_-") or "model",
            graph=graph,
            loss=loss,
            optimizer=optimizer,
            metrics=tuple(metrics),
            labels=labels,
            n_classes=n_classes,
            scores=scores,
            bridge=bridge,
            target=target,
            summaries=tuple(k for k in wanted if k not in ("loss", "learning_rate")),
            clip_embed=clip_embed,
        )

    def _per_output(
        self, metrics: list[ir.Metric], outputs: tuple[str, ...]
    ) -> list[ir.Metric]:
        """With several outputs, each metric once per output, keyed `<output>_<metric>`."""
        if len(outputs) < 2:
            return metrics
        out = []
        for index, var in enumerate(outputs):
            for metric in metrics:
                key = f"{var}_{metric.key}"
                inner = ir.Call(
                    metric.call.func,
                    tuple(
                        (k, key if k == "name" else v) for k, v in metric.call.kwargs
                    ),
                    metric.call.args,
                )
                call = ir.Call(
                    ir.Symbol("OutputMetric"),
                    (("metric", inner), ("index", index), ("name", key)),
                )
                out.append(ir.Metric(key, call, metric.helper))
        return out

    def generator(
        self, spec: dict[str, Any], path: Path, features: tuple[str, ...] | None
    ) -> tuple[ir.Graph, ir.Bridge, str | None]:
        """model.generator: encoder -> bridge -> decoder as one graph."""
        encoder = self.graph(spec["encoder"], path + ("encoder",), features)
        target = encoder.inputs[0].feature if len(encoder.inputs) == 1 else None
        if len(encoder.inputs) > 1:
            self.fail(
                path + ("encoder", "input_layers"), "a generator reconstructs one feature: its encoder has one input",
                "generator-input",
            )  # fmt: skip
        if len(encoder.outputs) != 1:
            self.fail(
                path + ("encoder", "output_layers"), f"the encoder has {len(encoder.outputs)} outputs; the bridge takes one",
                "generator-output",
            )  # fmt: skip
        name, args = _one(spec.get("bridge") or "NoOpBridge")
        bridge = ir.Bridge(
            name,
            int(args.get("latent_dim", 1)),
            float(args.get("mean", 0.0)),
            float(args.get("stddev", 1.0)),
        )
        taken = {i.var for i in encoder.inputs} | {l.var for l in encoder.layers}
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
                    ("name", "bridge"),
                ),
            )
            layers.append(
                ir.Layer(var, call, (code,), format_path(path + ("bridge", name)))
            )
            code = var
        decoder = self.graph(
            spec["decoder"], path + ("decoder",), features, given=code, taken=taken
        )
        graph = ir.Graph(encoder.inputs, (*layers, *decoder.layers), decoder.outputs)
        return graph, bridge, target

    def _check_output_units(
        self,
        graph: ir.Graph,
        spec: dict[str, Any],
        path: Path,
        labels: str,
        n_classes: int | None,
    ) -> None:
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
                self.fail(
                    _parse_source(last.source) + ("units",),
                    f"the output layer has {units} units but the labels need {what}", "output-units",
                    f"set units: {expected}",
                )  # fmt: skip

    def graph(
        self,
        graph: dict[str, Any],
        path: Path,
        features: tuple[str, ...] | None,
        *,
        given: str | None = None,
        taken: set[str] | None = None,
    ) -> ir.Graph:
        """A graph of layers, sequential or with inbound_nodes.

        `given` is the variable a decoder starts from (the bridge's output; its
        input_layers only name it); `taken` holds variables already in use.
        """
        if len(graph["layers"]) > MAX_LAYERS:
            self.fail(
                path + ("layers",), f"the graph has {len(graph['layers'])} layers, more than the {MAX_LAYERS} allowed",
                "too-large", key=True,
            )  # fmt: skip
            return ir.Graph((), (), ())
        inputs = _names(graph.get("input_layers"))
        graph_inputs: list[ir.Input] = []
        names: dict[str, str] = {}
        for n, feature in enumerate(inputs):
            if feature in inputs[:n]:
                self.fail(
                    path + ("input_layers",),
                    f"{show(feature)} is listed twice",
                    "duplicate-input",
                )
                continue
            if given is not None:
                names[feature] = given
                continue
            if features is not None and feature not in features:
                self.fail(
                    path + ("input_layers",), f"the data pipeline provides no feature {show(feature)}", "unknown-feature",
                    "features: " + ", ".join(features),
                )  # fmt: skip
            graph_inputs.append(ir.Input(feature, _safe_var(feature, f"input_{n}")))
            names[feature] = graph_inputs[-1].var
        if given is not None and len(inputs) > 1:
            self.fail(path + ("input_layers",), "a decoder has one input: the bridge's output", "decoder-input",
                      "name it once, e.g. input_layers: latent")  # fmt: skip
        sequential = (
            len(inputs) <= 1
            and not any(
                "inbound_nodes" in (_one(item)[1]) or "is_output" in (_one(item)[1])
                for item in graph["layers"]
            )
            and "output_layers" not in graph
        )
        used = set(taken or ()) | {i.var for i in graph_inputs}  # variables taken
        renamed: dict[str, str] = {}  # a taken variable -> its last free variant
        layers: list[ir.Layer] = []
        previous = given or (graph_inputs[0].var if graph_inputs else "x")
        outputs: list[str] = []  # output_layers, then the layers marked is_output
        marked: list[str] = []
        counters: dict[str, int] = {}
        auto: dict[str, str] = {}  # 2017 default names of unnamed layers
        for i, item in enumerate(graph["layers"]):
            name, args = _one(item)
            lpath = path + ("layers", i, name)
            inbound = args.pop("inbound_nodes", None)
            is_output = args.pop("is_output", False)
            args.pop("tags", None)
            if sequential:
                var = "x"
            else:
                base = _safe_var(
                    args.get("name") or f"{snake_case(name)}_{i}", f"layer_{i}"
                )
                var = renamed.get(base, base)
                while var in used:
                    var += "_"
                renamed[base] = var
                used.add(var)
            sources: tuple[str, ...]
            if inbound is None:
                sources = (previous,)
            else:
                inbound = [inbound] if isinstance(inbound, str) else inbound
                known = {**auto, **names}
                unknown = [n for n in inbound if n not in known]
                for n in unknown:
                    self.fail(
                        lpath + ("inbound_nodes",), f"no earlier layer or input is named {show(n)}", "unknown-node",
                        _near(n, list(known)),
                    )  # fmt: skip
                sources = tuple(known.get(n, previous) for n in inbound)
            self._check_arity(name, sources, lpath)
            layers.append(
                ir.Layer(
                    var, self.layer_call(name, args, lpath), sources, format_path(lpath)
                )
            )
            if args.get("name"):
                if args["name"] in names:
                    self.fail(
                        lpath + ("name",),
                        f"the name {show(args['name'])} is used twice",
                        "duplicate-name",
                    )
                names[args["name"]] = var
            # An unnamed layer is also known as `Type_N` (the N-th unnamed one of its
            # type), as the 2017 tool named it; a name given that way counts too.
            own = args.get("name")
            if not own or own == f"{name}_{counters.get(name, 0) + 1}":
                counters[name] = counters.get(name, 0) + 1
                if not own:
                    auto.setdefault(f"{name}_{counters[name]}", var)
            if is_output:
                marked.append(var)
            previous = var
        names = {**auto, **names}
        for out in _names(graph.get("output_layers")):
            if out not in names:
                self.fail(
                    path + ("output_layers",),
                    f"no layer is named {show(out)}",
                    "unknown-node",
                    _near(out, list(names)),
                )
            elif names[out] not in outputs:
                outputs.append(names[out])
        if "output_layers" not in graph:
            outputs.append(previous)  # the default: the last layer
        outputs.extend(var for var in marked if var not in outputs)
        if any(o not in {layer.var for layer in layers} for o in outputs):
            self.fail(
                path + ("output_layers",),
                "an output must be a layer, not an input",
                "input-as-output",
            )
        self._check_used(layers, outputs, path)
        return ir.Graph(tuple(graph_inputs), tuple(layers), tuple(outputs))

    def _check_arity(self, name: str, sources: tuple[str, ...], path: Path) -> None:
        """Merge layers take several inputs (Dot and Subtract exactly two); others one."""
        merge = keras_layers().get(name, {}).get("merge", False)
        if name in _ATTENTION:
            if not 2 <= len(sources) <= 3:
                self.fail(path, f"{name} takes a query and a value (and optionally a key) in inbound_nodes",
                          "layer-inputs", "e.g. inbound_nodes: [query, value]", key=True)  # fmt: skip
        elif merge and len(sources) < 2:
            self.fail(path, f"{name} merges several inputs: list them in inbound_nodes", "merge-inputs",
                      "e.g. inbound_nodes: [left, right]", key=True)  # fmt: skip
        elif name in ("Dot", "Subtract") and len(sources) != 2:
            self.fail(
                path + ("inbound_nodes",),
                f"{name} takes exactly two inputs, got {len(sources)}",
                "merge-inputs",
            )
        elif not merge and len(sources) > 1:
            self.fail(path + ("inbound_nodes",), f"{name} takes one input, got {len(sources)}", "layer-inputs",
                      "merge them first with Concatenate, Add, ...")  # fmt: skip

    def _check_used(
        self, layers: list[ir.Layer], outputs: list[str], path: Path
    ) -> None:
        needed = set(outputs)
        for layer in reversed(layers):
            if layer.var in needed:
                needed.update(layer.inputs)
        for i, layer in enumerate(layers):
            if layer.var not in needed and layer.var != "x":
                self.fail(_parse_source(layer.source), "this layer feeds no output of the graph", "unused-layer",
                          "connect it with inbound_nodes or remove it")  # fmt: skip

    def layer_call(self, name: str, args: dict[str, Any], path: Path) -> ir.Call:
        """The constructor call of one layer (nested initializers etc. included)."""
        if name == "Cast":
            return ir.Call(ir.Symbol("keras.ops.cast"), (("dtype", args["dtype"]),))
        props = keras_layers()[name]["properties"]
        kwargs = []
        for key, value in args.items():
            ref = _ref(props.get(key, {}))
            kwargs.append((key, self._nested(ref, value, path + (key,))))
        return ir.Call(ir.Symbol(f"keras.layers.{name}"), tuple(kwargs))

    def _nested(self, ref: str, value: Any, path: Path) -> Any:
        kind = ref.rsplit("/", 1)[-1]
        if not isinstance(value, dict) or kind not in _NESTED_KINDS:
            return (
                value  # plain data, e.g. BatchNormalization's renorm_clipping mapping
            )
        name, args = _one(value)
        if kind == "layer":
            inner = dict(args)
            for key in ("inbound_nodes", "is_output", "tags"):
                inner.pop(key, None)
            return self.layer_call(name, inner, path + (name,))
        tables = {
            "initializer": registry.INITIALIZERS,
            "regularizer": registry.REGULARIZERS,
            "constraint": registry.CONSTRAINTS,
        }
        qualname, _ = tables[kind][name]
        if kind == "regularizer":
            entry = registry.REGULARIZERS[name][1]
            full = {k: v.get("default") for k, v in entry.params.items()}
            full.update(args)
            args = {registry.REGULARIZER_ARGS[name][k]: v for k, v in full.items()}
        return ir.Call(ir.Symbol(qualname), _kwargs(args))

    # ---------------------------------------------------------- loss/metrics
    def loss(self, name: str, args: dict[str, Any], path: Path, labels: str) -> ir.Loss:
        """The 2017 loss as a per-example Keras loss."""
        weight = args.pop("weights", 1.0)
        none: tuple[tuple[str, Any], ...] = (("reduction", None),)
        if labels == "sparse" and name != "SoftmaxCrossEntropy":
            self.fail(path, f"{name} compares outputs with one-hot labels", "needs-one-hot",
                      "set one_hot_encode: true, or use SoftmaxCrossEntropy", key=True)  # fmt: skip
        smoothing = args.get("label_smoothing", 0.0)
        if name == "SoftmaxCrossEntropy":
            if labels in ("binary", "float"):
                self.fail(
                    path,
                    "SoftmaxCrossEntropy needs n_classes",
                    "needs-n-classes",
                    key=True,
                )
            if labels == "sparse":
                if smoothing:
                    self.fail(path + ("label_smoothing",), "label smoothing needs one-hot labels", "needs-one-hot",
                              "set one_hot_encode: true")  # fmt: skip
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
                self.fail(path + ("dim",), "Keras takes the divergence along the last axis only", "unsupported-value",
                          "use dim: -1")  # fmt: skip
            call = ir.Call(ir.Symbol("keras.losses.KLDivergence"), none)
        else:
            keras_name = {
                "AbsoluteDifference": "MeanAbsoluteError",
                "MeanSquaredError": "MeanSquaredError",
                "HingeLoss": "Hinge",
                "PoissonLoss": "Poisson",
            }[name]
            call = ir.Call(ir.Symbol(f"keras.losses.{keras_name}"), none)
        return ir.Loss(name, call, float(weight))

    def metric(
        self,
        name: str,
        args: dict[str, Any],
        path: Path,
        labels: str,
        n_classes: int | None,
    ) -> list[ir.Metric]:
        """One 2017 metric as one or more Keras metrics."""
        key = snake_case(name)
        if name in _THRESHOLD_METRICS and labels == "sparse":
            self.fail(
                path,
                f"{name} compares scores with one-hot labels",
                "needs-one-hot",
                "set one_hot_encode: true",
            )
        classes_only = {"SparseRecallAtK", "SparsePrecisionAtK", "MeanIOU"}
        if name in classes_only and labels in ("binary", "float") and name != "MeanIOU":
            self.fail(
                path, f"{name} needs a classifier with n_classes", "needs-n-classes"
            )

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

        simple = {
            "TruePositives", "TrueNegatives", "FalsePositives", "FalseNegatives", "Precision", "Recall",
            "MeanAbsoluteError", "MeanSquaredError", "RootMeanSquaredError",
        }  # fmt: skip
        if name in simple:
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
            thresholds = args["thresholds"]
            thresholds = (
                [thresholds] if not isinstance(thresholds, list) else thresholds
            )
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
            self.fail(path, "MeanIOU needs a classifier", "needs-classifier")
            return []
        if name == "Mean":
            return [helper("mean_prediction")]
        if name == "PercentageLess":
            return [helper("percentage_less", threshold=args["threshold"])]
        if name == "MeanRelativeError":
            if args["normalizer"] == 0:
                self.fail(path, "the normalizer must not be 0", "zero-normalizer")
            return [helper("relative_error", normalizer=args["normalizer"])]
        if name == "MeanCosineDistance":
            return [helper("cosine_distance", axis=args.get("dim", -1))]
        # Covariance, PearsonCorrelation: streaming moments of predictions and labels.
        call = ir.Call(
            ir.Symbol("Comoments"),
            (("correlation", name == "PearsonCorrelation"), ("name", key)),
        )
        return [ir.Metric(key, call, "Comoments")]

    # ------------------------------------------------------------- optimizer
    def optimizer(
        self, name: str, args: dict[str, Any], path: Path, clip: float
    ) -> ir.Optimizer:
        """The optimizer, its learning rate and its 2017 decay."""
        entry = registry.OPTIMIZERS[name]
        full: dict[str, Any] = {k: v.get("default") for k, v in entry.params.items()}
        full.update(args)
        qualname, mapping, fixed = registry.OPTIMIZER_KERAS[name]
        kwargs = [(keras_key, full[key]) for key, keras_key in mapping.items()]
        kwargs.extend(fixed.items())
        if clip:
            kwargs.append(("global_clipnorm", clip))
        decay = None
        kind = full["decay_type"]
        if kind:
            if (
                kind in ("exponential_decay", "inverse_time_decay", "natural_exp_decay")
                and not full["decay_rate"]
            ):
                where = (
                    path + ("decay_rate",)
                    if "decay_rate" in args
                    else path + ("decay_type",)
                )
                self.fail(where, f"{kind} needs a decay_rate above 0", "decay-rate", "set decay_rate, e.g. 0.96",
                          key=True)  # fmt: skip
            boundaries, values = full["boundaries"] or [], full["values"] or []
            if kind == "piecewise_constant" and (
                not boundaries or len(values) != len(boundaries) + 1
            ):
                self.fail(path + ("decay_type",), "piecewise_constant needs boundaries and one more values",
                          "piecewise", "e.g. boundaries: [1000, 2000], values: [0.1, 0.01, 0.001]")  # fmt: skip
            decay = ir.Decay(
                kind=kind,
                learning_rate=full["learning_rate"],
                decay_steps=full["decay_steps"],
                decay_rate=full["decay_rate"],
                staircase=full["staircase"],
                start=full["start_decay_at"],
                stop=full["stop_decay_at"],
                floor=full["min_learning_rate"],
                boundaries=tuple(boundaries),
                values=tuple(values),
                end_learning_rate=full["end_learning_rate"],
                power=full["power"],
            )
        return ir.Optimizer(
            name,
            ir.Call(ir.Symbol(qualname), tuple(kwargs)),
            full["learning_rate"],
            decay,
            clip,
        )


def _ref(schema: dict[str, Any]) -> str:
    """The `$ref` of a property schema, also inside `anyOf: [$ref, null]`."""
    if "$ref" in schema:
        return str(schema["$ref"])
    for branch in schema.get("anyOf", []):
        if "$ref" in branch:
            return str(branch["$ref"])
    return ""


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _near(word: str, choices: list[str]) -> str | None:
    """A did-you-mean, else the first few known names (bounded work and text)."""
    import difflib

    if len(choices) <= 1000 and len(word) <= 100:
        close = difflib.get_close_matches(word, choices, n=1)
        if close:
            return f"did you mean {show(close[0])}?"
    if not choices:
        return None
    shown = ", ".join(c if len(c) <= 60 else show(c) for c in choices[:12])
    if len(choices) <= 12:
        return "known names: " + shown
    return f"known names: {shown}, ... ({len(choices)} in all)"


def _format_problem(fmt: str) -> str | None:
    """Why `logging.Formatter(fmt)` cannot format a record, or None."""
    import logging

    fields = [f for f in _FORMAT_FIELD.finditer(fmt) if f.group() != "%%"]
    if not fields:
        return "it has no field of a log record, such as %(message)s"
    for field in fields:
        for number in field.groups():
            if number and (len(number) > 4 or int(number) > MAX_FORMAT_WIDTH):
                return f"a width of {number} is more than {MAX_FORMAT_WIDTH}"
    try:
        formatter = logging.Formatter(fmt, validate=True)
        record = logging.LogRecord(
            "plxgen", logging.INFO, "train.py", 1, "message", None, None
        )
        formatter.format(record)
    except KeyError as exc:
        return f"a log record has no field {show(exc.args[0])}"
    except (ValueError, TypeError, IndexError) as exc:
        return show(str(exc), 200)[1:-1]
    return None


def _safe_var(name: str, fallback: str) -> str:
    """A config name as a Python variable, if it is a safe identifier; else the fallback."""
    if (
        _IDENT.fullmatch(name)
        and not keyword.iskeyword(name)
        and name not in _RESERVED
        and not name.startswith("__")
    ):
        # A layer named `sum` or `input` must not shadow the builtin.
        return f"{name}_" if name in _BUILTINS else name
    return fallback


def _parse_source(source: str) -> Path:
    parts: list[str | int] = []
    for token in re.findall(r"[^.\[\]]+|\[\d+\]", source):
        parts.append(int(token[1:-1]) if token.startswith("[") else token)
    return tuple(parts)


def _join(prefix: str, path: str) -> str:
    import posixpath

    return (
        posixpath.normpath(posixpath.join(prefix, path))
        if prefix
        else posixpath.normpath(path)
    )


def pipeline_features(pipe: ir.Pipeline) -> tuple[str, ...] | None:
    """The features a pipeline gives the model (None: named by its meta data at run time)."""
    if pipe.kind == "NumpyPipeline":
        return tuple(dict(pipe.options)["features"])
    return PIPELINE_FEATURES.get(pipe.kind)


def lower(
    doc: Document, config_path: str, data_prefix: str
) -> ir.Experiment | RLExperiment:
    """Lower a validated document; raises ConfigError with every semantic problem."""
    return Lowerer(doc, config_path, data_prefix).experiment()
