"""Whole-process `plxgen compile` of the seed's lenet against the import floor.

The floor is `python -c "import yaml, jinja2, jsonschema, black"`: what any
compiler built on these packages pays before doing anything. The two are
alternated, N times each, and the medians compared.

    python benchmarks/compile_latency.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPILE = [
    sys.executable,
    "-m",
    "plxgen",
    "compile",
    str(ROOT / "generated_examples" / "lenet.yaml"),
]
FLOOR = [sys.executable, "-c", "import yaml, jinja2, jsonschema, black"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 9
    timed(COMPILE), timed(FLOOR)  # warm the file cache
    compile_times, floor_times = [], []
    for _ in range(runs):
        compile_times.append(timed(COMPILE))
        floor_times.append(timed(FLOOR))
    c, f = statistics.median(compile_times), statistics.median(floor_times)
    print(f"plxgen compile lenet.yaml: median {c * 1000:.0f} ms over {runs} runs")
    print(f"import floor:              median {f * 1000:.0f} ms")
    print(f"ratio: {c / f:.2f}x the import floor")


if __name__ == "__main__":
    main()
