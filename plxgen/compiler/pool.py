"""A matrix's scripts compiled on all cores: a process pool of workers, each
compiling one combination's body as `plxgen.compiler` would in this process.

A worker keeps its diagnostics as values and sends them back; the parent
passes them on in order (plxgen.compiler._matrix_scripts).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from plxgen.errors import ConfigError, Diagnostic, collecting_warnings

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from plxgen.compiler import _Job
    from plxgen.compiler.matrix import Combination


@dataclass(frozen=True)
class Result:
    """One combination compiled: its body (None if it has errors), errors and warnings."""

    body: str | None
    errors: list[Diagnostic]
    warnings: list[Diagnostic]


def compile_combination(job: _Job, combo: Combination) -> Result:
    """One combination's body, with its errors caught and its warnings kept, not passed on.

    The same in this process and in a worker: --strict and --no-cache come
    with the job, the diagnostics go back as values.
    """
    from plxgen.compiler import _body, cache

    with cache.bypassed(job.bypass_cache), collecting_warnings(job.strict) as found:
        try:
            body, _ = _body(job, combo)
        except ConfigError as exc:
            return Result(None, exc.diagnostics, found.found)
    return Result(body, [], found.found)


# Fewer bodies to compile than this: one by one, in this process. A worker
# imports black and compiles the templates (about half a second), as this
# process would before its first script, and a fork costs milliseconds: on two
# idle cores, two combinations took 1.8 s where one process took 2.8 s.
_POOL_FROM = 2
_worker_job: _Job | None = None


def _workers(jobs: int) -> int:
    """How many processes compile `jobs` bodies: one a core this process may use."""
    if jobs < _POOL_FROM:
        return 1
    if hasattr(os, "sched_getaffinity"):  # Linux: the cores it is allowed, not all
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    return min(cores, jobs)


def compiled(job: _Job, combos: list[Combination], workers: int | None) -> list[Result]:
    """The combinations compiled, in order: here, or by a pool of `workers`
    processes (None: `_workers`; 1: here)."""
    count = _workers(len(combos)) if workers is None else min(workers, len(combos))
    if count < 2:
        return [compile_combination(job, combo) for combo in combos]
    import multiprocessing
    import sys
    import threading
    from concurrent.futures import ProcessPoolExecutor

    # Forked, a worker starts with all this process has loaded, the document
    # included. Elsewhere (and beside other threads, where forking is unsafe)
    # workers start afresh and are sent the job.
    fork = sys.platform == "linux" and threading.active_count() == 1
    pool = ProcessPoolExecutor(
        count,
        mp_context=multiprocessing.get_context("fork") if fork else None,
        initializer=_start_worker,
        initargs=(job,),
    )
    try:
        futures = [pool.submit(_in_worker, combo) for combo in combos]
        results = [future.result() for future in futures]
    except BaseException:  # Ctrl-C, a worker's crash, a bug: no worker goes on
        _stop(pool)
        raise
    pool.shutdown()
    return results


def _start_worker(job: _Job) -> None:
    import signal

    global _worker_job
    # Ctrl-C reaches the whole process group: the parent answers it and ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_job = job


def _in_worker(combo: Combination) -> Result:
    assert _worker_job is not None
    return compile_combination(_worker_job, combo)


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers at once (shutdown alone would let them finish their bodies)."""
    # Python 3.14 says pool.terminate_workers(); before it, the pool's own table.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for process in processes:
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)
    for process in processes:
        process.join()
