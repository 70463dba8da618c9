"""Launchers: the file that submits a script, a sweep or a cluster to SLURM or Kubernetes.

`plxgen compile CONFIG -o OUT --target slurm|kubernetes` writes, beside the
script (or the sweep's scripts and `matrix.json`), `NAME.sbatch` or
`NAME.k8s.yaml`. What it asks for comes from the experiment file, 2017 keys
included: `settings.concurrent_experiments` (how many scripts of a matrix at
once), `environment.n_workers` / `n_ps` / `run_config.cluster` (the tasks),
`resources`, `default_worker_resources`, `worker_resources`, ... (what each
task needs), `settings.run_type` (noted), and the file's own `launch:`
section (runs folder, Python, partition, image, claims). The scripts do not
depend on any of it: a launcher is an extra output, checked and hashed like
the others.

A value the target cannot express is a located warning that says what the
launcher asks for instead. The launcher is rendered from a `Launch` whose
fields are decided here; the templates (`slurm.sbatch.j2`,
`kubernetes.yaml.j2`) only place them, every value through one literal
filter (`sh` for the shell, `yaml` for YAML).
"""

from __future__ import annotations

import math
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from plxgen.compiler.load import Document, Path
from plxgen.errors import ConfigError, Diagnostic, collecting_warnings, warn

TARGETS = {"slurm": ".sbatch", "kubernetes": ".k8s.yaml"}
# The jobs of a cluster in task order (SLURM_PROCID), with a TFJob's name for each.
ROLES = {"chief": "Chief", "worker": "Worker", "ps": "PS"}
DEFAULT_IMAGE = "tensorflow/tensorflow:2.21.0"
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?\Z")
_MIB = {None: 1, "Ki": 1 / 1024, "Mi": 1, "Gi": 1024, "Ti": 1024**2,
        "k": 1e3 / 2**20, "K": 1e3 / 2**20, "M": 1e6 / 2**20, "G": 1e9 / 2**20, "T": 1e12 / 2**20}  # fmt: skip


@dataclass(frozen=True)
class Amount:
    """One resource of one task: what it asks for and the most it may use."""

    requests: float | None = None
    limits: float | None = None

    def value(self, prefer: str) -> float | None:
        """`limits` or `requests`, the one preferred first."""
        first, second = (
            (self.limits, self.requests)
            if prefer == "limits"
            else (self.requests, self.limits)
        )
        return first if first is not None else second


@dataclass(frozen=True)
class Needs:
    """One task's resources: cpu in cores, memory in MiB, gpu in devices."""

    cpu: Amount = Amount()
    memory: Amount = Amount()
    gpu: Amount = Amount()
    path: Path = ()  # where the file says it (the resources mapping)

    @property
    def empty(self) -> bool:
        return not any(
            v is not None
            for a in (self.cpu, self.memory, self.gpu)
            for v in (a.requests, a.limits)
        )

    def same(self, other: Needs) -> bool:
        return (self.cpu, self.memory, self.gpu) == (other.cpu, other.memory, other.gpu)


@dataclass(frozen=True)
class Role:
    """The tasks of one job of the cluster (TF_CONFIG's name) and what each needs."""

    name: str  # chief | worker | ps
    tasks: tuple[Needs, ...]


@dataclass(frozen=True)
class Launch:
    """Everything a launcher says, for every target."""

    name: str  # the job's name: the config's stem
    scripts: tuple[str, ...]  # in the launcher's folder, in matrix.json's order
    matrix: bool
    concurrent: int | None
    roles: tuple[Role, ...]  # one process: the chief alone
    runs: str
    python: str
    run_type: str | None
    slurm: dict[str, str]
    kubernetes: dict[str, str]

    @property
    def tasks(self) -> int:
        return sum(len(r.tasks) for r in self.roles)

    @property
    def task_roles(self) -> list[tuple[str, int]]:
        """(job, index) of each task in SLURM_PROCID order: the chief, the workers, the ps."""
        return [(r.name, i) for r in self.roles for i in range(len(r.tasks))]


def extract(
    doc: Document,
    name: str,
    scripts: list[str],
    combos: list[dict[str, Any]] | None,
    config_folder: str,
) -> Launch:
    """The launch of a config (each combination of a matrix must launch alike).

    `config_folder`: the config's folder as seen from the launcher's (POSIX).
    """
    from plxgen.compiler.compat import normalise
    from plxgen.compiler.front import render_document

    found: Launch | None = None
    first: dict[str, Any] = {}
    each: list[dict[str, Any] | None] = list(combos) if combos is not None else [None]
    for values in each:
        with collecting_warnings():  # the scripts' compile reported them
            rendered, _ = render_document(doc, values)
            rendered = normalise(rendered)
        errors: list[Diagnostic] = []
        launch = _launch(
            rendered, name, scripts, combos is not None, config_folder, errors
        )
        if errors:
            raise ConfigError(errors)
        if found is not None and launch != found:
            # Where the file says it: the first section whose values the combination changes.
            section = next(
                (k for k in ("environment", "settings", "launch") if rendered.data.get(k) != first.get(k)),
                "environment",
            )  # fmt: skip
            raise ConfigError([doc.diagnostic(
                (section,), "a launcher is one file for the whole matrix, but its tasks, "
                "resources or launch settings change with the combination", "launch-varies",
                "keep matrix values out of environment's resources, n_workers, n_ps and launch",
                key=True,
            )])  # fmt: skip
        if found is None:
            first = rendered.data
        found = launch
    assert found is not None
    return found


def _launch(
    doc: Document,
    name: str,
    scripts: list[str],
    matrix: bool,
    config_folder: str,
    errors: list[Diagnostic],
) -> Launch:
    data = doc.data
    settings = data.get("settings") or {}
    env = data.get("environment") or {}
    launch = data.get("launch") or {}
    cluster = (env.get("run_config") or {}).get("cluster")
    if cluster is not None:
        counts = {
            "chief": len(cluster.get("chief") or cluster.get("master") or []),
            "worker": len(cluster.get("worker") or []),
            "ps": len(cluster.get("ps") or []),
        }
    else:
        workers, ps = env.get("n_workers") or 0, env.get("n_ps") or 0
        counts = {"chief": 1 if workers or ps else 0, "worker": workers, "ps": ps}
    if counts["worker"] or counts["ps"]:
        roles = tuple(
            Role(
                role,
                tuple(_needs(doc, env, role, i, errors) for i in range(counts[role])),
            )
            for role in ROLES
            if counts[role]
        )
    else:  # one process: the chief's resources are the run's
        roles = (Role("chief", (_needs(doc, env, "chief", 0, errors),)),)
    for role in ("worker", "ps"):
        for i, item in enumerate(env.get(f"{role}_resources") or []):
            index = item.get("index")
            if index is None or index >= counts[role]:
                errors.append(doc.diagnostic(
                    ("environment", f"{role}_resources", i),
                    f"these resources are for no {role}: "
                    + ("they name no index" if index is None else f"the cluster has {counts[role]} {role} task(s)"),
                    "no-such-task",
                    hint=f"give the index of a {role} (0 for the first), or remove them",
                ))  # fmt: skip
    kubernetes = dict(launch.get("kubernetes") or {})
    kubernetes.setdefault("image", DEFAULT_IMAGE)
    kubernetes.setdefault("workdir", "/workspace")
    data = _data_folder(data, config_folder)
    if data is not None and "data_path" not in kubernetes:
        kubernetes["data_path"] = posixpath.normpath(
            posixpath.join(kubernetes["workdir"], data)
        )
    kubernetes.setdefault("data_claim", f"{_dns(name)}-data")
    kubernetes.setdefault("runs_claim", f"{_dns(name)}-runs")
    return Launch(
        name=name,
        scripts=tuple(scripts),
        matrix=matrix,
        concurrent=settings.get("concurrent_experiments"),
        roles=roles,
        runs=launch.get("runs", "runs").rstrip("/") or "/",
        python=launch.get("python", "python3"),
        run_type=settings.get("run_type"),
        slurm=dict(launch.get("slurm") or {}),
        kubernetes=kubernetes,
    )


def _data_folder(data: dict[str, Any], config_folder: str) -> str | None:
    """The folder that holds every data file of the pipelines, from the launcher's folder.

    A pipeline's files are the keys its registry entry names (`files`,
    `targets`, `meta_data_file`), as lowering reads them.
    """
    from plxgen.schema.registry.pipelines import PIPELINES

    found: list[str] = []
    for section in ("train", "eval"):
        for name, spec in (
            (data.get(section) or {}).get("data_pipeline") or {}
        ).items():
            kind = PIPELINES.get(name)
            if kind is None or not isinstance(spec, dict):
                continue
            keys = (
                kind.files,
                kind.targets,
                "meta_data_file" if kind.meta_data else None,
            )
            for value in (spec.get(key) for key in keys if key):
                found += [value] if isinstance(value, str) else list(value or [])
    if not found:
        return None
    folders = [
        posixpath.dirname(posixpath.normpath(posixpath.join(config_folder, f)))
        for f in found
    ]
    return (
        posixpath.commonpath(folders)
        if len({f.startswith("/") for f in folders}) == 1
        else None
    )


def distributed(launch: Launch) -> bool:
    """Whether the launch starts a cluster of tasks (a chief with workers or ps)."""
    return any(r.name != "chief" for r in launch.roles)


def _needs(
    doc: Document, env: dict[str, Any], role: str, index: int, errors: list[Diagnostic]
) -> Needs:
    """What task `index` of `role` asks for: its own entry over its role's default."""
    if role == "chief":  # 2017's master_resources over resources
        chief = {**(env.get("resources") or {}), **(env.get("master_resources") or {})}
        key = "master_resources" if env.get("master_resources") else "resources"
        return _parse(doc, chief, ("environment", key), errors)
    default_key = f"default_{role}_resources"
    merged: dict[str, Any] = dict(env.get(default_key) or {})
    path: Path = ("environment", default_key)
    for i, item in enumerate(env.get(f"{role}_resources") or []):
        if item.get("index") == index:
            merged.update({k: v for k, v in item.items() if k != "index"})
            path = ("environment", f"{role}_resources", i)
    return _parse(doc, merged, path, errors)


def _parse(
    doc: Document, spec: dict[str, Any], path: Path, errors: list[Diagnostic]
) -> Needs:
    amounts: dict[str, Amount] = {}
    for kind in ("cpu", "memory", "gpu"):
        bounds: dict[str, float | None] = {}
        for bound in ("requests", "limits"):
            value = (spec.get(kind) or {}).get(bound)
            where = path + (kind, bound)
            bounds[bound] = (
                None if value is None else _amount(doc, kind, value, where, errors)
            )
        amounts[kind] = Amount(**bounds)
    return Needs(amounts["cpu"], amounts["memory"], amounts["gpu"], path)


def _amount(
    doc: Document, kind: str, value: Any, path: Path, errors: list[Diagnostic]
) -> float | None:
    def fail(message: str, hint: str) -> None:
        errors.append(doc.diagnostic(path, message, "bad-resource", hint=hint))

    if isinstance(value, str):
        match = _QUANTITY.match(value.strip())
        if not match or (match.group(2) and kind != "memory"):
            fail(
                f"{value!r} is not a {'memory size' if kind == 'memory' else 'number'}",
                hint="memory: MiB as a number, or a quantity such as 512Mi or 4Gi; cpu: cores; gpu: devices",
            )
            return None
        number = float(match.group(1)) * _MIB[match.group(2)]
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    else:
        fail(f"{value!r} is not a number", hint="write a number")
        return None
    if not math.isfinite(number) or number <= 0:
        fail(f"{value!r} is not a positive amount", hint="write an amount above 0")
        return None
    if kind == "gpu" and not number.is_integer():
        fail(
            f"{value!r} is not a whole number of GPUs",
            hint="a task has whole GPUs: 1, 2, ...",
        )
        return None
    return number


def _dns(name: str) -> str:
    """A Kubernetes object name (RFC 1123) from a script's name."""
    text = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return (text or "run")[:50].rstrip("-")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


# --- SLURM -------------------------------------------------------------------


@dataclass(frozen=True)
class Directive:
    """One `#SBATCH` line and what it comes from."""

    option: str
    why: str = ""


def slurm_directives(launch: Launch, doc: Document) -> list[Directive]:
    """The `#SBATCH` lines: job, array, tasks and the resources of one task."""
    lines = [Directive(f"--job-name={launch.name}")]
    if launch.matrix:
        limit = f"%{launch.concurrent}" if launch.concurrent else ""
        why = (
            f"a task per script; {launch.concurrent} at once (settings.concurrent_experiments)"
            if launch.concurrent
            else "a task per script, as many at once as the cluster allows"
        )
        lines.append(Directive(f"--array=0-{len(launch.scripts) - 1}{limit}", why))
    for key in ("partition", "account", "time"):
        if key in launch.slurm:
            lines.append(
                Directive(f"--{key}={launch.slurm[key]}", f"launch.slurm.{key}")
            )
    if "time" in launch.slurm:
        lines.append(
            Directive(
                "--signal=TERM@120",
                "SIGTERM two minutes before the time limit: a checkpoint",
            )
        )
    lines.append(
        Directive("--requeue", "a requeued task resumes from its newest checkpoint")
    )
    tasks = [needs for role in launch.roles for needs in role.tasks]
    if len(tasks) > 1:
        shape = ", ".join(f"{len(r.tasks)} {r.name}" for r in launch.roles)
        lines.append(
            Directive(f"--ntasks={len(tasks)}", f"one per task of the cluster: {shape}")
        )
    needs = _largest(tasks, doc, "SLURM gives every task of one job")
    cpu = needs.cpu.value("requests")
    if cpu is not None:
        cores = math.ceil(cpu - 1e-9)
        lines.append(Directive(f"--cpus-per-task={cores}", _source(needs, "cpu", "requests") + (
            "" if cores == cpu else f", {_number(cpu)} rounded up to whole CPUs")))  # fmt: skip
    memory = needs.memory.value("limits")
    if memory is not None:
        mib = math.ceil(memory - 1e-9)
        if len(tasks) > 1:
            per_cpu = math.ceil(mib / (cores if cpu is not None else 1))
            lines.append(Directive(f"--mem-per-cpu={per_cpu}M", _source(needs, "memory", "limits")
                                   + f": {mib} MiB a task, as SLURM counts it per CPU"))  # fmt: skip
        else:
            lines.append(Directive(f"--mem={mib}M", _source(needs, "memory", "limits")))
    gpu = needs.gpu.value("limits")
    if gpu is not None:
        option = (
            f"--gpus-per-task={int(gpu)}"
            if len(tasks) > 1
            else f"--gres=gpu:{int(gpu)}"
        )
        lines.append(Directive(option, _source(needs, "gpu", "limits")))
    return lines


def _source(needs: Needs, kind: str, prefer: str) -> str:
    amount: Amount = getattr(needs, kind)
    bound = (
        prefer
        if getattr(amount, prefer) is not None
        else ("requests" if prefer == "limits" else "limits")
    )
    where = (
        ".".join(str(p) for p in needs.path if not isinstance(p, int))
        or "environment.resources"
    )
    return f"{where}.{kind}.{bound}"


def _largest(tasks: tuple[Needs, ...] | list[Needs], doc: Document, who: str) -> Needs:
    """The largest amount any task asks for, of each resource, where `who` gets one for all.

    Where the tasks differ, a located warning (at the first that differs) says so.
    """
    first = tasks[0]
    other = next((t for t in tasks if not t.same(first)), None)
    if other is None:
        return first

    def most(kind: str, bound: str) -> float | None:
        values = [getattr(getattr(t, kind), bound) for t in tasks]
        return max((v for v in values if v is not None), default=None)

    cpu, memory, gpu = (
        Amount(most(kind, "requests"), most(kind, "limits"))
        for kind in ("cpu", "memory", "gpu")
    )
    chosen = Needs(
        cpu, memory, gpu, next((t.path for t in tasks if not t.empty), first.path)
    )
    warn(doc.diagnostic(
        other.path, f"{who} the same resources, but these tasks ask for different ones",
        "launch-resources", f"each of the {len(tasks)} tasks gets the largest: {_describe(chosen)}",
    ))  # fmt: skip
    return chosen


def _describe(needs: Needs) -> str:
    parts = []
    for kind, unit in (("cpu", " CPUs"), ("memory", " MiB"), ("gpu", " GPUs")):
        amount: Amount = getattr(needs, kind)
        value = amount.value("limits" if kind != "cpu" else "requests")
        if value is not None:
            parts.append(f"{_number(value)}{unit}")
    return ", ".join(parts) or "no resources"


# --- Kubernetes --------------------------------------------------------------


def kubernetes_resources(needs: Needs) -> dict[str, dict[str, str | int]]:
    """A container's resources: cpu and memory as asked, GPUs as limits (Kubernetes' rule)."""
    result: dict[str, dict[str, str | int]] = {}
    for bound in ("requests", "limits"):
        values: dict[str, str | int] = {}
        cpu = getattr(needs.cpu, bound)
        if cpu is not None:
            values["cpu"] = (
                _number(cpu) if float(cpu).is_integer() else f"{math.ceil(cpu * 1000)}m"
            )
        memory = getattr(needs.memory, bound)
        if memory is not None:
            values["memory"] = f"{math.ceil(memory - 1e-9)}Mi"
        if values:
            result[bound] = values
    gpu = needs.gpu.value("limits")
    if gpu is not None:  # extended resources: a limit, which is also the request
        result.setdefault("limits", {})["nvidia.com/gpu"] = int(gpu)
    return result


def render_launcher(launch: Launch, target: str, doc: Document) -> str:
    """The launcher's text (without the header) for a target."""
    from plxgen.compiler.render import environment

    file = launch.name + TARGETS[target]
    shape = ", ".join(f"{len(r.tasks)} {r.name}" for r in launch.roles)
    context: dict[str, Any] = {"launch": launch, "file": file, "shape": shape}
    if target == "slurm":
        directives = slurm_directives(launch, doc)
        cpus = next(
            (d.option for d in directives if d.option.startswith("--cpus-per-task=")),
            None,
        )
        context.update(
            directives=directives,
            task_roles=launch.task_roles,
            resources=any(
                d.option.startswith(("--cpus", "--mem", "--gres", "--gpus"))
                for d in directives
            ),
            # 20000 + SLURM_JOB_ID % modulus * tasks: each job its ports, below 60000.
            port_modulus=40000 // launch.tasks,
            # srun (SLURM 22.05 to 23.02) does not take --cpus-per-task from sbatch.
            srun_options=[cpus] if cpus else [],
        )
        return _ended(environment().get_template("slurm.sbatch.j2").render(**context))
    k8s = launch.kubernetes
    stems = [s[: -len(".py")] for s in launch.scripts]
    commands = [
        [launch.python, s, "--model-dir", f"/runs/{stem}"]
        for s, stem in zip(launch.scripts, stems)
    ]
    cluster = distributed(launch)
    context.update(
        k8s=k8s,
        cluster=cluster,
        stems=stems,
        commands=commands,
        data_path=k8s.get("data_path"),
        job_name=_dns(launch.name),
        job_names=[_dns(stem) for stem in stems],
        replicas=[
            {"kind": ROLES[r.name], "count": len(r.tasks), "resources": kubernetes_resources(
                _largest(r.tasks, doc, f"a TFJob gives every {r.name} replica"))}
            for r in launch.roles
        ],  # fmt: skip
        index_command=_index_command(launch),
    )
    if cluster and launch.matrix and launch.concurrent:
        warn(doc.diagnostic(
            ("settings", "concurrent_experiments"),
            "Kubernetes starts the TFJobs of a distributed sweep all at once: "
            "concurrent_experiments cannot limit them", "launch-unsupported",
            "apply the TFJobs a few at a time, or use --target slurm",
            key=True,
        ))  # fmt: skip
    return _ended(environment().get_template("kubernetes.yaml.j2").render(**context))


def _ended(text: str) -> str:
    """The text with exactly one newline at its end."""
    return text.rstrip("\n") + "\n"


def _index_command(launch: Launch) -> str:
    """The shell of an Indexed Job's pod: the script of its index, unless its run finished."""
    import shlex

    names = " ".join(shlex.quote(s) for s in launch.scripts)
    return "\n".join([
        "set -eu",
        f"set -- {names}",
        'shift "$JOB_COMPLETION_INDEX"',
        'run="/runs/${1%.py}"',
        'if [ -f "$run/metrics.json" ]; then',
        '    echo "$run has finished (it has its metrics.json): nothing to do"',
        "    exit 0",
        "fi",
        f'exec {shlex.quote(launch.python)} "$1" --model-dir "$run"',
    ])  # fmt: skip
