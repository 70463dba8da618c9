"""The Jinja environment and its filters: render(ir) -> Python source, no I/O."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable

import jinja2

from plxgen.compiler import cache, ir
from plxgen.compiler.literals import comment, docstring, ident, py

if TYPE_CHECKING:  # the RL IR is loaded only for RL experiments
    from plxgen.compiler.rl_ir import RLExperiment

_CPP_LOG_LEVEL = {
    "DEBUG": "0",
    "INFO": "1",
    "WARNING": "1",
    "ERROR": "2",
    "CRITICAL": "3",
}


def _helpers_used(exp: ir.Experiment) -> set[str]:
    """The script's own functions and classes that the model's calls name."""
    used = {m.helper for m in exp.model.metrics if m.helper}

    def walk(value: Any) -> None:
        if isinstance(value, ir.Symbol) and "." not in value.qualname:
            used.add(value.qualname)
        elif isinstance(value, ir.Call):
            walk(value.func)
            for item in (*value.args, *(v for _, v in value.kwargs)):
                walk(item)

    walk(exp.model.loss.call)
    for metric in exp.model.metrics:
        walk(metric.call)
    for layer in exp.model.graph.layers:
        walk(layer.call)
    return used


def _has_regularizers(exp: ir.Experiment) -> bool:
    def calls(value: Any) -> bool:
        return isinstance(value, ir.Call) and any(
            k.endswith("_regularizer") or calls(v) for k, v in value.kwargs
        )

    return any(
        calls(layer.call)
        or layer.call.func.qualname
        in ("keras.layers.ActivityRegularization", "LatentBridge")
        for layer in exp.model.graph.layers
    )


def _has_processors(exp: ir.Experiment) -> bool:
    return any(p.processors for p in (exp.train, exp.eval) if p)


def _random_processor_kinds(exp: ir.Experiment) -> set[str]:
    return {
        op.kind
        for pipe in (exp.train, exp.eval)
        if pipe
        for p in pipe.processors
        for op in p.ops
        if op.random
    }


_DATASET_FUNCTIONS = {
    "TFRecordImagePipeline": "image_dataset",
    "TFRecordSequencePipeline": "sequence_dataset",
    "NumpyPipeline": "numpy_dataset",
    "CsvPipeline": "csv_dataset",
    "ParallelTextPipeline": "parallel_text_dataset",
    "TFRecordSourceSequencePipeline": "source_sequence_dataset",
    "ImageCaptioningPipeline": "captioning_dataset",
}


def _processors_function(pipe: ir.Pipeline, exp: ir.Experiment) -> str:
    """`process_features` where train and eval process alike, else one per section."""
    funcs = [[p.func for p in q.processors] for q in (exp.train, exp.eval) if q]
    if len(funcs) == 2 and funcs[0] != funcs[1]:
        return f"process_{pipe.section}_features"
    return "process_features"


def _schedules(exp: ir.Experiment) -> list[str]:
    if exp.eval:
        return ["train", "evaluate", "train_and_evaluate", "predict", "export"]
    return ["train", "export"]


def _sessions(exp: ir.Experiment) -> list[ir.Session]:
    env = exp.environment
    return [exp.run_config.session, *(t.session for t in env.task_sessions)]


def _session_dict(session: ir.Session) -> dict[str, Any]:
    """A session under the 2017 option names, for the SESSIONS table of a cluster."""
    return {
        "intra_op_parallelism_threads": session.intra_op_threads,
        "inter_op_parallelism_threads": session.inter_op_threads,
        "allow_soft_placement": session.soft_placement,
        "log_device_placement": session.log_device_placement,
        "allow_growth": session.memory_growth,
        "per_process_gpu_memory_fraction": session.memory_fraction,
        "visible_device_list": list(session.visible_gpus or []),
    }


def _task_sessions(exp: ir.Experiment) -> dict[str, Any]:
    table = {"chief": _session_dict(exp.run_config.session)}
    for task in exp.environment.task_sessions:
        key = task.task_type if task.index is None else f"{task.task_type}:{task.index}"
        table[key] = _session_dict(task.session)
    return table


def _task_choices(env: ir.Environment) -> list[str]:
    jobs = [job for job, _ in env.cluster or ()]
    return (["chief", "master"] if "chief" in jobs else []) + [
        job for job in jobs if job != "chief"
    ]


def _environment_text(env: ir.Environment) -> str | None:
    """What a scheduler needs to know: the tasks to start and their resources."""
    lines = []
    if env.distributed:
        shape = f"a chief (2017 'master'), {env.n_workers} worker(s)"
        if env.n_ps:
            shape += f" and {env.n_ps} parameter server(s)"
        how = "--task-type/--task-index or TF_CONFIG" if env.cluster else "TF_CONFIG"
        lines.append(
            f"Distributed ({env.strategy}): start one process per task of\n"
            f"{shape}, each with {how};\n"
            "the chief writes --model-dir."
        )
    elif env.strategy == "mirrored":
        devices = f"{env.replicas} local devices" if env.replicas else "every local GPU"
        lines.append(f"Trains on {devices} (MirroredStrategy).")
    if env.resources:
        lines.append("Resources per task (environment):")
        lines.extend(
            f"  {who}: {kind} {bound} {amount}"
            for who, kind, bound, amount in env.resources
        )
    return "\n".join(lines) if lines else None


def _script_docstring(exp: ir.Experiment | RLExperiment) -> str:
    if isinstance(exp, ir.Experiment):
        what = exp.model.kind
        outputs = (
            "Run it with --help for the options. Checkpoints, TensorBoard summaries, metrics.json\n"
            "and exports go to --model-dir; a rerun resumes from its newest checkpoint."
        )
    else:
        what = f"{exp.agent.kind} agent"
        outputs = (
            "Run it with --help for the options. Checkpoints, TensorBoard summaries and\n"
            "metrics.json go to --model-dir; a rerun resumes from its newest checkpoint."
        )
    summary = (
        f"Train {exp.project}: a {what} compiled by plxgen from {exp.config_path}."
    )
    parts = [summary]
    if exp.description:
        parts.append(exp.description.strip())
    if isinstance(exp, ir.Experiment):
        environment = _environment_text(exp.environment)
        if environment:
            parts.append(environment)
    parts.append(outputs)
    return docstring("\n\n".join(parts) + "\n")


def _template_source(name: str) -> tuple[str, None, Callable[[], bool]]:
    """A template shipped in plxgen.templates (the repository's templates/ folder)."""
    from importlib import resources

    return resources.files("plxgen.templates").joinpath(name).read_text(), None, lambda: True


def compiling_environment() -> jinja2.Environment:
    """A Jinja environment with plxgen's settings, loader and filters."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        bytecode_cache=cache.template_cache(),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        extensions=["jinja2.ext.do"],
    )
    env.filters.update(
        py=py,
        ident=ident,
        comment=lambda v: comment(str(v)),
        dict=dict,
        dict_by_feature=lambda processors: {p.feature: p for p in processors},
        helpers_used=_helpers_used,
        has_regularizers=_has_regularizers,
        has_processors=_has_processors,
        schedules=_schedules,
        random_processor_kinds=_random_processor_kinds,
        processors_function=_processors_function,
        dataset_function_name=lambda kind: _DATASET_FUNCTIONS[kind],
        reads_in_order=lambda p: not p.shuffle
        and p.num_epochs == 1
        and not p.drop_remainder,
        script_docstring=_script_docstring,
        cpp_log_level=lambda level: _CPP_LOG_LEVEL[level],
        cluster_dict=lambda cluster: {job: list(hosts) for job, hosts in cluster},
        task_choices=_task_choices,
        task_sessions=_task_sessions,
        memory_fraction=lambda exp: any(s.memory_fraction for s in _sessions(exp)),
    )
    return env


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment (templates are loaded once per process)."""
    return compiling_environment()


def render(exp: ir.Experiment | RLExperiment) -> str:
    """The (unformatted) script body for an experiment."""
    if not isinstance(exp, ir.Experiment):
        return environment().get_template("rl.py.j2").render(exp=exp)
    return environment().get_template("script.py.j2").render(exp=exp)
