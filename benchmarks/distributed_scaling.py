"""Training throughput of one replica against two: mirrored CPUs, and a chief with a worker.

The same LeNet on the digits (batch 64 = the global batch, summaries every 50
steps) is compiled three times: one device; `replicas: 2` (MirroredStrategy
over two logical CPUs of this machine); a master and a worker on 127.0.0.1
(MultiWorkerMirroredStrategy, two processes). Throughput is taken from the
chief's log between the first summary (after tracing and warm-up) and the
last, so start-up is left out. Runs alternate; medians compared.

    python benchmarks/distributed_scaling.py [RUNS] [STEPS]

On a machine with fewer cores than replicas x intra-op threads the replicas
compete for the same cores: expect no speed-up there, only the cost of the
gradient all-reduce.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from plxgen.compiler import compile_config  # noqa: E402

EVERY = 50
LINE = re.compile(r"^(\S+ \S+) INFO step (\d+)/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def compile_variant(
    folder: Path, name: str, environment: dict[str, Any], steps: int
) -> Path:
    config = yaml.safe_load(
        (ROOT / "generated_examples" / "lenet_digits.yaml").read_text()
    )
    config["train"]["train_steps"] = steps
    config["environment"].update(environment)
    config["environment"]["run_config"].update(
        save_summary_steps=EVERY, save_checkpoints_steps=steps
    )
    path = folder / "scripts" / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    script = path.with_suffix(".py")
    script.write_text(compile_config(path, script, []))
    return script


def examples_per_second(log: str, batch: int) -> float:
    points = [(datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f"), int(m.group(2)))
              for m in map(LINE.match, log.splitlines()) if m]  # fmt: skip
    (t0, s0), (t1, s1) = points[0], points[-1]
    return (s1 - s0) * batch / (t1 - t0).total_seconds()


def run(script: Path, model_dir: Path, cluster: bool) -> str:
    args = [
        sys.executable,
        str(script),
        "--model-dir",
        str(model_dir),
        "--schedule",
        "train",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if not cluster:
        return subprocess.run(
            args, capture_output=True, text=True, env=env, check=True
        ).stderr
    worker = subprocess.Popen([*args, "--task-type", "worker"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    chief = subprocess.run(
        [*args, "--task-type", "chief"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    worker.wait()
    return chief.stderr


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    folder = Path(tempfile.mkdtemp(prefix="plxgen-scaling-"))
    subprocess.run([sys.executable, "-m", "plxgen", "data", "digits", "-o", str(folder / "data" / "digits")],
                   check=True, capture_output=True)  # fmt: skip
    (folder / "scripts").mkdir()
    hosts = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
    variants = {
        "1 replica": (compile_variant(folder, "one", {}, steps), False),
        "2 replicas (mirrored CPUs)": (compile_variant(folder, "mirrored", {"replicas": 2}, steps), False),
        "2 workers (chief + worker)": (
            compile_variant(folder, "cluster", {"run_config": {
                "tf_random_seed": 1, "cluster": {"master": hosts[:1], "worker": hosts[1:]}}}, steps),
            True,
        ),
    }  # fmt: skip
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for i in range(runs):
        for name, (script, cluster) in variants.items():
            log = run(script, folder / "runs" / f"{script.stem}{i}", cluster)
            rates[name].append(examples_per_second(log, 64))
            print(f"run {i}: {name}: {rates[name][-1]:.0f} examples/s", flush=True)
    base = statistics.median(rates["1 replica"])
    print(json.dumps({"cpus": os.cpu_count(), "steps": steps, "runs": runs}))
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:30s} {median:8.0f} examples/s  {median / base:5.2f}x")


if __name__ == "__main__":
    main()
