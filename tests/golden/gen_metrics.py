"""Golden fixtures for ``trainctl.training.metrics``: scikit-learn's numbers on seeded predictions.

Run with scikit-learn installed (``pip install scikit-learn``; it is not a trainctl dependency):
``python tests/golden/gen_metrics.py`` (``make_golden.py`` skips it without scikit-learn). Needs
numpy and scikit-learn only, not trainctl. Writes ``metrics.json``:

- ``cases``: each with the model outputs (``pred``: float32 values by their shortest text, to be
  read back as float32), the targets, uneven ``batches`` to feed them in, and ``expected``: one
  ``{"metric", "args", "value"}`` per trainctl metric and argument set, the value computed by
  scikit-learn;
- ``reports``: ``classification_report(..., labels=range(C), output_dict=True,
  zero_division=0)`` for some classification cases.

How trainctl reads a model's outputs, reproduced here in NumPy: a one-column model outputs a
logit and predicts class 1 when ``logit > log(t / (1 - t))`` (``sigmoid(logit) > t``); its ROC
and PR curves rank the logits. A C-column model predicts its arg-max, and its ROC/PR curves rank
its softmax probabilities (float64), one class against the rest, macro averaged.
"""

import json
import math
import pathlib
import re

import numpy

HERE = pathlib.Path(__file__).parent
AVERAGES = ("macro", "micro", "weighted")


def softmax(z):
    z = z.astype(numpy.float64)
    e = numpy.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def multiclass_outputs(rng, n, c, probs=None, signal=1.5, decimals=None):
    """(logits float32 (n, c), labels (n,)): logits lean towards the true class."""
    labels = rng.choice(c, size=n, p=probs)
    logits = rng.normal(size=(n, c)) + signal * numpy.eye(c)[labels]
    if decimals is not None:  # a coarse grid: ties within and across rows
        logits = numpy.round(logits * 2, decimals) / 2
    return logits.astype(numpy.float32), labels


def binary_outputs(rng, n, positive_rate, signal=1.5, decimals=None):
    labels = (rng.random(n) < positive_rate).astype(numpy.int64)
    logits = rng.normal(size=n) + signal * (2 * labels - 1) / 2
    if decimals is not None:
        logits = numpy.round(logits, decimals)
    return logits.astype(numpy.float32), labels


def multiclass_expected(logits, labels, topk=(1, 2), ranking=True):
    from sklearn import metrics as skm

    c = logits.shape[1]
    x = logits.astype(numpy.float64)
    pred = x.argmax(axis=1)
    out = [("accuracy", {}, skm.accuracy_score(labels, pred)),
           ("balanced_accuracy", {}, skm.balanced_accuracy_score(labels, pred))]
    for k in topk:
        out.append(("topk_accuracy", {"k": k},
                    skm.top_k_accuracy_score(labels, x, k=k, labels=list(range(c)))))
    for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                     ("f1", skm.f1_score)):
        for average in AVERAGES:
            out.append((name, {"average": average},
                        fn(labels, pred, average=average, zero_division=0)))
        out.append((name, {}, fn(labels, pred, average="macro", zero_division=0)))  # auto
        if c == 2:
            out.append((name, {"average": "binary"},
                        fn(labels, pred, average="binary", zero_division=0)))
    if ranking:
        assert set(labels.tolist()) == set(range(c)), "every class must occur as a target"
        p = softmax(logits)
        if c == 2:  # one-vs-rest over both columns, as for C > 2
            auroc = numpy.mean([skm.roc_auc_score(labels == j, p[:, j]) for j in range(2)])
        else:
            auroc = skm.roc_auc_score(labels, p, multi_class="ovr", average="macro",
                                      labels=list(range(c)))
        ap = numpy.mean([skm.average_precision_score(labels == j, p[:, j]) for j in range(c)])
        if c > 2:  # scikit-learn's own multiclass average precision agrees
            assert math.isclose(ap, skm.average_precision_score(labels, p, average="macro"))
        out += [("auroc", {}, auroc), ("average_precision", {}, ap)]
    return out


def binary_expected(logits, labels, thresholds=(0.5,)):
    from sklearn import metrics as skm

    x = logits.astype(numpy.float64)
    out = [("auroc", {}, skm.roc_auc_score(labels, x)),
           ("average_precision", {}, skm.average_precision_score(labels, x))]
    for t in thresholds:
        pred = (x > math.log(t / (1 - t))).astype(numpy.int64)
        args = {} if t == 0.5 else {"threshold": t}
        out.append(("accuracy", dict(args), skm.accuracy_score(labels, pred)))
        out.append(("balanced_accuracy", dict(args), skm.balanced_accuracy_score(labels, pred)))
        for name, fn in (("precision", skm.precision_score), ("recall", skm.recall_score),
                         ("f1", skm.f1_score)):
            out.append((name, dict(args), fn(labels, pred, zero_division=0)))  # auto: binary
            for average in (*AVERAGES, "binary"):
                out.append((name, {**args, "average": average},
                            fn(labels, pred, average=average, zero_division=0)))
        out.append(("f1", {**args, "average": "binary", "pos_label": 0},
                    skm.f1_score(labels, pred, average="binary", pos_label=0, zero_division=0)))
    return out


def regression_expected(pred, target):
    from sklearn import metrics as skm

    p, t = pred.astype(numpy.float64), target.astype(numpy.float64).reshape(pred.shape)
    return [("mae", {}, skm.mean_absolute_error(t, p)),
            ("mse", {}, skm.mean_squared_error(t, p)),
            ("rmse", {}, skm.root_mean_squared_error(t, p)),
            ("r2", {}, skm.r2_score(t, p))]


def report(logits, labels):
    from sklearn import metrics as skm

    c = logits.shape[1]
    return skm.classification_report(labels, logits.argmax(axis=1), labels=list(range(c)),
                                     output_dict=True, zero_division=0)


def as_json(a):
    """float32 values by their shortest text (the same float32 when read back as float32)."""
    if a.dtype.kind != "f":
        return a.tolist()
    if a.ndim > 1:
        return [as_json(row) for row in a]
    return [float(str(v)) for v in a.astype(numpy.float32)]


def case(name, kind, pred, target, expected, batches, note):
    assert sum(batches) == len(pred)
    return {"name": name, "kind": kind, "note": note, "batches": batches,
            "pred": as_json(pred), "target": as_json(target),
            "expected": [{"metric": m, "args": a, "value": float(v)} for m, a, v in expected]}


def build_cases():
    rng = numpy.random.default_rng(20240514)
    cases, reports = [], {}

    logits, labels = multiclass_outputs(rng, 60, 4)
    cases.append(case("mc_balanced", "multiclass", logits, labels,
                      multiclass_expected(logits, labels, topk=(1, 2, 4)), [7, 1, 13, 39],
                      "4 classes, about equal"))
    reports["mc_balanced"] = report(logits, labels)

    logits, labels = multiclass_outputs(rng, 90, 5, probs=[0.55, 0.2, 0.12, 0.08, 0.05])
    cases.append(case("mc_imbalanced", "multiclass", logits, labels,
                      multiclass_expected(logits, labels, topk=(1, 3)), [32, 5, 53],
                      "5 classes, 55% / 20% / 12% / 8% / 5%"))
    reports["mc_imbalanced"] = report(logits, labels)

    logits, labels = multiclass_outputs(rng, 50, 4)
    logits[:, 3] -= 20.0  # class 3 is never the arg-max, but occurs among the targets
    cases.append(case("mc_never_predicted", "multiclass", logits, labels,
                      multiclass_expected(logits, labels), [25, 25],
                      "class 3 never predicted"))
    reports["mc_never_predicted"] = report(logits, labels)

    logits, labels = multiclass_outputs(rng, 40, 3, decimals=0)
    logits = numpy.concatenate([logits, logits[:12]])  # duplicated rows: tied probabilities
    labels = numpy.concatenate([labels, rng.choice(3, size=12)])
    cases.append(case("mc_ties", "multiclass", logits, labels,
                      multiclass_expected(logits, labels, topk=(1, 2)), [3, 17, 11, 21],
                      "scores on a 0.5 grid and duplicated rows: ties within and across rows"))

    logits, labels = multiclass_outputs(rng, 45, 4, probs=[0.4, 0.3, 0.3, 0.0])
    logits[:5, 3] += 10.0  # class 3 is predicted 5 times but never a target
    cases.append(case("mc_absent_target", "multiclass", logits, labels,
                      multiclass_expected(logits, labels, ranking=False), [44, 1],
                      "class 3 predicted but never a target (AUROC/AP undefined: left out)"))
    reports["mc_absent_target"] = report(logits, labels)

    logits, labels = multiclass_outputs(rng, 70, 2, probs=[0.75, 0.25])
    cases.append(case("mc_two_columns", "multiclass", logits, labels,
                      multiclass_expected(logits, labels, topk=()), [10, 20, 40],
                      "a two-output softmax model, imbalanced"))

    logits, labels = binary_outputs(rng, 64, 0.5)
    cases.append(case("bin_balanced", "binary", logits[:, None], labels,
                      binary_expected(logits, labels, (0.5, 0.3, 0.8)), [16, 16, 32],
                      "one logit (N, 1), int targets (N,)"))

    logits, labels = binary_outputs(rng, 120, 0.1, signal=2.5)
    cases.append(case("bin_imbalanced", "binary", logits[:, None],
                      labels[:, None].astype(numpy.float32),
                      binary_expected(logits, labels, (0.5, 0.2)), [50, 50, 20],
                      "10% positives, float targets (N, 1)"))

    logits, labels = binary_outputs(rng, 80, 0.4, decimals=0)
    cases.append(case("bin_ties", "binary", logits, labels.astype(numpy.float32),
                      binary_expected(logits, labels), [9, 31, 40],
                      "logits rounded to integers: many tied scores; (N,) outputs and targets"))

    logits, labels = binary_outputs(rng, 30, 0.5)
    logits = logits - 10.0  # nothing predicted positive
    cases.append(case("bin_none_predicted", "binary", logits[:, None], labels,
                      binary_expected(logits, labels), [29, 1],
                      "no sample predicted positive: precision 0 (zero_division)"))

    target = rng.normal(size=(50, 1)) * 3 + 1
    pred = (target + rng.normal(size=(50, 1))).astype(numpy.float32)
    target = target.astype(numpy.float32)
    cases.append(case("reg_one_output", "regression", pred, target[:, 0],
                      regression_expected(pred, target), [8, 8, 34],
                      "(N, 1) predictions, (N,) targets"))

    target = rng.normal(size=(60, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, -2.0]
    pred = (target + rng.normal(size=(60, 3)) * [0.5, 4.0, 0.1]).astype(numpy.float32)
    target = target.astype(numpy.float32)
    cases.append(case("reg_three_outputs", "regression", pred, target,
                      regression_expected(pred, target), [13, 1, 46],
                      "three outputs on different scales (uniform average)"))

    target = 1000.0 + rng.normal(size=(40, 1)) * 0.5
    pred = (target + rng.normal(size=(40, 1)) * 0.2).astype(numpy.float32)
    target = target.astype(numpy.float32)
    cases.append(case("reg_large_mean", "regression", pred, target,
                      regression_expected(pred, target), [1, 2, 37],
                      "targets near 1000 with spread 0.5 (R2 without cancellation)"))
    return cases, reports


def main():
    try:
        import sklearn
    except ImportError:
        print("gen_metrics.py: skipped (needs scikit-learn: pip install scikit-learn)")
        return
    cases, reports = build_cases()
    data = {"generator": "tests/golden/gen_metrics.py", "scikit_learn": sklearn.__version__,
            "numpy": numpy.__version__, "cases": cases, "reports": reports}
    text = json.dumps(data, indent=1)
    # One line per innermost list of numbers (a row of outputs), for a readable, small file.
    text = re.sub(r"\[([-+0-9.eE,\s]+)\]",
                  lambda m: "[" + ", ".join(v.strip() for v in m[1].split(",")) + "]", text)
    (HERE / "metrics.json").write_text(text + "\n")
    print(f"metrics.json: {len(cases)} cases, "
          f"{sum(len(c['expected']) for c in cases)} expected values")


if __name__ == "__main__":
    main()
