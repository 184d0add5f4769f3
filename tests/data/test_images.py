"""ImageFolder, list_images and Resize on PNG/JPEG files written with Pillow; bad files."""

import os
import sys

import numpy
import pytest

import trainctl as tc
from trainctl.data import DataLoader, ImageFolder, list_images
from trainctl.data import transforms as T

Image = pytest.importorskip("PIL.Image")


def _rgb(h, w, seed):
    return numpy.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=numpy.uint8)


def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)
    return path


@pytest.fixture
def pets(tmp_path):
    """root/cat: two PNGs (one nested), root/dog: a JPEG and a grey PNG, plus non-images."""
    root = tmp_path / "pets"
    arrays = {"cat/b.png": _rgb(6, 8, 1), "cat/sub/a.PNG": _rgb(5, 7, 2)}
    for name, a in arrays.items():
        _save(root / name, a)
    _save(root / "dog/c.jpg", _rgb(9, 4, 3))
    _save(root / "dog/d.png", numpy.full((3, 3), 200, numpy.uint8))  # grey
    (root / "dog/notes.txt").write_text("not an image")
    (root / ".hidden").mkdir()
    _save(root / ".hidden/x.png", _rgb(2, 2, 4))
    return root, arrays


def test_image_folder_classes_samples_and_pixels(pets):
    root, arrays = pets
    ds = ImageFolder(root)
    assert ds.classes == ["cat", "dog"] and ds.class_to_idx == {"cat": 0, "dog": 1}
    assert [(os.path.relpath(p, root), t) for p, t in ds.samples] == [
        ("cat/b.png", 0), ("cat/sub/a.PNG", 0), ("dog/c.jpg", 1), ("dog/d.png", 1)]
    assert ds.targets == [0, 0, 1, 1] and ds.imgs is ds.samples and len(ds) == 4
    x, y = ds[0]
    assert isinstance(x, tc.Tensor) and x.dtype == tc.uint8 and y == 0
    assert numpy.array_equal(x.numpy(), arrays["cat/b.png"])  # H x W x C, PNG is lossless
    grey, _ = ds[3]
    assert grey.shape == (3, 3, 3) and grey.numpy().min() == grey.numpy().max() == 200
    assert ImageFolder(root, mode="L")[3][0].shape == (3, 3, 1)
    jpeg, _ = ds[2]
    assert jpeg.shape == (9, 4, 3)


def test_image_folder_batches_with_resize_and_to_tensor(pets):
    root, _ = pets
    ds = ImageFolder(root, transform=[T.Resize((4, 6)), T.ToTensor(),
                                      T.Normalize([0.5] * 3, [0.5] * 3)],
                     target_transform=lambda t: t * 10)
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 4, 6) and x.dtype == tc.float32 and y.tolist() == [0, 0, 10, 10]
    assert -1.0 <= x.min().item() and x.max().item() <= 1.0
    only_png = ImageFolder(root, extensions=["png"])
    assert [t for _, t in only_png.samples] == [0, 0, 1]


def test_list_images_is_sorted_and_flat(tmp_path):
    for name in ("b.png", "a.jpeg", "C.JPG"):
        _save(tmp_path / name, _rgb(2, 2, 0))
    _save(tmp_path / "sub" / "z.png", _rgb(2, 2, 0))
    (tmp_path / "readme.md").write_text("x")
    assert [p.rsplit("/", 1)[1] for p in list_images(tmp_path)] == ["C.JPG", "a.jpeg", "b.png"]
    with pytest.raises(tc.DataError, match=r"no images \(.gif\) in the folder"):
        list_images(tmp_path, extensions=[".gif"])
    with pytest.raises(tc.DataError, match="image folder file not found"):
        list_images(tmp_path / "missing")


def test_image_folder_layout_errors(tmp_path):
    _save(tmp_path / "flat" / "a.png", _rgb(2, 2, 0))
    with pytest.raises(tc.DataError, match="no class subfolders .*use list_images"):
        ImageFolder(tmp_path / "flat")
    (tmp_path / "flat" / "empty").mkdir()
    _save(tmp_path / "flat" / "full" / "a.png", _rgb(2, 2, 0))
    with pytest.raises(tc.DataError, match=r"no images .* in the class folder\(s\) \['empty'\]"):
        ImageFolder(tmp_path / "flat")
    with pytest.raises(tc.DataError, match="not found"):
        ImageFolder(tmp_path / "nowhere")
    with pytest.raises(tc.DataError, match="mode must be one of RGB, L"):
        ImageFolder(tmp_path / "flat", mode="CMYK")


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "wrong_format"])
def test_corrupt_image_is_a_data_error_naming_the_file(tmp_path, damage):
    good = _save(tmp_path / "ok" / "cat" / "good.png", _rgb(64, 64, 0))
    bad = tmp_path / "ok" / "cat" / "bad.png"
    data = good.read_bytes()
    if damage == "garbage":
        bad.write_bytes(b"\x89PNG not really" + bytes(50))
    elif damage == "truncated":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        bad.write_bytes(b"")
    else:  # a GIF named .png: only the formats the extensions name are decoded
        Image.fromarray(_rgb(4, 4, 1)).save(bad, format="GIF")
    ds = ImageFolder(tmp_path / "ok")
    assert ds.samples[0][0].endswith("bad.png")
    with pytest.raises(tc.DataError, match=r"bad\.png: not a readable JPEG/PNG file \(.+\)$"):
        ds[0]
    assert ds[1][0].shape == (64, 64, 3)


def test_decompression_bomb_is_refused(tmp_path, monkeypatch):
    _save(tmp_path / "c" / "x" / "big.png", _rgb(20, 20, 0))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(tc.DataError, match=r"big\.png: image too large"):
        ImageFolder(tmp_path / "c")[0]


def test_missing_pillow_says_how_to_install(tmp_path, monkeypatch):
    _save(tmp_path / "c" / "x" / "a.png", _rgb(2, 2, 0))
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(tc.DataError, match=r"needs Pillow: pip install 'trainctl\[images\]'"):
        ImageFolder(tmp_path / "c")
    with pytest.raises(tc.DataError, match=r"trainctl\[images\]"):
        T.Resize(2)(numpy.zeros((4, 4), numpy.uint8))


# ----------------------------------------------------------------------------- Resize


@pytest.mark.parametrize("interpolation", ["nearest", "bilinear", "bicubic", "lanczos"])
def test_resize_equals_pillows_resize_of_the_whole_image(interpolation):
    a = _rgb(17, 23, 5)
    out = T.Resize((9, 11), interpolation)(a)
    resample = getattr(Image.Resampling, interpolation.upper())
    expected = numpy.asarray(Image.fromarray(a).resize((11, 9), resample))
    assert out.dtype == numpy.uint8 and numpy.array_equal(out, expected)


def test_resize_sizes_layouts_and_batches():
    a = _rgb(20, 40, 0)
    assert T.Resize(10)(a).shape == (10, 20, 3)  # shorter edge to 10, aspect kept
    assert T.Resize(10)(a.transpose(1, 0, 2)).shape == (20, 10, 3)
    assert T.Resize(10, max_size=15)(a).shape == (7, 15, 3)
    assert T.Resize([5])(a[:, :, 0]).shape == (5, 10)
    chw = T.ToTensor()(a)
    resized = T.Resize((10, 20))(chw)  # a tensor is channel-first
    assert isinstance(resized, tc.Tensor) and resized.shape == (3, 10, 20)
    assert resized.dtype == tc.float32
    per_sample = numpy.stack([T.Resize((10, 20))(a), T.Resize((10, 20))(a[::-1])])
    batch = T.Resize((10, 20)).batch(numpy.stack([a, a[::-1]]))
    assert numpy.array_equal(batch, per_sample)
    assert T.Resize((10, 20)).batch(numpy.stack([a[:, :, 0]] * 2)).shape == (2, 10, 20)
    assert T.Resize((10, 20)).batch(tc.zeros(2, 3, 20, 40)).shape == (2, 3, 10, 20)
    assert repr(T.Resize(8)) == "Resize(size=8, interpolation='bilinear')"


@pytest.mark.parametrize("kwargs,match", [
    ({"size": 0}, "positive int or a pair"), ({"size": (1, 2, 3)}, "positive int or a pair"),
    ({"size": 4, "interpolation": "cubic"}, "interpolation must be one of"),
    ({"size": (4, 4), "max_size": 8}, "max_size is only allowed"),
])
def test_resize_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        T.Resize(**kwargs)


def test_load_image_resizes_to_a_sample_shape(tmp_path):
    from trainctl.data import load_image

    path = _save(tmp_path / "digit.png", _rgb(40, 30, 6))
    assert load_image(path).shape == (40, 30, 3)
    grey = load_image(path, size=(1, 28, 28))
    assert grey.shape == (28, 28, 1) and grey.dtype == numpy.uint8
    expected = numpy.asarray(Image.open(path).convert("L").resize((28, 28),
                                                                  Image.Resampling.BILINEAR))
    assert numpy.array_equal(grey[:, :, 0], expected)
    assert load_image(path, size=(3, 8, 6)).shape == (8, 6, 3)
    assert load_image(path, "L", size=(10, 5)).shape == (10, 5, 1)
    with pytest.raises(tc.DataError, match=r"1 \(L\) or 3 \(RGB\) channels.*asks for 4"):
        load_image(path, size=(4, 8, 8))
    with pytest.raises(tc.DataError, match="image file not found"):
        load_image(tmp_path / "nope.png")
