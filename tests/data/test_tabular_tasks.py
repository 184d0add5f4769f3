"""CSVDataset tasks (classification, binary, regression, multilabel), target scaling, statistics
from the training rows only, and the preprocessing state that reads new files like the old."""

import json

import numpy
import pytest

import trainctl as tc
from trainctl.data import CSVDataset, DataLoader, Subset, val_split


def _csv(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


CANCER = """radius,texture,diagnosis
17.9,10.3,M
11.4,20.1,B
20.5,21.2,M
12.4,15.7,B
13.0,18.4,B
"""

HOUSES = """rooms,age,price,tax
3,10,200,2.0
4,5,310,3.5
2,40,120,1.0
5,1,450,4.0
"""


# ----------------------------------------------------------------------------- tasks


def test_classification_targets_are_int64_class_indices(tmp_path):
    ds = CSVDataset(_csv(tmp_path, CANCER), target="diagnosis")
    assert ds.classes == ["B", "M"] and ds.num_classes == 2
    x, y = ds[0]
    assert y.dtype == tc.int64 and tuple(y.shape) == () and y.item() == 1
    assert ds.labels().tolist() == [1, 0, 1, 0, 0] and ds.labels().dtype == numpy.int64


@pytest.mark.parametrize("labels,classes,positive_rows", [
    (["M", "B", "M", "B", "B"], ["B", "M"], [0, 2]),
    (["yes", "no", "yes", "no", "no"], ["no", "yes"], [0, 2]),
    (["1", "0", "1", "0", "0"], ["0", "1"], [0, 2]),
    (["1.0", "0.0", "1.0", "0.0", "10"], None, None),  # three classes: refused
])
def test_binary_targets_are_float_n_by_1_with_class_one_positive(tmp_path, labels, classes,
                                                                 positive_rows):
    text = "a,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(labels))
    path = _csv(tmp_path, text)
    if classes is None:
        with pytest.raises(tc.DataError, match=r"task 'binary' needs exactly 2 classes in column "
                                               r"'y' \(2\), found 3: \['0.0', '1.0', '10'\]"):
            CSVDataset(path, target="y", task="binary")
        return
    ds = CSVDataset(path, target="y", task="binary")
    assert ds.classes == classes and ds.num_classes == 2
    assert ds.targets.dtype == numpy.float32 and ds.targets.shape == (5, 1)
    assert numpy.flatnonzero(ds.targets[:, 0]).tolist() == positive_rows
    x, y = next(iter(DataLoader(ds, batch_size=5)))
    assert tuple(y.shape) == (5, 1) and y.dtype == tc.float32
    # the batch fits a one-logit model and BCEWithLogitsLoss as it comes
    loss = tc.nn.BCEWithLogitsLoss()(tc.zeros(5, 1), y)
    assert loss.item() == pytest.approx(numpy.log(2), rel=1e-6)
    assert ds.labels().tolist() == [int(v) for v in ds.targets[:, 0]]


def test_binary_class_order_follows_the_classes_argument(tmp_path):
    path = _csv(tmp_path, CANCER)
    ds = CSVDataset(path, target="diagnosis", task="binary", classes=["M", "B"])
    assert ds.targets[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]  # B is now the positive class
    with pytest.raises(tc.DataError, match=r"one\.csv: task 'binary' needs exactly 2 classes in "
                                           r"column 'diagnosis' \(2\), found 1: \['B'\]"):
        CSVDataset(_csv(tmp_path, "a,diagnosis\n1,B\n2,B\n", "one.csv"), target="diagnosis",
                   task="binary")
    with pytest.raises(tc.DataError, match="takes one target column"):
        CSVDataset(path, target=["radius", "diagnosis"], task="binary")


def test_regression_targets_are_float_n_targets(tmp_path):
    ds = CSVDataset(_csv(tmp_path, HOUSES), target=["price", "tax"], task="regression")
    x, y = ds[1]
    assert y.dtype == tc.float32 and y.tolist() == [310.0, 3.5] and x.tolist() == [4.0, 5.0]
    assert ds.classes is None and ds.num_classes is None
    with pytest.raises(tc.DataError, match="labels\\(\\) needs task 'classification' or "
                                           "'binary'; this dataset's task is 'regression'"):
        ds.labels()


def test_multilabel_targets_are_float_zero_one_columns(tmp_path):
    text = "f,a,b,c\n0.5,1,0,1\n1.5,0,0,1\n2.5,1.0,1,0\n"
    ds = CSVDataset(_csv(tmp_path, text), target=["a", "b", "c"], task="multilabel")
    assert ds.targets.dtype == numpy.float32 and ds.targets.shape == (3, 3)
    assert ds.targets.tolist() == [[1, 0, 1], [0, 0, 1], [1, 1, 0]]
    assert ds.data.tolist() == [[0.5], [1.5], [2.5]]
    with pytest.raises(tc.DataError, match="labels\\(\\) needs task"):
        ds.labels()


@pytest.mark.parametrize("cell", ["2", "0.5", "-1", "nan", "inf"])
def test_multilabel_refuses_values_other_than_zero_and_one(tmp_path, cell):
    path = _csv(tmp_path, f"f,a,b\n1,0,1\n2,1,{cell}\n")
    with pytest.raises(tc.DataError, match=rf"t\.csv:3: column 'b' \(3\): '{cell}' is not 0 or 1"):
        CSVDataset(path, target=["a", "b"], task="multilabel", allow_nonfinite=True)


def test_option_errors(tmp_path):
    path = _csv(tmp_path, CANCER)
    with pytest.raises(tc.DataError, match="task must be one of classification, binary, "
                                           "regression, multilabel; got 'multiclass'"):
        CSVDataset(path, target="diagnosis", task="multiclass")
    with pytest.raises(tc.DataError, match="standardize_target is for task 'regression'"):
        CSVDataset(path, target="diagnosis", standardize_target=True)
    with pytest.raises(tc.DataError, match=r"t\.csv:1: no target column named 'diagnosys'; "
                                           "did you mean 'diagnosis'"):
        CSVDataset(path, target="diagnosys")
    with pytest.raises(tc.DataError, match="column 'radius' \\(1\\) is both a feature and the "
                                           "target"):
        CSVDataset(path, target="radius", features=["radius"], task="regression")


def test_no_target_gives_feature_only_samples(tmp_path):
    ds = CSVDataset(_csv(tmp_path, HOUSES), target=None, features=["rooms", "age"])
    assert len(ds[0]) == 1 and ds.targets is None
    with pytest.raises(tc.DataError, match="no target column, so no labels"):
        ds.labels()


# ----------------------------------------------------------------------------- target scaling


def test_standardize_target_and_its_inverse(tmp_path):
    ds = CSVDataset(_csv(tmp_path, HOUSES), target=["price", "tax"], task="regression",
                    standardize_target=True)
    raw = numpy.array([[200, 2.0], [310, 3.5], [120, 1.0], [450, 4.0]])
    assert ds.target_stats["mean"] == pytest.approx(raw.mean(0).tolist())
    assert ds.target_stats["std"] == pytest.approx(raw.std(0).tolist())
    assert ds.targets.mean(0) == pytest.approx([0, 0], abs=1e-6)
    assert ds.targets.std(0) == pytest.approx([1, 1], rel=1e-5)
    back = ds.inverse_target(ds.targets)
    assert isinstance(back, numpy.ndarray) and back.dtype == numpy.float32
    numpy.testing.assert_allclose(back, raw, rtol=1e-5)
    as_tensor = ds.inverse_target(tc.tensor(ds.targets))
    assert isinstance(as_tensor, tc.Tensor)
    numpy.testing.assert_allclose(as_tensor.numpy(), raw, rtol=1e-5)
    with pytest.raises(tc.DataError, match="last axis of 2 targets"):
        ds.inverse_target(numpy.zeros((4, 3)))
    plain = CSVDataset(ds.path, target="price", task="regression")
    assert plain.target_stats is None and plain.inverse_target(raw) is raw


def test_target_stats_given_are_used_and_reference_carries_them(tmp_path):
    train = CSVDataset(_csv(tmp_path, HOUSES), target="price", task="regression",
                       standardize_target=True, standardize=True)
    val_path = _csv(tmp_path, "rooms,age,price,tax\n3,20,270,2\n", "val.csv")
    val = CSVDataset(val_path, target="price", task="regression", standardize_target=True,
                     standardize=True, reference=train)
    assert val.target_stats == train.target_stats and val.stats == train.stats
    expected = (270 - train.target_stats["mean"][0]) / train.target_stats["std"][0]
    assert val.targets[0, 0] == pytest.approx(expected, rel=1e-5)
    explicit = CSVDataset(val_path, target="price", task="regression", standardize_target=True,
                          target_stats={"mean": [70.0], "std": [100.0]})
    assert explicit.targets.tolist() == [[2.0]]
    with pytest.raises(tc.DataError, match="target standardisation stats have 2 values, the "
                                           "file has 1 targets"):
        CSVDataset(val_path, target="price", task="regression", standardize_target=True,
                   target_stats={"mean": [0.0, 1.0], "std": [1.0, 1.0]})


# ----------------------------------------------------------------------------- fit on a subset

BIG = "a,b,y,t\n" + "".join(f"{i},{(i * 7) % 5},{'pq'[i % 2]},{i * i}\n" for i in range(20))


def test_fit_uses_only_the_given_rows_and_restandardises_every_row(tmp_path):
    path = _csv(tmp_path, BIG)
    raw = numpy.array([[i, (i * 7) % 5] for i in range(20)], dtype=numpy.float32)
    ds = CSVDataset(path, target="y", features=["a", "b"], standardize=True)
    assert ds.stats["mean"] == pytest.approx(raw.mean(0).tolist())  # all rows before fit()
    train, val = val_split(ds, 0.25, seed=3)
    assert ds.fit(train.indices) is ds
    rows = raw[train.indices]
    assert ds.stats["mean"] == pytest.approx(rows.mean(0, dtype=numpy.float64).tolist())
    assert ds.stats["std"] == pytest.approx(rows.std(0, dtype=numpy.float64).tolist())
    expected = (raw - rows.mean(0)) / rows.std(0)
    numpy.testing.assert_allclose(ds.data, expected, rtol=1e-5, atol=1e-6)
    x, _ = val[0]  # the validation rows use the training statistics too
    numpy.testing.assert_allclose(x.numpy(), expected[val.indices[0]], rtol=1e-5, atol=1e-6)
    ds.fit(Subset(ds, [0, 1]))  # a Subset of the dataset works too
    assert ds.stats["mean"] == pytest.approx([0.5, 1.0])


def test_fit_refits_target_stats_and_leaves_given_stats_alone(tmp_path):
    path = _csv(tmp_path, BIG)
    ds = CSVDataset(path, target="t", features=["a"], task="regression",
                    standardize_target=True)
    ds.fit([0, 1, 2, 3])
    assert ds.target_stats["mean"] == pytest.approx([3.5])  # 0, 1, 4, 9
    numpy.testing.assert_allclose(ds.inverse_target(ds.targets)[:, 0],
                                  [i * i for i in range(20)], rtol=1e-5)
    fixed = CSVDataset(path, target="y", features=["a"], standardize=True,
                       stats={"mean": [1.0], "std": [2.0]})
    before = fixed.data.copy()
    fixed.fit([0, 1])
    assert fixed.stats == {"mean": [1.0], "std": [2.0]}
    assert numpy.array_equal(fixed.data, before)
    off = CSVDataset(path, target="y", features=["a"])
    assert off.fit([0]) is off and off.stats is None


@pytest.mark.parametrize("rows,match", [
    ([], "needs at least one row"), ([0, 20], "row index 20 out of range for 20 rows"),
    ([0.5], "takes row indices"),
])
def test_fit_errors(tmp_path, rows, match):
    ds = CSVDataset(_csv(tmp_path, BIG), target="y", standardize=True)
    with pytest.raises(tc.DataError, match=match):
        ds.fit(rows)


# ----------------------------------------------------------------------------- preprocessing state


def test_preprocessing_state_is_json_and_from_state_gives_identical_inputs(tmp_path):
    path = _csv(tmp_path, CANCER)
    train = CSVDataset(path, target="diagnosis", task="binary", standardize=True)
    train.fit([0, 1, 2])
    state = train.preprocessing_state()
    assert state == json.loads(json.dumps(state))
    assert {k: state[k] for k in ("type", "task", "features", "target", "classes", "delimiter",
                                  "header", "target_stats")} == {
        "type": "CSVDataset", "task": "binary", "features": ["radius", "texture"],
        "target": ["diagnosis"], "classes": ["B", "M"], "delimiter": ",", "header": True,
        "target_stats": None}
    assert state["stats"] == train.stats
    # the same file without the target, columns reordered and an extra one: same inputs
    new = _csv(tmp_path, "id,texture,radius\n" + "".join(
        f"{i},{r.split(',')[1]},{r.split(',')[0]}\n"
        for i, r in enumerate(CANCER.splitlines()[1:])), "new.csv")
    again = CSVDataset.from_state(new, json.loads(json.dumps(state)))
    assert numpy.array_equal(again.data, train.data)
    assert len(again[0]) == 1 and again.targets is None
    assert again.classes == ["B", "M"] and again.stats == train.stats
    again.fit([0])  # stored statistics are never recomputed
    assert again.stats == train.stats
    labelled = CSVDataset.from_state(path, state, require_target=True)
    assert numpy.array_equal(labelled.data, train.data)
    assert numpy.array_equal(labelled.targets, train.targets)


def test_from_state_keeps_class_indices_and_target_scaling(tmp_path):
    train = CSVDataset(_csv(tmp_path, "f,y\n1,cat\n2,dog\n3,emu\n", "train.csv"), target="y")
    test = _csv(tmp_path, "f,y\n5,emu\n6,cat\n", "test.csv")
    ds = CSVDataset.from_state(test, train.preprocessing_state(), require_target=True)
    assert ds.targets.tolist() == [2, 0] and ds.labels().tolist() == [2, 0]
    bad = _csv(tmp_path, "f,y\n5,emu\n6,gnu\n", "bad.csv")
    with pytest.raises(tc.DataError, match=r"bad\.csv:3: column 'y' \(2\): label 'gnu' is not "
                                           r"one of the classes \['cat', 'dog', 'emu'\]"):
        CSVDataset.from_state(bad, train.preprocessing_state(), require_target=True)
    # without require_target the label column is not read at all
    assert len(CSVDataset.from_state(bad, train.preprocessing_state())) == 2
    reg = CSVDataset(_csv(tmp_path, HOUSES, "h.csv"), target="price", task="regression",
                     standardize=True, standardize_target=True)
    state = reg.preprocessing_state()
    new = CSVDataset.from_state(_csv(tmp_path, "age,rooms,tax\n10,3,2\n", "n.csv"), state)
    assert new.target_stats == reg.target_stats
    numpy.testing.assert_allclose(new.data[0], reg.data[0], rtol=1e-6)
    assert new.inverse_target(numpy.zeros((1, 1)))[0, 0] == pytest.approx(270.0)


def test_from_state_errors_name_file_line_and_column(tmp_path):
    train = CSVDataset(_csv(tmp_path, CANCER), target="diagnosis", standardize=True)
    state = train.preprocessing_state()
    new = _csv(tmp_path, "\nradius,textur\n1,2\n", "new.csv")
    with pytest.raises(tc.DataError, match=r"new\.csv:2: no feature column named 'texture'; did "
                                           "you mean 'textur'"):
        CSVDataset.from_state(new, state)
    no_target = _csv(tmp_path, "radius,texture\n1,2\n", "nt.csv")
    with pytest.raises(tc.DataError, match=r"nt\.csv:1: no target column named 'diagnosis'"):
        CSVDataset.from_state(no_target, state, require_target=True)
    with pytest.raises(tc.DataError, match=r"x\.csv:2: column 'texture' \(2\): 'x' is not a "
                                           "number"):
        CSVDataset.from_state(_csv(tmp_path, "radius,texture\n1,x\n", "x.csv"), state)
    for broken, key in [({**state, "task": "ranking"}, "task"),
                        ({**state, "features": []}, "features"),
                        ({**state, "features": [0, 1]}, "features"),
                        ({**state, "stats": [1, 2]}, "stats"), ([1], "type")]:
        with pytest.raises(tc.DataError, match=f"preprocessing state '{key}' must be"):
            CSVDataset.from_state(no_target, broken)
    with pytest.raises(tc.DataError, match="standardisation stats have 1 values, the file has 2"):
        CSVDataset.from_state(no_target, {**state, "stats": {"mean": [0.0], "std": [1.0]}})


def test_from_state_without_a_header_matches_columns_by_position(tmp_path):
    train = CSVDataset(_csv(tmp_path, "1,5,10\n2,6,20\n3,7,30\n"), target=1, header=False,
                       task="regression", standardize=True)
    state = train.preprocessing_state()
    assert state["features"] == [0, 2] and state["target"] == [1]
    assert state["header"] is False and state["n_columns"] == 3
    full = CSVDataset.from_state(_csv(tmp_path, "1,0,10\n", "f.csv"), state,
                                 require_target=True)
    short = CSVDataset.from_state(_csv(tmp_path, "1,10\n", "s.csv"), state)
    assert numpy.array_equal(full.data, short.data)
    numpy.testing.assert_allclose(full.data, train.data[:1], rtol=1e-6)
    with pytest.raises(tc.DataError, match=r"s\.csv: no target column: the file has 2 columns"):
        CSVDataset.from_state(str(tmp_path / "s.csv"), state, require_target=True)
    with pytest.raises(tc.DataError, match=r"w\.csv: 4 columns, but the model was trained on 3"):
        CSVDataset.from_state(_csv(tmp_path, "1,2,3,4\n", "w.csv"), state)


def test_used_columns_need_distinct_names(tmp_path):
    path = _csv(tmp_path, "a,b,a,y\n1,2,3,p\n")
    with pytest.raises(tc.DataError, match=r"t\.csv:1: columns 1 and 3 are both named 'a'"):
        CSVDataset(path, target="y")
    assert CSVDataset(path, target="y", features=["b"]).data.tolist() == [[2.0]]
