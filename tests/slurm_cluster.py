"""A one-node SLURM cluster for the tests: munged, slurmctld and slurmd, as root.

Debian's `slurm-wlm` and `munge` packages (`.ci/run` installs them). The
configuration, state, spool and logs live in a temporary folder, the daemons
listen on free ports, and every client command gets `SLURM_CONF`, so nothing
of the machine's own SLURM (if any) is touched. Jobs run as root on this
machine, with the test's environment (sbatch exports it).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DAEMONS = (
    "munged",
    "munge",
    "slurmctld",
    "slurmd",
    "sbatch",
    "squeue",
    "scancel",
    "scontrol",
    "sinfo",
)


def missing() -> str | None:
    """Why a cluster cannot be started here, or None."""
    if os.geteuid() != 0:
        return "the SLURM daemons run as root in these tests"
    absent = [name for name in DAEMONS if not shutil.which(name, path=_PATH)]
    if absent:
        return f"no {', '.join(absent)}: apt-get install slurm-wlm munge"
    return None


_PATH = os.environ.get("PATH", "") + ":/usr/sbin:/sbin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slurm:
    """A running cluster: its folder and the environment its commands need."""

    folder: Path
    env: dict[str, str]

    def run(self, *command: str, cwd: Path | None = None) -> str:
        """A client command's stdout; a failure fails the test with its stderr."""
        done = subprocess.run(
            command, cwd=cwd, env=self.env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{' '.join(command)}: {done.stderr}"
        return done.stdout

    def submit(self, batch: Path, *args: str) -> str:
        """sbatch a file from its folder, with arguments for its script; the job's id."""
        out = self.run("sbatch", "--parsable", batch.name, *args, cwd=batch.parent)
        return out.strip().split(";")[0]

    def states(self, job: str) -> list[str]:
        """The states of a job's tasks that the controller still knows as pending or running."""
        out = self.run("squeue", "-h", "-r", "-j", job, "-o", "%T")
        return out.split()

    def wait(self, job: str, timeout: float = 300) -> None:
        """Until no task of the job is pending or running."""
        deadline = time.monotonic() + timeout
        while self.states(job):
            assert (
                time.monotonic() < deadline
            ), f"job {job} still {self.states(job)}; {self.log()}"
            time.sleep(1)

    def log(self) -> str:
        """The end of the daemons' logs (for a failing test's message)."""
        text = ""
        for name in ("slurmctld.log", "slurmd.log"):
            path = self.folder / name
            if path.exists():
                text += f"\n--- {name}\n" + "\n".join(
                    path.read_text().splitlines()[-15:]
                )
        return text


def _config(folder: Path) -> str:
    node = socket.gethostname().split(".")[0]
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return "\n".join([
        "ClusterName=plxgen-tests",
        f"SlurmctldHost={node}(127.0.0.1)",  # loopback: the host's name need not resolve
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "AuthType=auth/munge",
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core",  # memory is not counted: jobs share the node
        "SchedulerType=sched/backfill",
        "ReturnToService=2",
        "SlurmUser=root",
        "SlurmdUser=root",
        "MpiDefault=none",
        "KillWait=30",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        f"StateSaveLocation={folder / 'state'}",
        f"SlurmdSpoolDir={folder / 'spool'}",
        f"SlurmctldPidFile={folder / 'slurmctld.pid'}",
        f"SlurmdPidFile={folder / 'slurmd.pid'}",
        f"SlurmctldLogFile={folder / 'slurmctld.log'}",
        f"SlurmdLogFile={folder / 'slurmd.log'}",
        f"NodeName={node} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={memory * 9 // 10} State=UNKNOWN",
        "PartitionName=tests Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
        "",
    ])  # fmt: skip


def _munge() -> None:
    """Start munged unless one answers already (its socket is the machine's)."""
    if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
        return
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    # As root (--force): the tests' daemons all run as root, and munge's own
    # folders may be missing or another user's on a fresh machine.
    subprocess.run(["munged", "--force"], check=True, capture_output=True)
    for _ in range(50):
        if subprocess.run(["munge", "-n"], capture_output=True).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("munged did not start")


def cluster(folder: Path) -> Iterator[Slurm]:
    """Start the daemons in folder; yield the cluster; stop them (a generator for a fixture)."""
    for sub in ("state", "spool"):
        (folder / sub).mkdir(parents=True)
    conf = folder / "slurm.conf"
    conf.write_text(_config(folder))
    env = {**os.environ, "SLURM_CONF": str(conf), "PATH": _PATH}
    _munge()
    subprocess.run(["slurmctld", "-f", str(conf)], env=env, check=True)
    subprocess.run(["slurmd", "-f", str(conf)], env=env, check=True)
    slurm = Slurm(folder, env)
    try:
        deadline = time.monotonic() + 60
        while (
            "idle"
            not in subprocess.run(
                ["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True
            ).stdout
        ):
            assert (
                time.monotonic() < deadline
            ), f"the node never became idle{slurm.log()}"
            time.sleep(0.5)
        yield slurm
    finally:
        for pid_file in ("slurmd.pid", "slurmctld.pid"):
            path = folder / pid_file
            if path.exists():
                try:
                    os.kill(int(path.read_text().strip()), 15)
                except (ProcessLookupError, ValueError):
                    pass
