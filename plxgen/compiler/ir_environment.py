"""The IR of where and how an experiment runs: session, run config, cluster, logging.

Part of the intermediate representation (`ir`), which re-exports it: frozen,
checked values, as everything the templates render.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Session:
    """Session options, applied through tf.config."""

    intra_op_threads: int | None
    inter_op_threads: int | None
    soft_placement: bool
    log_device_placement: bool
    memory_growth: bool
    # per_process_gpu_memory_fraction: a logical GPU with that share of the memory
    memory_fraction: float | None = None
    visible_gpus: tuple[int, ...] | None = None  # gpu_options.visible_device_list

    @property
    def options(self) -> dict[str, Any]:
        """The session under the 2017 option names, for the SESSIONS table of a cluster."""
        return {
            "intra_op_parallelism_threads": self.intra_op_threads,
            "inter_op_parallelism_threads": self.inter_op_threads,
            "allow_soft_placement": self.soft_placement,
            "log_device_placement": self.log_device_placement,
            "allow_growth": self.memory_growth,
            "per_process_gpu_memory_fraction": self.memory_fraction,
            "visible_device_list": list(self.visible_gpus or []),
        }


@dataclass(frozen=True)
class RunConfig:
    """Seeds, summary and checkpoint cadence."""

    seed: int | None
    save_summary_steps: int
    save_checkpoints_steps: int | None
    save_checkpoints_secs: int | None
    keep_checkpoint_max: int
    keep_checkpoint_every_n_hours: float | None
    session: Session


@dataclass(frozen=True)
class TaskSession:
    """The session of the tasks of one type (index None: the type's default)."""

    task_type: str  # worker | ps
    index: int | None
    session: Session


@dataclass(frozen=True)
class Environment:
    """Where the experiment runs: strategy, cluster, tasks, precision, resources."""

    # one_device | mirrored | multi_worker_mirrored | parameter_server
    strategy: str = "one_device"
    replicas: int | None = None  # mirrored: local devices (GPUs, else logical CPUs)
    # run_config.cluster as TensorFlow names the jobs (chief, worker, ps), if given
    cluster: tuple[tuple[str, tuple[str, ...]], ...] | None = None
    n_workers: int = 0  # workers besides the chief
    n_ps: int = 0
    delay_workers: bool = False
    task_sessions: tuple[TaskSession, ...] = ()
    mixed_precision: str | None = None  # mixed_float16 | mixed_bfloat16
    steps_per_execution: int = (
        100  # training steps per call of the compiled loop, at most
    )
    jit_compile: bool = False  # the step functions compiled by XLA
    # (who, resource, requests or limits, amount), for the docstring
    resources: tuple[tuple[str, str, str, str], ...] = ()

    @property
    def own_step(self) -> bool:
        """Whether the trainer counts the global step itself, not the optimizer.

        Keras' counter skips the float16 steps that overflowed and loses the
        concurrent updates of parameter-server workers.
        """
        return self.strategy == "parameter_server" or self.mixed_precision == "mixed_float16"

    @property
    def step_key(self) -> str:
        """The checkpoint key of the global step (Trainer.checkpoint's)."""
        step = "global_step" if self.own_step else "optimizer/_iterations"
        return f"{step}/.ATTRIBUTES/VARIABLE_VALUE"

    @property
    def distributed(self) -> bool:
        """True when the script takes part in a cluster of processes."""
        return self.strategy in ("multi_worker_mirrored", "parameter_server")

    @property
    def cluster_table(self) -> dict[str, list[str]]:
        """The cluster as TF_CONFIG writes it: job -> hosts."""
        return {job: list(hosts) for job, hosts in self.cluster or ()}

    @property
    def task_choices(self) -> list[str]:
        """The values of --task-type (`master` is 2017's name for the chief)."""
        jobs = [job for job, _ in self.cluster or ()]
        return (["chief", "master"] if "chief" in jobs else []) + [
            job for job in jobs if job != "chief"
        ]

    @property
    def text(self) -> str | None:
        """What a scheduler needs to know: the tasks to start and their resources."""
        lines = []
        if self.distributed:
            shape = f"a chief (2017 'master'), {self.n_workers} worker(s)"
            if self.n_ps:
                shape += f" and {self.n_ps} parameter server(s)"
            how = (
                "--task-type/--task-index or TF_CONFIG" if self.cluster else "TF_CONFIG"
            )
            lines.append(
                f"Distributed ({self.strategy}): start one process per task of\n"
                f"{shape}, each with {how};\n"
                "the chief writes --model-dir."
            )
        elif self.strategy == "mirrored":
            devices = (
                f"{self.replicas} local devices" if self.replicas else "every local GPU"
            )
            lines.append(f"Trains on {devices} (MirroredStrategy).")
        if self.resources:
            lines.append("Resources per task (environment):")
            lines.extend(
                f"  {who}: {kind} {bound} {amount}"
                for who, kind, bound, amount in self.resources
            )
        return "\n".join(lines) if lines else None


@dataclass(frozen=True)
class Logging:
    """settings.logging."""

    level: str
    formatter: str | None
    path: str | None

    @property
    def cpp_level(self) -> str:
        """TF_CPP_MIN_LOG_LEVEL for this level: TensorFlow's C++ warnings are internals, shown at DEBUG."""
        return _CPP_LOG_LEVEL[self.level]


_CPP_LOG_LEVEL = {
    "DEBUG": "0",
    "INFO": "2",
    "WARNING": "2",
    "ERROR": "2",
    "CRITICAL": "3",
}
