"""Whole-process `plxgen compile` against the import floor, and against graph size.

The floor is `python -c "import yaml, jinja2, jsonschema, black"`: what any
compiler built on these packages pays before doing anything. The judged case
is a file the package cannot know in advance: a freshly edited lenet (other
layer sizes and learning rate, new on every run), so validation, lowering,
rendering and black all run; Jinja's compiled templates are warm in the cache
folder, as after any earlier compile. Beside it: the same with `--no-cache`
(templates compiled from source too), and an unchanged file whose body is
cached (a second compile of the same file). The sides alternate, N times
each; medians are compared. Then the marginal cost of a file when 20 edited
files are compiled in one invocation; the bundled sweep with a matrix of 64
combinations against the same sweep with one (both cold; the combinations
compile on all cores, so the ratio is printed with the number of cores); and
compiles of generated files of 10, 100 and 1000 layers, with the marginal cost
per layer.

    python benchmarks/compile_latency.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import yaml, jinja2, jsonschema, black"]


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        sys.exit(f"{' '.join(command)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def compile_command(config: Path, out: Path, cold: bool) -> list[str]:
    command = [sys.executable, "-m", "plxgen"]
    if cold:
        command.append("--no-cache")
    return command + ["compile", str(config), "-o", str(out), "--force"]


def graph_config(layers: int, folder: Path) -> Path:
    """lenet_digits.yaml with a graph of `layers` layers."""
    text = (ROOT / "generated_examples" / "lenet_digits.yaml").read_text()
    start = text.index("      layers:\n        - Conv2D")
    end = text.index("\ntrain:")
    dense = "        - Dense: {units: 16, activation: relu}\n" * (layers - 2)
    graph = (
        f"      layers:\n{dense}        - Flatten:\n        - Dense: {{units: 10}}\n"
    )
    path = folder / f"graph{layers}.yaml"
    path.write_text(text[:start] + graph + text[end:])
    return path


def edited_lenet(folder: Path, k: int) -> Path:
    """The seed's lenet with other layer sizes and learning rate."""
    text = (ROOT / "generated_examples" / "lenet.yaml").read_text()
    assert "learning_rate: 0.007" in text and "units: 1024" in text
    text = text.replace("learning_rate: 0.007", f"learning_rate: 0.00{k + 1}1")
    text = text.replace("units: 1024", f"units: {512 + k}")
    path = folder / f"lenet_edited_{k}.yaml"
    path.write_text(text)
    return path


def sweep(folder: Path, rates: int, widths: list[int]) -> Path:
    """The bundled sweep with `rates` learning rates times `widths`: one script each."""
    text = (ROOT / "generated_examples" / "sweeps" / "lenet_sweep.yaml").read_text()
    assert "logspace: -3:-2:2" in text and "values: [256, 1024]" in text
    text = text.replace("logspace: -3:-2:2", f"logspace: -4:-1:{rates}")
    text = text.replace("values: [256, 1024]", f"values: {widths}")
    path = folder / f"sweep{rates * len(widths)}.yaml"
    path.write_text(text)
    return path


def cores() -> int:
    """The cores this process may run on (its affinity, where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
        env.pop("PLXGEN_NO_CACHE", None)
        # Next to its script, as `plxgen compile lenet.yaml -o lenet.py` compiles it.
        lenet = work / "lenet.yaml"
        shutil.copy(ROOT / "generated_examples" / "lenet.yaml", lenet)
        fresh = iter(range(1000))

        def edited_command(cold: bool) -> list[str]:
            """A lenet edited anew: never in the body cache."""
            k = next(fresh)
            return compile_command(edited_lenet(work, k), work / f"edited{k}.py", cold)

        sides = {
            "import floor": lambda: FLOOR,
            "edited, cold": lambda: edited_command(cold=False),
            "edited, --no-cache": lambda: edited_command(cold=True),
            "unchanged, cached": lambda: compile_command(
                lenet, work / "lenet.py", cold=False
            ),
        }
        for command in sides.values():  # warm the file cache and the template cache
            timed(command(), env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in sides}
        for i in range(runs):
            names = list(sides) if i % 2 == 0 else list(sides)[::-1]
            for name in names:
                times[name].append(timed(sides[name](), env))

        def median(name: str, which: int) -> float:
            return statistics.median(t[which] for t in times[name])

        floor_wall, floor_cpu = median("import floor", 0), median("import floor", 1)
        print(f"seed's lenet.yaml, whole process, {runs} alternating runs, medians:")
        for name in sides:
            wall, cpu = median(name, 0), median(name, 1)
            print(
                f"  {name:18} {wall * 1000:6.0f} ms wall ({wall / floor_wall:.2f}x the floor), "
                f"{cpu * 1000:6.0f} ms CPU ({cpu / floor_cpu:.2f}x)"
            )

        edited = [edited_lenet(work, 500 + k) for k in range(20)]
        one = [sys.executable, "-m", "plxgen", "--no-cache", "compile"]
        batch = {
            1: one + [str(edited[0]), "-o", f"{work / 'one'}/", "--force"],
            20: one + [*map(str, edited), "-o", str(work / "many"), "--force"],
        }
        (work / "one").mkdir()
        (work / "many").mkdir()
        several: dict[int, list[float]] = {1: [], 20: []}
        for i in range(max(3, runs // 3)):
            for n in (1, 20) if i % 2 == 0 else (20, 1):
                several[n].append(timed(batch[n], env)[0])
        first, all_ = (statistics.median(several[n]) for n in (1, 20))
        print(
            f"\nseveral files in one invocation (edited lenets, cold): 1 file {first:.2f} s, "
            f"20 files {all_:.2f} s: {(all_ - first) / 19 * 1000:.0f} ms per further file"
        )

        widths = [64, 128, 256, 384, 512, 768, 1024, 2048]
        sweeps = {
            1: one + [str(sweep(work, 1, [256])), "-o", str(work / "sweep1"), "--force"],
            64: one + [str(sweep(work, 8, widths)), "-o", str(work / "sweep64"), "--force"],
        }  # fmt: skip
        matrix: dict[int, list[tuple[float, float]]] = {1: [], 64: []}
        for i in range(max(3, runs // 3)):
            for n in (1, 64) if i % 2 == 0 else (64, 1):
                matrix[n].append(timed(sweeps[n], env))
        first, all_ = (statistics.median(t[0] for t in matrix[n]) for n in (1, 64))
        cpu = statistics.median(t[1] for t in matrix[64])  # the workers' included
        print(
            f"\nthe bundled sweep's matrix (cold, {cores()} cores): 1 combination {first:.2f} s, "
            f"64 combinations {all_:.2f} s ({cpu:.1f} s CPU): {all_ / first:.1f}x the one"
        )

        print("\ngraph size (Dense layers), whole process, medians:")
        sizes = (10, 100, 1000)
        configs = {n: graph_config(n, work) for n in sizes}
        graph: dict[tuple[int, bool], list[tuple[float, float]]] = {}
        for n in sizes:
            for cold in (True, False):
                command = compile_command(configs[n], work / f"graph{n}.py", cold)
                timed(command, env)
                graph[(n, cold)] = [
                    timed(command, env) for _ in range(max(3, runs // 3))
                ]
        for cold in (True, False):
            walls = {
                n: statistics.median(t[0] for t in graph[(n, cold)]) for n in sizes
            }
            cpus = {n: statistics.median(t[1] for t in graph[(n, cold)]) for n in sizes}
            per_layer = [
                (cpus[b] - cpus[a]) / (b - a) * 1000 for a, b in zip(sizes, sizes[1:])
            ]
            print(
                f"  {'cold' if cold else 'warm'}: "
                + ", ".join(f"{n} layers {walls[n]:.2f} s wall / {cpus[n]:.2f} s CPU" for n in sizes)
                + f"; CPU per layer {per_layer[0]:.2f} ms (10->100), {per_layer[1]:.2f} ms (100->1000)"
            )  # fmt: skip


if __name__ == "__main__":
    main()
