"""Regenerate the README's chart images in ``docs/img/`` from small real runs.

Trains three shipped configs for a few epochs into a temporary folder (offline, seconds on a
laptop CPU), evaluates two of them, previews a few LR schedules, and copies one chart of each
kind to ``docs/img/``:

    loss.png, accuracy.png, lr.png   spirals_mlp (x in epochs, steps on top, best epoch)
    r2.png                           tabular_regression (an early stop; R² range)
    residuals.png                    eval of the tabular_regression run
    confusion.png, roc.png, pr.png   eval of the tabular_binary run
    lr-preview.png                   plot-lr overlay of shipped scheduler configs

Run from anywhere: ``python scripts/make_doc_images.py [--out docs/img]``. Each image is
checked to stay under ``--max-kb`` (80 KB by default), so the repository stays small.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trainctl.config import load_config  # noqa: E402
from trainctl.training import evaluate, plot_lr, train  # noqa: E402

SCHEDULES = ("step_lr", "multistep_lr", "exponential_lr", "warmup_cosine", "cosine_warm_restarts",
             "reduce_lr_on_plateau", "polynomial_lr", "linear_lr", "sequential_lr")


def _quiet(message: str, err: bool = False) -> None:
    pass


def _train(config: str, overrides: list[str], work: Path) -> Path:
    # the run directory named after the config's name, not a timestamp: eval's titles name it,
    # and a rerun redraws the same images
    run_dir = work / load_config(ROOT / "configs" / config)["name"]
    summary = train(ROOT / "configs" / config, overrides, run_dir=run_dir, quiet=True,
                    echo=_quiet)
    return Path(summary["run_dir"])


def make(out: Path, max_kb: int) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        spirals = _train("spirals_mlp.yaml", ["train.epochs=15", "scheduler.T_max=15",
                                              "train.log_every=5"], work)
        regression = _train("tabular_regression.yaml", [], work)
        binary = _train("tabular_binary.yaml", [], work)
        picks = {"loss.png": spirals / "loss.png", "accuracy.png": spirals / "accuracy.png",
                 "lr.png": spirals / "lr.png", "r2.png": regression / "r2.png"}
        result = evaluate(regression)
        picks["residuals.png"] = Path(result["residuals_png"])
        result = evaluate(binary)
        picks.update({"confusion.png": Path(result["confusion_png"]),
                      "roc.png": Path(result["roc_png"]), "pr.png": Path(result["pr_png"])})
        targets = [str(ROOT / "configs" / "schedulers" / f"{name}.yaml") for name in SCHEDULES]
        _, _, preview = plot_lr(targets, epochs=30, out=work / "lr-preview.png")
        picks["lr-preview.png"] = preview
        for name, source in picks.items():
            target = out / name
            shutil.copyfile(source, target)
            size_kb = target.stat().st_size / 1024
            if size_kb > max_kb:
                raise SystemExit(f"{target}: {size_kb:.0f} KB, over the {max_kb} KB budget")
            written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--max-kb", type=int, default=80)
    args = parser.parse_args(argv)
    for path in make(args.out, args.max_kb):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} "
              f"({path.stat().st_size / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
