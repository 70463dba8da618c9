"""Distributed training: mirrored replicas, a chief with a worker, parameter servers.

Every run is a few steps of LeNet (without Dropout, whose masks differ per
replica) on the digits; a distributed run must agree with one process within
a float tolerance (the gradients are summed in another order). Processes of a
cluster talk over 127.0.0.1 on free ports.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from plxgen.compiler import compile_config
from plxgen.errors import ConfigError
from tests.conftest import ROOT, finished, plxgen, start_train

STEPS = 6
LAUNCHER = ROOT / "tools" / "launch_local.py"


def base_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(
        (ROOT / "generated_examples" / "lenet_digits.yaml").read_text()
    )
    graph = config["model"]["classifier"]["graph"]
    graph["layers"] = [layer for layer in graph["layers"] if "Dropout" not in layer]
    config["train"]["train_steps"] = STEPS
    config["eval"]["steps"] = 2
    config["environment"]["run_config"].update(
        save_summary_steps=3, save_checkpoints_steps=3
    )
    return config


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [int(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("distributed")
    plxgen("data", "digits", "-o", root / "data" / "digits", check=True)
    (root / "scripts").mkdir()
    return root


def compile_env(workspace: Path, name: str, environment: dict[str, Any]) -> Path:
    """The base config with `environment` merged in, compiled to scripts/NAME.py."""
    config = base_config()
    env = config["environment"]
    run_config = environment.pop("run_config", {})
    env.update(environment)
    env["run_config"].update(run_config)
    path = workspace / "scripts" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    script = path.with_suffix(".py")
    script.write_text(compile_config(path, script, []))
    return script


def start(
    script: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """Start SCRIPT with stderr merged into stdout (a cluster's log, in order)."""
    return start_train(script, *args, env=env, merge_stderr=True)


def finish(process: subprocess.Popen[str], timeout: float = 600) -> str:
    """Wait for a process from `start`, assert it succeeded, return its output."""
    out: str = finished(process, timeout).stdout
    assert process.returncode == 0, out[-3000:]
    return out


def metrics(model_dir: Path) -> dict[str, Any]:
    return json.loads((model_dir / "metrics.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def one_process(workspace: Path) -> dict[str, Any]:
    """The reference: the same experiment on one device."""
    script = compile_env(workspace, "single", {})
    finish(start(script, "--model-dir", str(workspace / "runs" / "single")))
    return metrics(workspace / "runs" / "single")


def assert_agrees(report: dict[str, Any], reference: dict[str, Any]) -> None:
    assert report["global_step"] == reference["global_step"] == STEPS
    assert set(report["eval"]) == set(reference["eval"])
    for key, value in reference["eval"].items():
        assert report["eval"][key] == pytest.approx(value, rel=1e-3, abs=1e-4), key


def test_one_device_script_has_no_distribution_code(workspace: Path) -> None:
    text = compile_env(workspace, "plain", {}).read_text()
    for word in ("Strategy(", "TF_CONFIG", "task_type", "tempfile", "all_reduce"):
        assert word not in text


def test_mirrored_over_two_cpus_equals_one_device(
    workspace: Path, one_process: dict[str, Any]
) -> None:
    script = compile_env(workspace, "mirrored", {"replicas": 2})
    assert "MirroredStrategy" in script.read_text()
    finish(start(script, "--model-dir", str(workspace / "runs" / "mirrored")))
    assert_agrees(metrics(workspace / "runs" / "mirrored"), one_process)


def test_master_and_worker_train_together(
    workspace: Path, one_process: dict[str, Any]
) -> None:
    """The 2017 cluster syntax; the worker takes --task-type, the chief a TF_CONFIG naming the master."""
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    cluster = {"master": hosts[:1], "worker": hosts[1:]}
    script = compile_env(workspace, "cluster", {"run_config": {"cluster": cluster}})
    model_dir = workspace / "runs" / "cluster"
    tf_config = {"cluster": cluster, "task": {"type": "master", "index": 0}}
    worker = start(
        script,
        "--model-dir",
        str(model_dir),
        "--task-type",
        "worker",
        "--task-index",
        "0",
    )
    chief = start(
        script, "--model-dir", str(model_dir), env={"TF_CONFIG": json.dumps(tf_config)}
    )
    chief_out, worker_out = finish(chief), finish(worker)
    assert "task chief 0" in chief_out and "task worker 0" in worker_out
    report = metrics(model_dir)
    assert report["resumed_from"] == 0
    assert_agrees(report, one_process)
    # Only the chief writes to --model-dir (the worker's scratch space is gone).
    assert sorted(p.name for p in (model_dir / "checkpoints").glob("*.index")) == [
        "ckpt-3.index", "ckpt-6.index"
    ]  # fmt: skip
    assert len(list((model_dir / "train").glob("events.out.tfevents.*"))) == 1


def test_parameter_servers_and_two_workers(workspace: Path) -> None:
    """1 ps, 2 workers and the chief, started by the example launcher with TF_CONFIG."""
    script = compile_env(workspace, "ps", {"n_workers": 2, "n_ps": 1})
    model_dir = workspace / "runs" / "ps"
    launcher = start(
        LAUNCHER, str(script), "--logs", str(workspace / "logs"),
        "--", "--model-dir", str(model_dir),
    )  # fmt: skip
    out = finish(launcher)
    assert "exit codes chief0 0, ps0 0, worker0 0, worker1 0" in out, out[-3000:]
    report = metrics(model_dir)
    assert (
        report["global_step"] == STEPS
    )  # counted exactly, though the workers run concurrently
    assert report["eval"]["loss"] > 0 and 0 <= report["eval"]["accuracy"] <= 1


@pytest.mark.slow
def test_a_cluster_experiment_trains_alone_without_a_task(workspace: Path) -> None:
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    script = compile_env(
        workspace,
        "alone",
        {"run_config": {"cluster": {"master": hosts[:1], "worker": hosts[1:]}}},
    )
    model_dir = workspace / "runs" / "alone"
    out = finish(
        start(
            script,
            "--model-dir",
            str(model_dir),
            "--train-steps",
            "2",
            "--eval-steps",
            "1",
        )
    )
    assert "training in this one process" in out
    assert metrics(model_dir)["global_step"] == 2


@pytest.mark.slow
def test_a_cluster_resumes_where_it_stopped(
    workspace: Path, one_process: dict[str, Any]
) -> None:
    hosts = [f"127.0.0.1:{port}" for port in free_ports(2)]
    script = compile_env(
        workspace,
        "resume",
        {"run_config": {"cluster": {"master": hosts[:1], "worker": hosts[1:]}}},
    )
    model_dir = workspace / "runs" / "resume"
    for steps in ("3", str(STEPS)):
        args = ["--model-dir", str(model_dir), "--train-steps", steps]
        worker = start(script, *args, "--task-type", "worker")
        finish(start(script, *args, "--task-type", "chief"))
        finish(worker)
    report = metrics(model_dir)
    assert report["resumed_from"] == 3
    assert_agrees(report, one_process)


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains(workspace: Path, policy: str) -> None:
    """A small dense model: float16 convolutions are very slow on a CPU."""
    script = compile_env(workspace, policy, {"mixed_precision": policy})
    config = yaml.safe_load(script.with_suffix(".yaml").read_text())
    config["model"]["classifier"]["graph"]["layers"] = [
        {"Flatten": None}, {"Dense": {"units": 32, "activation": "relu"}}, {"Dense": {"units": 10}}
    ]  # fmt: skip
    script.with_suffix(".yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    script.write_text(compile_config(script.with_suffix(".yaml"), script, []))
    text = script.read_text()
    assert ("LossScaleOptimizer" in text) == (policy == "mixed_float16")
    model_dir = workspace / "runs" / policy
    finish(start(script, "--model-dir", str(model_dir)))
    report = metrics(model_dir)
    assert report["global_step"] == STEPS
    assert 0 < report["eval"]["loss"] < 10


# ------------------------------------------------------------- diagnostics


def _cluster(**jobs: list[str]) -> dict[str, Any]:
    return {"run_config": {"cluster": jobs}}


H = ["127.0.0.1:2222", "127.0.0.1:2223", "127.0.0.1:2224"]
REJECTED = [
    ({"n_workers": 2, **_cluster(master=H[:1], worker=H[1:2])}, "environment.n_workers", "conflict"),
    ({"strategy": "mirrored", "n_workers": 1}, "environment.strategy", "conflict"),
    ({"strategy": "parameter_server", "n_workers": 1}, "environment.strategy", "conflict"),
    ({"replicas": 2, "n_workers": 1}, "environment.replicas", "conflict"),
    ({"n_ps": 1}, "environment.n_ps", "conflict"),
    (_cluster(worker=H[1:2], ps=H[2:]), "environment.run_config.cluster", "conflict"),
    (_cluster(master=H[:2]), "environment.run_config.cluster.master", "conflict"),
    (_cluster(master=H[:1], worker=H[:1]), "environment.run_config.cluster.worker[0]", "conflict"),
    (_cluster(master=H[:1], chief=H[1:2]), "environment.run_config.cluster.chief", "conflict"),
    ({"n_workers": 1, "worker_configs": [{"log_device_placement": True}]},
     "environment.worker_configs[0]", "missing-index"),
    ({"run_config": {"session": {"gpu_options": {"gpu_memory_fraction": 0.5,
                                                 "per_process_gpu_memory_fraction": 0.5}}}},
     "environment.run_config.session.gpu_options.gpu_memory_fraction", "conflict"),
]  # fmt: skip


@pytest.mark.parametrize(
    "environment, path, code",
    REJECTED,
    ids=[r[1] + ":" + str(i) for i, r in enumerate(REJECTED)],
)
def test_inconsistent_environments_are_located_errors(
    tmp_path: Path, environment: dict[str, Any], path: str, code: str
) -> None:
    config = base_config()
    env = copy.deepcopy(environment)
    run_config = env.pop("run_config", {})
    config["environment"].update(env)
    config["environment"]["run_config"].update(run_config)
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(config, sort_keys=False))
    with pytest.raises(ConfigError) as error:
        compile_config(file, None, [])
    found = [(d.path, d.code) for d in error.value.diagnostics]
    assert (path, code) in found, found


def test_sessions_per_task_and_gpu_options_reach_the_script(tmp_path: Path) -> None:
    config = base_config()
    config["environment"].update(
        n_workers=2,
        mixed_precision=True,
        default_worker_config={"intra_op_parallelism_threads": 1},
        worker_configs=[{"index": 1, "inter_op_parallelism_threads": 4}],
        default_ps_resources={"cpu": {"requests": 2}, "memory": {"limits": "4Gi"}},
    )
    config["environment"]["run_config"]["session"] = {
        "gpu_options": {
            "per_process_gpu_memory_fraction": 0.25,
            "visible_device_list": [1, 0],
        }
    }
    file = tmp_path / "c.yaml"
    file.write_text(yaml.safe_dump(config, sort_keys=False))
    text = compile_config(file, None, [])
    namespace: dict[str, Any] = {}
    start_ = text.index("SESSIONS = ")
    exec(text[start_ : text.index("\n\n", start_)], namespace)  # a literal
    sessions = namespace["SESSIONS"]
    assert sessions["chief"]["per_process_gpu_memory_fraction"] == 0.25
    assert sessions["chief"]["visible_device_list"] == [1, 0]
    assert sessions["worker"]["intra_op_parallelism_threads"] == 1
    assert sessions["worker:1"]["inter_op_parallelism_threads"] == 4
    assert "each ps: memory limits 4Gi" in text
    assert 'set_global_policy("mixed_float16")' in text
    assert "LossScaleOptimizer" in text and "libnvidia-ml.so.1" in text
    compile(text, "c.py", "exec")
