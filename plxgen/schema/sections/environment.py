"""The run's sections of the experiment file.

`declarations` and `matrix` (templating), `project`, `settings`, and the
`environment`: distribution, run config, sessions and resources.
"""

from __future__ import annotations

from plxgen.schema.registry import END, IDENTIFIER, JSON, boolean, enum, integer, number
from plxgen.schema.sections.shapes import forbid, no_control, obj, string


def declarations() -> JSON:
    """`declarations:`: named values used in templates."""
    return {
        "type": "object",
        "description": "Named values, used anywhere below as `{{ name }}` or `{{ a.b[0] }}`.",
        "propertyNames": {"pattern": IDENTIFIER},
    }


def matrix() -> JSON:
    """`matrix:`: hyperparameter axes, each a list or a spaced range."""
    number = {"type": "number"}

    def spaced(fields: list[str], optional: list[str], description: str) -> JSON:
        described = {
            "start": "The first value (an exponent for logspace).",
            "stop": "The last value (excluded by range; an exponent for logspace).",
            "step": "The distance between values.",
            "num": "How many values.",
            "base": "The base of the exponents (10).",
        }
        return {
            "description": description,
            "anyOf": [
                {"type": "string", "pattern": "^[^:\\n]+(:[^:\\n]+){%d,%d}" % (len(fields) - 1, len(fields) + len(optional) - 1) + END},
                {"type": "array", "items": number, "minItems": len(fields), "maxItems": len(fields) + len(optional)},
                obj("The bounds by name.", {k: {**number, "description": described[k]} for k in fields + optional}, fields),
            ],
        }  # fmt: skip

    axis = {
        "type": "object",
        "description": "One axis: exactly one of values, range, linspace, logspace, geomspace.",
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
        "properties": {
            "values": {
                "type": "array",
                "minItems": 1,
                "description": "The values, as written.",
            },
            "range": spaced(["start", "stop", "step"], [], "`start:stop:step`, stop excluded."),
            "linspace": spaced(["start", "stop", "num"], [], "`start:stop:num` evenly spaced values."),
            "logspace": spaced(["start", "stop", "num"], ["base"], "`start:stop:num[:base]`: base**x for x evenly spaced."),
            "geomspace": spaced(["start", "stop", "num"], [], "`start:stop:num` values in a geometric progression."),
        },
    }  # fmt: skip
    return {
        "type": "object",
        "description": "Hyperparameter axes: one script per combination, each axis used as `{{ name }}`.",
        "propertyNames": {"pattern": IDENTIFIER},
        "additionalProperties": axis,
        "minProperties": 1,
    }


def project() -> JSON:
    """`project:`: the project's name and what it is about."""
    return obj(
        "The project.",
        {
            "name": string(
                "The project's name; the default model folder is named after it.",
                minLength=1,
                **forbid(
                    "^A-Za-z0-9_.-",
                    "use only letters, digits, `_`, `.` and `-`",
                ),
            ),
            "description": string("What the experiment is about."),
        },
        ["name"],
    )


def settings() -> JSON:
    """`settings:`: logging and where the 2017 tool ran."""
    return obj(
        "Settings of the run.",
        {
            "logging": obj(
                "Logging.",
                {
                    "level": enum(
                        ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
                        "INFO",
                        "The log level.",
                    ),
                    "formatter": string("A logging format string."),
                    "path": no_control(
                        string("Also log to this file, relative to the config file.")
                    ),
                },
            ),
            "concurrent_experiments": integer(
                None,
                "How many scripts of a matrix run at once: `plxgen run`'s default -j, "
                "and a launcher's limit (SLURM's array %N, a Job's parallelism). Default: 1 "
                "for plxgen run, no limit for a launcher.",
                minimum=1,
            ),
            "run_type": enum(
                ["local", "kubernetes", "minikube"],
                "local",
                "Where the 2017 tool ran it (informational).",
            ),
        },
    )


def _session() -> JSON:
    """A TensorFlow session config (of the chief, a worker or a ps)."""
    return obj(
        "TensorFlow session options, applied through tf.config.",
        {
            "log_device_placement": boolean(False, "Log the device of every op."),
            "allow_soft_placement": boolean(
                True, "Fall back to another device when one is missing."
            ),
            "intra_op_parallelism_threads": integer(
                None, "Threads inside one op (0 = TF's choice).", minimum=0
            ),
            "inter_op_parallelism_threads": integer(
                None, "Ops run in parallel (0 = TF's choice).", minimum=0
            ),
            "gpu_options": obj(
                "GPU options.",
                {
                    "allow_growth": boolean(True, "Allocate GPU memory as needed."),
                    "per_process_gpu_memory_fraction": number(
                        None,
                        "Fraction of GPU memory this process may use.",
                        exclusiveMinimum=0,
                        maximum=1,
                    ),
                    "gpu_memory_fraction": number(
                        None,
                        "Older spelling of per_process_gpu_memory_fraction.",
                        exclusiveMinimum=0,
                        maximum=1,
                    ),
                    "visible_device_list": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0, "maximum": 1023},
                        "minItems": 1,
                        "maxItems": 64,
                        "uniqueItems": True,
                        "description": "The GPUs this process sees, by index, e.g. [0, 1] (default: all).",
                    },
                },
            ),
            "index": integer(
                None, "Task index, in worker_configs / ps_configs.", minimum=0
            ),
        },
    )


def _resources() -> JSON:
    """The resources one task asks for."""
    amount = obj(
        "Requests and limits.",
        {
            "requests": {
                "type": ["number", "string"],
                "description": "What the task asks for.",
            },
            "limits": {
                "type": ["number", "string"],
                "description": "The most the task may use.",
            },
        },
    )
    return obj(
        "Resources of one task: in the script's docstring, and what a launcher "
        "(`plxgen compile --target slurm|kubernetes`) asks the scheduler for. "
        "cpu in cores, memory in MiB or a Kubernetes quantity (`4Gi`), gpu in devices.",
        {
            "cpu": amount,
            "memory": amount,
            "gpu": amount,
            "index": integer(
                None,
                "worker_resources, ps_resources: the task these are for (0 is the first).",
                minimum=0,
            ),
        },
    )


def environment() -> JSON:
    """`environment:`: distribution, precision, run config, sessions and resources."""
    hosts = {
        "type": "array",
        "items": {"type": "string", "pattern": "^[^\\s:]+:[0-9]+" + END},
        "minItems": 1,
    }
    run_config = obj(
        "How the run saves, summarises and seeds itself.",
        {
            "tf_random_seed": integer(
                None,
                "Seed of every random op; runs with a seed repeat exactly.",
                minimum=0,
                maximum=2**32 - 1,  # what numpy's seed takes
            ),
            "save_summary_steps": integer(
                100, "Write TensorBoard summaries every N steps.", minimum=1
            ),
            "save_checkpoints_secs": integer(
                None,
                "Save a checkpoint every N seconds (default 600 when no steps are given).",
                minimum=1,
            ),
            "save_checkpoints_steps": integer(
                None, "Save a checkpoint every N steps.", minimum=1
            ),
            "keep_checkpoint_max": integer(
                5, "How many recent checkpoints to keep.", minimum=1
            ),
            "keep_checkpoint_every_n_hours": number(
                None, "Also keep one checkpoint every N hours.", exclusiveMinimum=0
            ),
            "session": _session(),
            "cluster": obj(
                "The cluster: host:port of each task.",
                {
                    "master": {**hosts, "description": "The chief (2017 'master')."},
                    "chief": {
                        **hosts,
                        "description": "The chief (today's name of 'master').",
                    },
                    "worker": {**hosts, "description": "The workers."},
                    "ps": {**hosts, "description": "The parameter servers."},
                },
            ),
        },
    )
    return obj(
        "Where and how the experiment runs.",
        {
            "n_workers": integer(0, "Workers besides the chief.", minimum=0),
            "n_ps": integer(0, "Parameter servers.", minimum=0),
            "delay_workers_by_global_step": boolean(
                False,
                "Parameter-server training: worker i joins at global step 8000 * ln(i + 1).",
            ),
            "strategy": enum(
                ["one_device", "mirrored", "multi_worker_mirrored", "parameter_server"],
                None,
                "The tf.distribute strategy (default: parameter_server with n_ps or ps "
                "tasks, multi_worker_mirrored with workers, mirrored with replicas, else one_device).",
            ),
            "replicas": integer(
                None,
                "mirrored: train on this many local devices (the first GPUs, else as many logical CPUs).",
                minimum=1,
                maximum=64,
            ),
            "mixed_precision": enum(
                [False, True, "mixed_float16", "mixed_bfloat16"],
                False,
                "Compute in 16 bits, keep the weights in float32 (true: mixed_float16, with loss scaling).",
            ),
            "steps_per_execution": integer(
                100,
                "Training steps run by one call of the compiled step loop; a call also ends "
                "at every summary and checkpoint step. Fewer calls mean less Python per "
                "step: measured on 2 CPU cores, 100 steps per call trained a small MLP 2.1x "
                "as fast as 1 (LeNet: no difference).",
                minimum=1,
                maximum=100_000,
            ),
            "jit_compile": boolean(
                False,
                "Compile the training and evaluation steps with XLA (one device only). "
                "Measured on 2 CPU cores: a small MLP trained 1.33x as fast, LeNet 0.58x "
                "(convolutions), so it is off by default; XLA also adds seconds of "
                "compilation at start-up.",
            ),
            "run_config": run_config,
            "default_worker_config": _session(),
            "default_ps_config": _session(),
            "worker_configs": {
                "type": "array",
                "items": _session(),
                "description": "Per-worker sessions (with index).",
            },
            "ps_configs": {
                "type": "array",
                "items": _session(),
                "description": "Per-ps sessions (with index).",
            },
            "resources": _resources(),
            "master_resources": {
                **_resources(),
                "description": "The chief's (2017 'master') resources, over `resources`.",
            },
            "default_worker_resources": _resources(),
            "default_ps_resources": _resources(),
            "worker_resources": {
                "type": "array",
                "items": _resources(),
                "description": "Per-worker resources (with index), over default_worker_resources.",
            },
            "ps_resources": {
                "type": "array",
                "items": _resources(),
                "description": "Per-ps resources (with index), over default_ps_resources.",
            },
        },
    )


def launch() -> JSON:
    """`launch:`: what `plxgen compile --target slurm|kubernetes` writes into the launcher."""
    name = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*" + END}
    path = {"type": "string", "pattern": "^[A-Za-z0-9_./+-]+" + END}
    return obj(
        "The launcher that `--target slurm|kubernetes` writes beside the scripts "
        "(the scripts do not depend on it).",
        {
            "runs": {
                **path,
                "description": "The folder of the runs' model dirs, relative to the "
                "launcher's folder (or absolute). Default: runs.",
            },
            "python": {
                **path,
                "description": "The Python that runs a script, on the nodes or in the "
                "image. Default: python3.",
            },
            "slurm": obj(
                "SLURM's options (sbatch).",
                {
                    "partition": {
                        **name,
                        "description": "--partition. Default: the cluster's.",
                    },
                    "account": {
                        **name,
                        "description": "--account. Default: the user's.",
                    },
                    "time": {
                        "type": "string",
                        "pattern": "^([0-9]+-)?[0-9]+(:[0-9]{2}){0,2}" + END,
                        "description": "--time, the time limit of a task (`2:00:00`, "
                        "`1-12:00:00`); a task gets SIGTERM two minutes before it and "
                        "saves a checkpoint. Default: the partition's.",
                    },
                },
            ),
            "kubernetes": obj(
                "Kubernetes' objects (Job, Indexed Job, TFJob).",
                {
                    "image": {
                        "type": "string",
                        "pattern": "^[A-Za-z0-9][A-Za-z0-9_./:@-]*" + END,
                        "description": "The image that holds the launcher's folder (its "
                        "scripts) at `workdir` and has TensorFlow. Default: "
                        "tensorflow/tensorflow:2.21.0.",
                    },
                    "namespace": {
                        **name,
                        "description": "The namespace. Default: none (kubectl's).",
                    },
                    "workdir": {
                        **path,
                        "description": "Where the image holds the launcher's folder. "
                        "Default: /workspace.",
                    },
                    "data_claim": {
                        **name,
                        "description": "The PersistentVolumeClaim of the data. Default: NAME-data.",
                    },
                    "data_path": {
                        **path,
                        "description": "Where the data claim is mounted. Default: the "
                        "folder that holds the pipelines' files, as the scripts in "
                        "workdir see it.",
                    },
                    "runs_claim": {
                        **name,
                        "description": "The PersistentVolumeClaim (ReadWriteMany for a "
                        "cluster) mounted at /runs, the runs folder. Default: NAME-runs.",
                    },
                },
            ),
        },
    )
