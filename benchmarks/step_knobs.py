"""Training throughput against environment.steps_per_execution and environment.jit_compile.

Two generated examples, a small MLP (digits_regressor) and LeNet
(lenet_digits), each compiled with steps_per_execution 1, 16 and 100 (the
default) and with jit_compile on (100 steps per call), train 300 steps on the
digits records with summaries every 100 steps. Throughput is examples/s
between the step-100 and step-300 log lines of each run; the variants
alternate, N runs each, medians are compared with the default.

    python benchmarks/step_knobs.py [N]
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from train_vs_keras import generated_throughput  # this folder is on sys.path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ("digits_regressor", "lenet_digits")
VARIANTS = {
    "spe 1": ["environment.steps_per_execution=1"],
    "spe 16": ["environment.steps_per_execution=16"],
    "spe 100 (default)": [],
    "jit_compile": ["environment.jit_compile=true"],
}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        plxgen = [sys.executable, "-m", "plxgen"]
        subprocess.run(
            [*plxgen, "data", "digits", "-o", str(work / "data" / "digits")],
            check=True,
            capture_output=True,
        )
        (work / "generated_examples").mkdir()
        scripts: dict[tuple[str, str], Path] = {}
        batches = {}
        for model in MODELS:
            config = work / "generated_examples" / f"{model}.yaml"
            shutil.copy(ROOT / "generated_examples" / f"{model}.yaml", config)
            (pipeline,) = yaml.safe_load(config.read_text())["train"][
                "data_pipeline"
            ].values()
            batches[model] = pipeline["batch_size"]
            for i, (variant, sets) in enumerate(VARIANTS.items()):
                script = config.with_name(f"{model}_{i}.py")
                overrides = ["environment.run_config.save_summary_steps=100", *sets]
                subprocess.run(
                    [*plxgen, "compile", str(config), "-o", str(script)]
                    + [arg for item in overrides for arg in ("--set", item)],
                    check=True,
                    capture_output=True,
                )
                scripts[(model, variant)] = script
        rates: dict[tuple[str, str], list[float]] = {key: [] for key in scripts}
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        for r in range(runs):
            order = list(scripts) if r % 2 == 0 else list(scripts)[::-1]
            for model, variant in order:
                model_dir = work / "runs" / f"{model}-{variant}-{r}".replace(" ", "_")
                result = subprocess.run(
                    [sys.executable, str(scripts[(model, variant)]), "--model-dir",
                     str(model_dir), "--train-steps", "300", "--schedule", "train"],
                    capture_output=True, text=True, env=env,
                )  # fmt: skip
                if result.returncode:
                    sys.exit(f"{model} {variant} failed:\n{result.stderr[-2000:]}")
                rates[(model, variant)].append(
                    generated_throughput(result.stderr, batches[model])
                )
        for model in MODELS:
            base = statistics.median(rates[(model, "spe 100 (default)")])
            print(f"{model} (batch {batches[model]}), {runs} runs, median examples/s:")
            for variant in VARIANTS:
                rate = statistics.median(rates[(model, variant)])
                print(f"  {variant:18} {rate:8.0f}  ({rate / base:.2f}x the default)")


if __name__ == "__main__":
    main()
