"""Where and how a model trains: the environment (strategy, cluster, devices,
the sessions of its tasks), run_config, and settings.logging."""

from __future__ import annotations

import re
from typing import Any

from plxgen.compiler import ir
from plxgen.compiler.load import Path, show
from plxgen.compiler.lower.context import Context

MAX_FORMAT_WIDTH = 1_000
_FORMAT_FIELD = re.compile(r"%%|%\([^)]*\)[#0 +-]*([0-9]*)(?:\.([0-9]*))?")
# Why an explicit strategy does not fit the environment that would derive another.
_STRATEGY_NEEDS = {
    "parameter_server": "needs parameter servers: set n_ps or list ps tasks in run_config.cluster",
    "multi_worker_mirrored": "trains on workers without parameter servers",
    "mirrored": "trains on the devices of one machine, without a cluster",
    "one_device": "trains on one device, without a cluster",
}


def lower_environment(ctx: Context, env: dict[str, Any]) -> ir.Environment:
    """environment: the strategy, the cluster and the sessions of its tasks."""
    base: Path = ("environment",)
    cluster = _cluster(ctx, env.get("run_config", {}).get("cluster"))
    jobs = dict(cluster or ())
    n_workers, n_ps = env.get("n_workers", 0), env.get("n_ps", 0)
    for key, job, n in (("n_workers", "worker", n_workers), ("n_ps", "ps", n_ps)):
        if cluster is not None and n and n != len(jobs.get(job, ())):
            ctx.fail(
                base + (key,),
                f"{key} is {n} but run_config.cluster lists {len(jobs.get(job, ()))} {job} task(s)",
                "conflict",
                "give the same number, or leave n_workers / n_ps out",
                key=True,
            )
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
        ctx.fail(
            base + ("strategy",),
            f"{strategy} {_STRATEGY_NEEDS[strategy]}",
            "conflict",
            f"this environment asks for {derived}",
        )
    if replicas and strategy != "mirrored":
        ctx.fail(
            base + ("replicas",),
            "replicas sets the local devices of the mirrored strategy",
            "conflict",
            "in a cluster every worker uses all its GPUs (restrict them with gpu_options.visible_device_list)",
            key=True,
        )
    if strategy == "parameter_server":
        if not n_workers:
            ctx.fail(
                base + ("n_ps",),
                "parameter servers need workers to train",
                "conflict",
                "set n_workers, or list worker tasks in run_config.cluster",
                key=True,
            )
        if cluster is not None and "chief" not in jobs:
            ctx.fail(
                base + ("run_config", "cluster"),
                "parameter-server training needs a master (the chief)",
                "conflict",
                "add master: [host:port]",
                key=True,
            )
    precision = env.get("mixed_precision", False)
    return ir.Environment(
        strategy=strategy,
        replicas=replicas,
        cluster=cluster,
        n_workers=n_workers,
        n_ps=n_ps,
        delay_workers=env.get("delay_workers_by_global_step", False),
        task_sessions=_task_sessions(ctx, env),
        mixed_precision="mixed_float16" if precision is True else precision or None,
        steps_per_execution=env.get("steps_per_execution", 100),
        jit_compile=_jit_compile(ctx, env, strategy),
        resources=_resources(env),
    )


def _task_sessions(ctx: Context, env: dict[str, Any]) -> tuple[ir.TaskSession, ...]:
    """The sessions of the workers and the parameter servers, default and per task."""
    base: Path = ("environment",)
    sessions = []
    for job in ("worker", "ps"):
        if f"default_{job}_config" in env:
            path = base + (f"default_{job}_config",)
            sessions.append(
                ir.TaskSession(
                    job, None, lower_session(ctx, env[f"default_{job}_config"], path)
                )
            )
        for i, item in enumerate(env.get(f"{job}_configs") or []):
            path = base + (f"{job}_configs", i)
            if item.get("index") is None:
                ctx.fail(
                    path,
                    f"a session of {job}_configs needs the index of its task",
                    "missing-index",
                    f"add index: N (0 for the first {job})",
                )
                continue
            sessions.append(
                ir.TaskSession(job, item["index"], lower_session(ctx, item, path))
            )
    return tuple(sessions)


def _resources(env: dict[str, Any]) -> tuple[tuple[str, str, str, str], ...]:
    """(who, kind, bound, value) for each resource the chief, workers and ps ask for."""
    resources = []
    for key, who in (
        ("resources", "chief"),
        ("master_resources", "chief"),
        ("default_worker_resources", "each worker"),
        ("default_ps_resources", "each ps"),
    ):
        for kind, amount in (env.get(key) or {}).items():
            for bound, value in (amount or {}).items():
                resources.append((who, kind, bound, str(value)))
    return tuple(resources)


def _jit_compile(ctx: Context, env: dict[str, Any], strategy: str) -> bool:
    """environment.jit_compile, where XLA steps are offered: on one device.

    Under tf.distribute the replicated step with its all-reduce did not compile
    (TensorFlow 2.21, mirrored logical CPUs).
    """
    jit = bool(env.get("jit_compile", False))
    if jit and strategy != "one_device":
        ctx.fail(
            ("environment", "jit_compile"),
            f"XLA-compiled steps are offered on one device, not with {strategy}",
            "conflict",
            "leave jit_compile out, or train on one device",
            key=True,
        )
    return jit


def _cluster(
    ctx: Context, spec: dict[str, Any] | None
) -> tuple[tuple[str, tuple[str, ...]], ...] | None:
    """run_config.cluster with TensorFlow's job names (the 2017 master is the chief)."""
    if not spec:
        return None
    path: Path = ("environment", "run_config", "cluster")
    if "master" in spec and "chief" in spec:
        ctx.fail(
            path + ("chief",),
            "master and chief name the same task",
            "conflict",
            "keep one of them",
            key=True,
        )
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
            ctx.fail(
                path + (key,),
                f"the {key} is one task, not {len(hosts)}",
                "conflict",
                "list one host:port",
            )
        for i, host in enumerate(hosts):
            if host in seen:
                ctx.fail(
                    path + (key, i),
                    f"{show(host)} is already the address of another task",
                    "conflict",
                    "give every task its own port",
                )
            seen[host] = path + (key, i)
        if job != "chief" or not any(j == "chief" for j, _ in jobs):
            jobs.append((job, tuple(hosts)))
    if not any(job in ("chief", "worker") for job, _ in jobs):
        ctx.fail(
            path,
            "a cluster needs a master or workers to train",
            "conflict",
            "list at least one host under master or worker",
            key=True,
        )
    return tuple(jobs)


def lower_session(ctx: Context, session: dict[str, Any], path: Path) -> ir.Session:
    """A session (run_config.session, a worker's or a ps's) as tf.config settings."""
    gpu = session.get("gpu_options", {})
    fractions = [
        k
        for k in ("per_process_gpu_memory_fraction", "gpu_memory_fraction")
        if k in gpu
    ]
    if len(fractions) > 1:
        ctx.fail(
            path + ("gpu_options", fractions[1]),
            "two spellings of the same fraction",
            "conflict",
            "keep per_process_gpu_memory_fraction",
            key=True,
        )
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


def lower_run_config(ctx: Context, rc: dict[str, Any]) -> ir.RunConfig:
    """environment.run_config with the 2017 defaults."""
    steps = rc.get("save_checkpoints_steps")
    secs = rc.get("save_checkpoints_secs")
    if steps and secs:
        ctx.fail(
            ("environment", "run_config", "save_checkpoints_secs"),
            "give save_checkpoints_steps or save_checkpoints_secs, not both",
            "conflict",
            "remove one of them",
            key=True,
        )
    if steps is None and secs is None:
        secs = 600  # tf.estimator.RunConfig's default
    return ir.RunConfig(
        seed=rc.get("tf_random_seed"),
        save_summary_steps=rc.get("save_summary_steps", 100),
        save_checkpoints_steps=steps,
        save_checkpoints_secs=secs,
        keep_checkpoint_max=rc.get("keep_checkpoint_max", 5),
        keep_checkpoint_every_n_hours=rc.get("keep_checkpoint_every_n_hours"),
        session=lower_session(
            ctx, rc.get("session", {}), ("environment", "run_config", "session")
        ),
    )


def lower_logging(ctx: Context, settings: dict[str, Any]) -> ir.Logging:
    """settings.logging: the level, a format logging can use, the log file."""
    path = settings.get("path")
    return ir.Logging(
        level=settings.get("level", "INFO"),
        formatter=_formatter(ctx, settings.get("formatter")),
        path=ctx.data_path(path) if path else None,
    )


def _formatter(ctx: Context, fmt: str | None) -> str | None:
    """settings.logging.formatter, if logging can format a record with it."""
    if fmt is None:
        return None
    problem = _format_problem(fmt)
    if problem:
        ctx.fail(
            ("settings", "logging", "formatter"),
            f"not a logging format: {problem}",
            "bad-format",
            "use %(name)s fields of a log record, e.g. '%(asctime)s %(levelname)s %(message)s'",
        )
    return fmt


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


def script_config(data: dict[str, Any]) -> dict[str, Any]:
    """The resolved config a script records (config.json): all but `launch`.

    How a run is submitted is the launcher's business: a changed image or
    partition leaves the scripts as they are.
    """
    return {key: value for key, value in data.items() if key != "launch"}
