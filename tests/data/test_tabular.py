"""CSVDataset, NPZDataset and the synthetic datasets."""

import numpy
import pytest

import trainctl as tc
from tests.data.helpers import assert_same_batch, per_sample
from trainctl.data import (
    CSVDataset,
    DataLoader,
    NPZDataset,
    SyntheticClassification,
    SyntheticRegression,
)


def _csv(tmp_path, text, name="t.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


IRIS = """sepal,"petal, width",species
5.1,0.2,setosa
7.0,1.4,"versicolor"
6.3,2.5,virginica

4.9,0.2,setosa
"""


def test_csv_classification_with_quoted_fields_and_class_mapping(tmp_path):
    ds = CSVDataset(_csv(tmp_path, IRIS), target="species")
    assert len(ds) == 4
    assert ds.classes == ["setosa", "versicolor", "virginica"]
    assert ds.class_to_idx == {"setosa": 0, "versicolor": 1, "virginica": 2}
    assert ds.feature_names == ["sepal", "petal, width"]
    assert ds.targets.tolist() == [0, 1, 2, 0] and ds.targets.dtype == numpy.int64
    x, y = ds[1]
    assert x.dtype == tc.float32 and x.tolist() == pytest.approx([7.0, 1.4]) and y.item() == 1


def test_csv_numeric_labels_sort_as_numbers(tmp_path):
    ds = CSVDataset(_csv(tmp_path, "a,y\n1,10\n2,2\n3,9\n"), target="y")
    assert ds.classes == ["2", "9", "10"] and ds.targets.tolist() == [2, 0, 1]


def test_csv_no_header_indices_and_delimiter(tmp_path):
    ds = CSVDataset(_csv(tmp_path, "1;2;a\n3;4;b\n"), target=2, header=False, delimiter=";")
    assert ds.data.tolist() == [[1.0, 2.0], [3.0, 4.0]] and ds.classes == ["a", "b"]
    assert ds.feature_names == [0, 1]
    with pytest.raises(tc.DataError, match="header=False"):
        CSVDataset(_csv(tmp_path, "1,2\n"), target="y", header=False)


def test_csv_regression_targets_are_n_by_targets(tmp_path):
    path = _csv(tmp_path, "x1,x2,y1,y2\n1,2,3,4\n5,6,7,8\n9,1,2,3\n")
    one = CSVDataset(path, target="y1", features=["x1", "x2"], task="regression")
    assert one.targets.shape == (3, 1) and one.targets.dtype == numpy.float32
    two = CSVDataset(path, target=["y1", "y2"], task="regression")
    assert two.targets.shape == (3, 2) and two.data.shape == (3, 2)
    x, y = next(iter(DataLoader(two, batch_size=3)))
    assert x.shape == (3, 2) and y.shape == (3, 2) and y.dtype == tc.float32


@pytest.mark.parametrize("text,match", [
    ("a,b,y\n1,2,x\n3,4\n", r"t\.csv:3: malformed row: 2 fields, expected 3"),
    ("a,b,y\n1,2,x\n3,,x\n", r"t\.csv:3: missing value in column 'b' \(2\)"),
    ("a,b,y\n1,2,x\n3,4,x\n5,abc,x\n", r"t\.csv:4: column 'b' \(2\): 'abc' is not a number"),
    ("a,b,y\n1,2,x\n\n\n1,2,\n", r"t\.csv:5: missing value in column 'y' \(3\)"),
    ('a,b,y\n1,2,"x\nz"\n1,2,x,4\n', r"t\.csv:4: malformed row"),  # a quoted field over 2 lines
])
def test_csv_errors_name_file_line_and_column(tmp_path, text, match):
    with pytest.raises(tc.DataError, match=match):
        CSVDataset(_csv(tmp_path, text), target="y")


def test_csv_unknown_names_and_missing_file(tmp_path):
    path = _csv(tmp_path, "alpha,y\n1,a\n")
    with pytest.raises(tc.DataError, match="did you mean 'alpha'"):
        CSVDataset(path, target="y", features=["alpah"])
    with pytest.raises(tc.DataError, match="not found"):
        CSVDataset(str(tmp_path / "nope.csv"), target="y")


def test_csv_standardisation_from_the_training_split(tmp_path):
    train = CSVDataset(_csv(tmp_path, "a,b,y\n1,10,p\n3,10,q\n5,10,p\n", "train.csv"),
                       target="y", standardize=True)
    assert train.stats["mean"] == pytest.approx([3.0, 10.0])
    assert train.stats["std"] == pytest.approx([numpy.sqrt(8 / 3), 1.0])  # constant column: 1
    assert train.data.mean(axis=0) == pytest.approx([0.0, 0.0], abs=1e-6)
    val_path = _csv(tmp_path, "a,b,y\n3,12,q\n", "val.csv")
    val = CSVDataset(val_path, target="y", standardize=True, reference=train)
    assert val.data.tolist()[0] == pytest.approx([0.0, 2.0])
    assert val.classes == ["p", "q"] and val.targets.tolist() == [1]
    by_path = CSVDataset(val_path, target="y", standardize=True, reference=train.path)
    assert by_path.stats == val.stats
    explicit = CSVDataset(val_path, target="y", standardize=True, stats=train.stats,
                          classes=["q", "p"])
    assert explicit.targets.tolist() == [0]
    with pytest.raises(tc.DataError, match=r"val\.csv:2: .*'q' is not one of the classes"):
        CSVDataset(val_path, target="y", classes=["p"])


def test_csv_fast_path_equals_per_sample(tmp_path):
    ds = CSVDataset(_csv(tmp_path, IRIS), target="species", standardize=True)
    for a, b in zip(DataLoader(ds, batch_size=3, shuffle=True, seed=1),
                    DataLoader(ds, batch_size=3, shuffle=True, seed=1, collate_fn=per_sample)):
        assert_same_batch(a, b)


def test_npz_dataset(tmp_path):
    path = tmp_path / "d.npz"
    numpy.savez(path, images=numpy.zeros((5, 4, 4), numpy.uint8), labels=numpy.arange(5),
                feats=numpy.ones((5, 3)))
    ds = NPZDataset(path, x_key="images", y_key="labels")
    assert len(ds) == 5 and ds.data.dtype == numpy.uint8 and ds.targets.dtype == numpy.int64
    reg = NPZDataset(path, x_key="feats", y_key=None)
    assert reg.data.dtype == numpy.float32 and len(reg[0]) == 1
    with pytest.raises(tc.DataError, match="no array named 'x'.*images, labels, feats"):
        NPZDataset(path)


def test_npz_object_array_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    numpy.savez(path, x=numpy.array([{"a": 1}, None], dtype=object), y=numpy.arange(2))
    with pytest.raises(tc.DataError, match=r"evil\.npz: array 'x' is an object array"):
        NPZDataset(path)
    with pytest.raises(tc.DataError, match="same first dimension"):
        numpy.savez(tmp_path / "bad.npz", x=numpy.zeros((3, 2)), y=numpy.zeros(2))
        NPZDataset(tmp_path / "bad.npz")


def test_synthetic_regression():
    ds = SyntheticRegression(n_samples=200, weights=[2.0, -3.0], bias=0.5, noise=0.0, seed=1)
    assert ds.data.shape == (200, 2) and ds.targets.shape == (200, 1)
    assert ds.data.dtype == numpy.float32 and ds.targets.dtype == numpy.float32
    numpy.testing.assert_allclose(ds.targets[:, 0], ds.data @ [2.0, -3.0] + 0.5, rtol=1e-5,
                                  atol=1e-5)
    again = SyntheticRegression(n_samples=200, weights=[2.0, -3.0], bias=0.5, noise=0.0, seed=1)
    assert numpy.array_equal(ds.data, again.data)
    noisy = SyntheticRegression(n_samples=2000, n_features=3, noise=0.5, seed=2)
    resid = noisy.targets - noisy.data @ noisy.weights
    assert abs(resid.std() - 0.5) < 0.05
    with pytest.raises(tc.DataError, match="n_features"):
        SyntheticRegression(weights=[1.0, 2.0], n_features=3)


@pytest.mark.parametrize("kind,classes", [("blobs", 4), ("moons", 2), ("spirals", 3)])
def test_synthetic_classification(kind, classes):
    ds = SyntheticClassification(kind, n_samples=300, n_classes=classes, seed=0)
    assert ds.data.shape == (300, 2) and ds.data.dtype == numpy.float32
    assert ds.targets.dtype == numpy.int64
    assert numpy.bincount(ds.targets).tolist() == [300 // classes] * classes
    assert ds.targets[:10].tolist() != sorted(ds.targets[:10].tolist()) or kind == "moons"
    other = SyntheticClassification(kind, n_samples=300, n_classes=classes, seed=1)
    assert not numpy.array_equal(ds.data, other.data)
    # class means differ: the classes are actually separated somewhere
    means = numpy.stack([ds.data[ds.targets == c].mean(0) for c in range(classes)])
    if kind != "spirals":
        assert numpy.linalg.norm(means[0] - means[1]) > 0.5


def test_synthetic_classification_errors():
    with pytest.raises(tc.DataError, match="kind must be one of"):
        SyntheticClassification("circles")
    with pytest.raises(tc.DataError, match="moons has 2 classes"):
        SyntheticClassification("moons", n_classes=3)
    blobs = SyntheticClassification("blobs", n_samples=50, n_features=5, n_classes=3)
    assert blobs.data.shape == (50, 5)
