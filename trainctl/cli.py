"""The ``trainctl`` command line: train, eval, predict, generate, plot-lr, lr-find, sweep, check,
list, runs.

This is the only module that exits. User errors (``TrainctlError``: bad config, data, checkpoint)
print one clear line and exit with code 2; an unexpected exception is a bug: exit code 1 with a
hint to report it. ``trainctl --help`` imports neither NumPy nor matplotlib: each command imports
what it needs when it runs.
"""

from __future__ import annotations

import errno
import os
import sys

import click

from .commands import EXIT_INTERNAL_ERROR, EXIT_INTERRUPTED, EXIT_USER_ERROR

_trust_option = click.option(
    "--trust-code", is_flag=True,
    help="Allow the config to import code it names by path (type: 'pkg.mod:Name'). Only for "
         "configs and checkpoints you trust: importing runs that code.",
)

_set_option = click.option(
    "--set", "overrides", multiple=True, metavar="KEY=VALUE",
    help="Override a config value (YAML syntax), e.g. --set optimizer.lr=0.1. Repeatable.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="trainctl", prog_name="trainctl")
def cli():
    """Train models described in YAML on trainctl's NumPy autograd engine.

    \b
    Examples:
      trainctl check configs/linreg.yaml
      trainctl train configs/linreg.yaml
      trainctl plot-lr configs/schedulers/warmup_cosine.yaml
      trainctl list scheduler
    """


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False), required=False)
@_set_option
@click.option("--run-dir", type=click.Path(file_okay=False),
              help="Write the run here (default: runs/<name>/<timestamp>/).")
@click.option("--resume", metavar="auto|PATH",
              help="Continue a run: 'auto' (newest run of CONFIG's name), a checkpoint file or a "
                   "run directory (then CONFIG may be left out: the run's own config is used).")
@click.option("--device", help="cpu, cuda, cuda:N or auto (overrides the config).")
@click.option("--quiet", is_flag=True, help="Plain one-line-per-epoch logs, no live bars.")
@click.option("--graph", is_flag=True,
              help="Run the steps as traced graphs (same numbers, less Python): train.graph=true.")
@click.option("--runs-root", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Folder that holds runs/<name>/...")
@click.option("--nproc", type=click.IntRange(min=1), metavar="N",
              help="Train data-parallel on N processes of this machine (starts mpiexec; "
                   "data.batch_size is per process).")
@_trust_option
def train(config, overrides, run_dir, resume, device, quiet, graph, runs_root, nproc,
          trust_code):
    """Train the model described by CONFIG and write a run directory.

    The run directory holds config.yaml (exactly what ran), metrics.csv/.jsonl, lr.png,
    loss.png, checkpoints/ and summary.json. Ctrl-C saves a checkpoint and says how to resume.

    \b
    Examples:
      trainctl train configs/linreg.yaml
      trainctl train configs/spirals_mlp.yaml --set optimizer.lr=0.05 --quiet
      trainctl train configs/spirals_mlp.yaml --resume auto
      trainctl train configs/mnist_lenet.yaml --graph
      trainctl train configs/spirals_mlp.yaml --nproc 2
    """
    from .commands.train import run_train

    if graph:  # an override, so the run's config.yaml records it
        overrides = (*overrides, "train.graph=true")
    return run_train(config, overrides, run_dir, resume, device, quiet, runs_root, trust_code,
                     nproc)


@cli.command(name="eval")
@click.argument("checkpoint", type=click.Path())
@click.option("--split", type=click.Choice(["test", "val", "train"]),
              help="Data split to score (default: test if configured, else val).")
@_set_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--predictions", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also write one row per sample (row, target, prediction, class "
                   "probabilities) to FILE: .csv, .npz or .jsonl.")
@click.option("--data", "data_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Score these labelled rows instead (read like the training data, with its "
                   "stored preprocessing: the training data is not needed).")
@_trust_option
def evaluate(checkpoint, split, overrides, as_json, predictions, data_file, trust_code):
    """Score a saved model. CHECKPOINT is a .safetensors file or a run directory (its best
    checkpoint, else its last).

    Prints the metrics, and for classification a per-class report (precision, recall, F1,
    support). Writes eval-<split>.json beside the checkpoint, with PNGs: the confusion matrix
    (classification), ROC and precision-recall curves (one-output binary models), residuals
    (regression).

    \b
    Examples:
      trainctl eval runs/spirals_mlp/latest
      trainctl eval runs/spirals_mlp/latest --predictions val-predictions.csv
      trainctl eval runs/breast_cancer/latest --data new_rows.csv
      trainctl eval runs/spirals_mlp/latest/checkpoints/last.safetensors --split train --json
    """
    from .commands.evaluate import run_eval

    return run_eval(checkpoint, split, overrides, as_json, trust_code, predictions, data_file)


@cli.command()
@click.argument("checkpoint", type=click.Path())
@click.argument("input", type=click.Path())
@click.option("--out", type=click.Path(dir_okay=False),
              help="File to write: .csv (default <input>-predictions.csv here), .npz or .jsonl.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--proba", is_flag=True, help="Also write each class's probability.")
@_trust_option
def predict(checkpoint, input, out, batch_size, proba, trust_code):
    """Predict with a trained model. CHECKPOINT is a .safetensors file or a run directory; INPUT
    is a CSV (the training features by name; a target column is ignored), an .npz file, an IDX
    file or a folder of PNG/JPEG images. Everything needed (feature order, standardisation,
    class names, target scaling) comes from the checkpoint: the training data is not read.

    \b
    Examples:
      trainctl predict runs/iris/latest new_flowers.csv --proba
      trainctl predict runs/iris/latest new_flowers.csv --out answers.jsonl
    """
    from .commands.predict import run_predict

    return run_predict(checkpoint, input, out, batch_size, proba, trust_code)


@cli.command()
@click.argument("checkpoint", type=click.Path())
@click.option("--prompt", default="", help="Text to continue (default: start a new line).")
@click.option("--tokens", type=click.IntRange(0, 100_000), default=200, show_default=True,
              help="How many tokens (characters, words or BPE pieces) to add.")
@click.option("--temperature", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Sampling temperature; 0 always takes the most likely token.")
@click.option("--top-k", type=click.IntRange(min=1), default=None,
              help="Sample among the K most likely tokens only.")
@click.option("--seed", type=int, default=None, help="Seed the sampling (repeatable output).")
@_trust_option
def generate(checkpoint, prompt, tokens, temperature, top_k, seed, trust_code):
    """Sample text from a trained language model. CHECKPOINT is a .safetensors file or a run
    directory of a model trained on a TextFile dataset (its vocabulary is in the checkpoint).

    \b
    Examples:
      trainctl generate runs/sonnets_char_lstm/latest --prompt "Shall I " --seed 0
      trainctl generate runs/sonnets_char_lstm/latest --tokens 400 --temperature 0.7 --top-k 10
    """
    from .commands.generate import run_generate

    return run_generate(checkpoint, prompt, tokens, temperature, top_k, seed, trust_code)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False))
@_set_option
@_trust_option
def check(config, overrides, trust_code):
    """Validate CONFIG, print it resolved, and dry-run the model on one batch.

    \b
    Example:
      trainctl check configs/fashion_mnist_mlp.yaml --set model.layers.1.out_features=256
    """
    from .commands.check import run_check

    run_check(config, overrides, trust_code)


@cli.command(name="list")
@click.argument("kind", required=False)
@click.argument("name", required=False)
def list_components(kind, name):
    """List the components a config can name (all kinds, or one KIND), with the arguments a
    config can set; or show one component (KIND NAME) in full, with an example config snippet.

    KIND is one of: model, loss, optimizer, scheduler, dataset, transform, sampler, metric,
    callback.

    \b
    Examples:
      trainctl list optimizer
      trainctl list scheduler OneCycleLR
    """
    from .commands.listing import run_list

    run_list(kind, name)


class _RunsGroup(click.Group):
    """``trainctl runs [ROOT] [OPTIONS]`` prints the table; ``trainctl runs diff RUN RUN``
    compares two runs. The first word picks ``diff``; anything else goes to the table (a hidden
    subcommand), so a ROOT never has to be told apart from a subcommand by the user."""

    def parse_args(self, ctx, args):
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = ["table", *args]
        return super().parse_args(ctx, args)

    def collect_usage_pieces(self, ctx):
        return ["[ROOT] [--sort KEY] [--filter EXPR]... [--json]  |  diff RUN RUN"]

    def format_options(self, ctx, formatter):
        self.commands["table"].format_options(ctx, formatter)
        self.format_commands(ctx, formatter)


@cli.group(cls=_RunsGroup)
def runs():
    """Compare runs: the runs under ROOT (default runs/), one table per run name: start
    time, status, epochs, best value of the monitored metric, final metrics, duration, and the
    config keys where a run differs from the other runs of its name. A folder that cannot be
    read is listed as 'unreadable'.

    --sort takes a column (date, status, epochs, best, time_s, ...), a metric (val/accuracy)
    or a config key (optimizer.lr); a leading - sorts descending. --filter KEY OP VALUE (OP:
    = != > < >= <=; = matches wildcards) may be repeated: every filter must hold.

    \b
    Examples:
      trainctl runs
      trainctl runs --sort=-val/accuracy --filter status=completed
      trainctl runs --filter 'name=spirals*' --filter 'val/accuracy>0.9' --json
      trainctl runs diff spirals_mlp/20260102-101500 spirals_mlp/20260102-103012
    """


@runs.command(name="table", hidden=True)
@click.argument("root", default="runs", type=click.Path(file_okay=False))
@click.option("--sort", "sort_key", metavar="KEY",
              help="Sort by a column, metric or config key; -KEY for descending.")
@click.option("--filter", "filters", multiple=True, metavar="EXPR",
              help="Keep runs where EXPR holds, e.g. status=completed, val/accuracy>0.9. "
                   "Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON.")
def runs_table(root, sort_key, filters, as_json):
    """A table of the runs under ROOT (default runs/)."""
    from .commands.runs import run_runs

    return run_runs(root, sort_key, filters, as_json)


@runs.command(name="diff")
@click.argument("run_a", metavar="RUN")
@click.argument("run_b", metavar="RUN")
@click.option("--root", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Folder the RUN names are relative to.")
@click.option("--json", "as_json", is_flag=True, help="Print the differences as JSON.")
def runs_diff(run_a, run_b, root, as_json):
    """Config and metric differences of two runs. A RUN is a run directory, a
    <name>/<timestamp> under --root, or a run name (its newest run).

    \b
    Example:
      trainctl runs diff spirals_mlp/20260102-101500 spirals_mlp/20260102-103012
    """
    from .commands.runs import run_runs_diff

    return run_runs_diff(run_a, run_b, root, as_json)


@cli.command(name="plot-lr")
@click.argument("targets", nargs=-1, type=click.Path())
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs to preview (default: the "
              "config's train.epochs).")
@click.option("--steps-per-epoch", type=click.IntRange(min=1),
              help="Steps per epoch for per-step schedules (default: from the dataset size).")
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: "
              "<runs-root>/<config name>/lr-preview.<format> for a config, "
              "<run dir>/lr-plot.<format> for a run).")
@click.option("--format", "fmt", type=click.Choice(["png", "svg", "pdf"]),
              help="Image format (default: --out's suffix, else png).")
@click.option("--log-scale", is_flag=True, help="Logarithmic LR axis.")
@click.option("--runs-root", default="runs", show_default=True, type=click.Path(file_okay=False))
@_trust_option
def plot_lr(targets, epochs, steps_per_epoch, out, fmt, log_scale, runs_root, trust_code):
    """Draw learning-rate schedules: of config files (previewed without training), of run
    directories (as recorded), or of the newest run when no TARGET is given. Several targets
    are overlaid; prints each curve's initial, min, max and final LR and the chart's path.
    A run's own lr.png is never overwritten.

    \b
    Examples:
      trainctl plot-lr configs/schedulers/warmup_cosine.yaml
      trainctl plot-lr configs/schedulers/*.yaml --epochs 100 --log-scale --out lr.svg
      trainctl plot-lr runs/spirals_mlp/latest --format pdf
    """
    from .commands.plot_lr import run_plot_lr

    return run_plot_lr(targets, epochs, steps_per_epoch, out, log_scale, runs_root,
                       trust_code, fmt=fmt)


@cli.command(name="lr-find")
@click.argument("config", type=click.Path(dir_okay=False))
@_set_option
@click.option("--min", "min_lr", type=float, default=1e-7, show_default=True,
              help="LR of the first step.")
@click.option("--max", "max_lr", type=float, default=10.0, show_default=True,
              help="LR of the last step.")
@click.option("--steps", type=int, default=100, show_default=True,
              help="Optimizer steps (the test stops earlier when the loss diverges).")
@click.option("--mode", type=click.Choice(["exp", "linear"]), default="exp", show_default=True,
              help="How the LR grows from --min to --max.")
@click.option("--apply", is_flag=True, help="Write the suggestion into a new config file next "
              "to CONFIG (<stem>.lr-<value>.yaml, with CONFIG as its base:).")
@click.option("--runs-root", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Results go to <runs-root>/<name>/lr-find-<timestamp>/.")
@_trust_option
def lr_find(config, overrides, min_lr, max_lr, steps, mode, apply, runs_root, trust_code):
    """Find a learning rate: the LR range test. Trains from CONFIG's initial weights while the
    LR grows from --min to --max, stops when the loss diverges, and suggests the LR of the
    steepest descent of the smoothed loss (and the "min loss / 10" rule). Param groups keep
    their LR ratios. Writes lr_find.json and lr-find.png; no checkpoint, no run directory.

    \b
    Examples:
      trainctl lr-find configs/spirals_mlp.yaml
      trainctl lr-find configs/spirals_mlp.yaml --min 1e-5 --max 1 --steps 60 --apply
    """
    from .commands.lr_find import run_lr_find

    return run_lr_find(config, overrides, min_lr, max_lr, steps, mode, apply, runs_root,
                       trust_code)


@cli.command()
@click.argument("config", type=click.Path(dir_okay=False))
@click.option("--space", type=click.Path(dir_okay=False),
              help="SPACE.yaml: the config keys to sample and their domains, and the objective.")
@click.option("--trials", type=click.IntRange(min=1),
              help="Trials in the study in all (default 20; grid: the grid's size). Running "
                   "the command again continues the study up to this number.")
@click.option("--jobs", type=click.IntRange(min=1), default=1, show_default=True,
              help="Trials trained at once, in worker processes on this machine.")
@click.option("--storage", metavar="URL",
              help="Optuna storage URL shared by every process and machine of the study "
                   "(default sqlite:///<runs-root>/<name>/sweep.db).")
@click.option("--study", metavar="NAME", help="Study name (default: the config's name).")
@click.option("--sampler", type=click.Choice(["tpe", "random", "grid"]), default="tpe",
              show_default=True)
@click.option("--pruner", type=click.Choice(["median", "hyperband", "threshold", "none"]),
              default="median", show_default=True,
              help="When to stop a trial early; the space file's pruner: gives its options.")
@click.option("--timeout", type=click.FloatRange(min=0), metavar="S",
              help="Start no trial after S seconds (running ones finish).")
@click.option("--seed", type=int, help="Seed of the sampler (each worker adds its index).")
@_set_option
@click.option("--report", is_flag=True,
              help="Only report an existing study: trials table, best.yaml, charts.")
@click.option("--runs-root", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Trials go to <runs-root>/<name>/sweep-<study>/trial-<n>/.")
@_trust_option
def sweep(config, space, trials, jobs, storage, study, sampler, pruner, timeout, seed,
          overrides, report, runs_root, trust_code):
    """Search hyperparameters with Optuna. Each trial trains CONFIG with keys sampled from
    SPACE (a normal run under runs/<name>/sweep-<study>/), reports its objective every epoch
    and may be pruned. Prints one line per trial, then the best trials; writes trials.csv,
    best.yaml (ready to train) and charts (history, importance, parallel, slice PNGs).
    Ctrl-C stops the running trials; the same command continues the study.

    \b
    Examples:
      trainctl sweep configs/tabular_regression.yaml \\
          --space configs/sweeps/diabetes_space.yaml --trials 30 --jobs 2
      trainctl sweep configs/tabular_regression.yaml --report
    """
    from .commands.sweep import run_sweep

    return run_sweep(config, space, trials, jobs, storage, study, sampler, pruner, timeout,
                     seed, overrides, report, runs_root, trust_code)


# What the machine, not trainctl, refused: a full disk, a file-size limit, a read-only or
# forbidden folder, a path through a file. The user can act on these, so they are exit 2.
USER_OS_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES,
                  errno.EPERM, errno.ENOTDIR, errno.EISDIR, errno.ENOENT, errno.EEXIST,
                  errno.ENAMETOOLONG, errno.EMFILE}


def os_error_text(e: OSError) -> str:
    """``path: reason`` for an OSError (both paths of a rename)."""
    paths = " -> ".join(str(p) for p in (e.filename, e.filename2) if p is not None)
    reason = e.strerror or type(e).__name__
    return f"{paths}: {reason}" if paths else reason


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Python warnings as a command line shows them: ``warning: <message>`` on stderr, without
    the library's file, line and source text (they are about trainctl, not the user's files)."""
    click.echo(f"warning: {message}", err=True)


def main(argv=None) -> None:
    """Entry point of the ``trainctl`` console script."""
    import warnings

    from .core.errors import TrainctlError

    warnings.showwarning = show_warning
    try:
        rc = cli.main(args=argv, prog_name="trainctl", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(EXIT_USER_ERROR)
    except TrainctlError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USER_ERROR)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as e:
        if os.environ.get("TRAINCTL_DEBUG"):
            raise
        if isinstance(e, OSError) and e.errno in USER_OS_ERRORS:
            click.echo(f"error: {os_error_text(e)}", err=True)
            sys.exit(EXIT_USER_ERROR)
        click.echo(
            f"internal error: {type(e).__name__}: {e}\n"
            "This is a bug in trainctl. Please report it with the command you ran "
            "(set TRAINCTL_DEBUG=1 to see the traceback).",
            err=True,
        )
        sys.exit(EXIT_INTERNAL_ERROR)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
