"""Start every task of a distributed experiment on this machine, to try it out.

    python tools/launch_local.py train.py [--workers N] [--ps N] [--logs DIR] [-- SCRIPT OPTIONS]

`train.py` is a script compiled by plxgen from an experiment whose environment
has workers (n_workers, or run_config.cluster); by default the cluster has the
shape written in the script (N_WORKERS, N_PS). Each task gets a free port on
127.0.0.1 and its TF_CONFIG, the way a cluster manager (Kubeflow's TFJob,
Polyaxon) would start it, so the cluster of the experiment file is not used.
The chief's output goes to this terminal, the other tasks' to DIR/<task>.log.
When the chief exits, the others get a grace period to finish (workers of
synchronous training end with it; workers and parameter servers of
parameter-server training notice that the chief is gone), then are stopped.
The exit status is the chief's, else the first failing task's.

This is an example of starting a cluster, not a cluster manager: on several
machines, start the same script once per task with TF_CONFIG (or with
--task-type/--task-index and the cluster in the experiment file).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    """A port that nothing listens on now (another program may take it before us: rare)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster_shape(script: str) -> tuple[int, int]:
    """N_WORKERS and N_PS as written in a compiled script."""
    with open(script, encoding="utf-8") as f:
        text = f.read()
    shape = []
    for name in ("N_WORKERS", "N_PS"):
        found = re.search(rf"^{name} = (\d+)$", text, re.MULTILINE)
        if not found:
            sys.exit(
                f"{script}: no {name}: was it compiled from a distributed experiment?"
            )
        shape.append(int(found.group(1)))
    return shape[0], shape[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("script", help="the compiled training script")
    parser.add_argument(
        "--workers", type=int, help="workers besides the chief (default: the script's)"
    )
    parser.add_argument(
        "--ps", type=int, help="parameter servers (default: the script's)"
    )
    parser.add_argument(
        "--logs",
        help="folder of the other tasks' logs (default: a new temporary folder)",
    )
    parser.add_argument(
        "--grace",
        type=float,
        default=60,
        help="seconds the other tasks get after the chief",
    )
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, options = parser.parse_args(argv[:cut]), argv[cut + 1 :]
    workers, ps = cluster_shape(args.script)
    workers = workers if args.workers is None else args.workers
    ps = ps if args.ps is None else args.ps
    logs = args.logs or tempfile.mkdtemp(prefix="plxgen-tasks-")
    os.makedirs(logs, exist_ok=True)

    cluster = {"chief": [f"127.0.0.1:{free_port()}"]}
    if workers:
        cluster["worker"] = [f"127.0.0.1:{free_port()}" for _ in range(workers)]
    if ps:
        cluster["ps"] = [f"127.0.0.1:{free_port()}" for _ in range(ps)]
    tasks: list[tuple[str, subprocess.Popen[bytes]]] = []
    # Parameter servers and workers first: the chief connects to them.
    for job in ("ps", "worker", "chief"):
        for index in range(len(cluster.get(job, []))):
            name = f"{job}{index}"
            env = {
                **os.environ,
                "TF_CONFIG": json.dumps(
                    {"cluster": cluster, "task": {"type": job, "index": index}}
                ),
            }
            command = [sys.executable, args.script, *options]
            if job == "chief":
                process = subprocess.Popen(command, env=env)
            else:
                with open(os.path.join(logs, f"{name}.log"), "wb") as log:
                    process = subprocess.Popen(
                        command, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
            tasks.append((name, process))
    print(
        f"launch_local: cluster {json.dumps(cluster)}; logs of the other tasks in {logs}",
        file=sys.stderr,
    )
    chief = tasks[-1][1]
    try:
        codes = {"chief0": chief.wait()}
        deadline = time.monotonic() + args.grace
        for name, process in tasks[:-1]:
            try:
                codes[name] = process.wait(
                    timeout=max(0.0, deadline - time.monotonic())
                )
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGTERM)
                codes[name] = process.wait()
                print(
                    f"launch_local: stopped {name} after the grace period",
                    file=sys.stderr,
                )
    finally:
        for _, process in tasks:
            if process.poll() is None:
                process.kill()
                process.wait()
    print(
        "launch_local: exit codes " + ", ".join(f"{n} {c}" for n, c in codes.items()),
        file=sys.stderr,
    )
    failed = [code for code in codes.values() if code]
    return codes["chief0"] or (failed[0] if failed else 0)


if __name__ == "__main__":
    sys.exit(main())
