"""Sample efficiency and wall time of a compiled RL example over several seeds.

For each seed the example is compiled (with `eval.every_steps` set, which
does not change training: evaluation runs on its own environment and never
draws from the training random state) and trained from scratch; then the
final policy is evaluated on 100 greedy episodes. Reported per seed:

- `first_eval`: the first environment step whose evaluation (eval.episodes
  greedy episodes) reached the threshold;
- `first_train100`: the first logged step (every save_summary_steps) whose
  mean training return over the last 100 episodes reached it (training
  explores, so this is the stricter one);
- `final20` / `final100`: the final policy's mean return over the file's
  eval.episodes and over 100 episodes;
- `wall`: seconds of the training run, periodic evaluations included.

    python benchmarks/rl_cartpole.py [--seeds 0 1 2 3 4] [--jobs 1] [--threads 0]
        [--config generated_examples/dqn_cartpole.yaml] [--threshold 475] [--eval-every 5000]

Wall times depend on the machine and on what else runs on it; the step
counts do not.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = re.compile(r"eval at step (\d+): mean return (-?[0-9.]+)$", re.MULTILINE)
TRAIN = re.compile(
    r"step (\d+)/\d+: episodes \d+, mean return \(last 100\) (-?[0-9.]+)"
)


def run_seed(
    script: Path, work: Path, seed: int, threshold: float, threads: int
) -> dict:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if threads:
        for key in (
            "TF_NUM_INTRAOP_THREADS",
            "TF_NUM_INTEROP_THREADS",
            "OMP_NUM_THREADS",
        ):
            env[key] = str(threads)
    model_dir = work / f"seed{seed}"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(script), "--model-dir", str(model_dir), "--seed", str(seed)],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    wall = time.monotonic() - started
    if result.returncode:
        raise SystemExit(f"seed {seed} failed:\n{result.stderr[-3000:]}")
    evals = [(int(s), float(r)) for s, r in EVAL.findall(result.stderr)]
    trains = [(int(s), float(r)) for s, r in TRAIN.findall(result.stderr)]
    final = json.loads((model_dir / "metrics.json").read_text())
    again = subprocess.run(
        [sys.executable, str(script), "--model-dir", str(model_dir), "--seed", str(seed),
         "--schedule", "evaluate", "--eval-episodes", "100"],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    if again.returncode:
        raise SystemExit(f"seed {seed} evaluation failed:\n{again.stderr[-3000:]}")
    final100 = json.loads((model_dir / "metrics.json").read_text())["eval"][
        "mean_return"
    ]
    return {
        "seed": seed,
        "first_eval": next((s for s, r in evals if r >= threshold), None),
        "first_train100": next((s for s, r in trains if r >= threshold), None),
        "evals": evals,
        "final20": final["eval"]["mean_return"],
        "final100": final100,
        "steps": final["global_step"],
        "wall": round(wall, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--config", default=str(ROOT / "generated_examples" / "dqn_cartpole.yaml")
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threshold", type=float, default=475.0)
    parser.add_argument(
        "--eval-every", type=int, default=0, help="eval.every_steps (0: the file's)"
    )
    parser.add_argument("--jobs", type=int, default=1, help="seeds run at once")
    parser.add_argument(
        "--threads",
        type=int,
        default=0,
        help="TensorFlow threads per run (0: TF's choice)",
    )
    parser.add_argument(
        "--set", dest="sets", action="append", default=[], help="extra plxgen --set"
    )
    args = parser.parse_args()
    import keras
    import tensorflow as tf
    import gymnasium

    print(
        f"python {platform.python_version()}, tensorflow {tf.__version__}, keras {keras.__version__}, "
        f"gymnasium {gymnasium.__version__}, {os.cpu_count()} CPUs, jobs {args.jobs}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        script = work / "agent.py"
        sets = [f"eval.every_steps={args.eval_every}"] if args.eval_every else []
        sets += args.sets
        subprocess.run(
            [sys.executable, "-m", "plxgen", "compile", args.config, "-o", str(script),
             *[item for s in sets for item in ("--set", s)]],
            check=True, cwd=ROOT,
        )  # fmt: skip
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            futures = [
                pool.submit(run_seed, script, work, seed, args.threshold, args.threads)
                for seed in args.seeds
            ]
            rows = [f.result() for f in futures]
    print(
        f"{'seed':>4} {'first_eval':>10} {'first_train100':>14} {'final20':>8} {'final100':>8} {'wall_s':>7}  evals"
    )
    for r in rows:
        curve = " ".join(f"{v:.0f}" for _, v in r["evals"])
        print(
            f"{r['seed']:>4} {r['first_eval'] or '-':>10} {r['first_train100'] or '-':>14} "
            f"{r['final20']:>8.1f} {r['final100']:>8.1f} {r['wall']:>7.1f}  {curve}"
        )
    solved = [r for r in rows if r["final100"] >= args.threshold]
    reached = sorted(r["first_eval"] for r in rows if r["first_eval"])
    print(
        f"final100 >= {args.threshold:g}: {len(solved)}/{len(rows)} seeds; eval reached it in "
        f"{len(reached)}/{len(rows)} (median step {statistics.median(reached) if reached else '-'}); "
        f"median final100 {statistics.median(r['final100'] for r in rows):.1f}; "
        f"median wall {statistics.median(r['wall'] for r in rows):.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
