"""Transforms: values, layouts, batch path == per-sample path, seeded randomness."""

import numpy
import pytest

import trainctl as tc
from trainctl.data import transforms as T
from trainctl.data.transforms import apply_batch


def _images(n=6, h=5, w=7, c=None, seed=0):
    shape = (n, h, w) if c is None else (n, h, w, c)
    return numpy.random.default_rng(seed).integers(0, 256, shape, dtype=numpy.uint8)


def _per_sample(t, batch):
    return numpy.stack([t(b).numpy() for b in batch])


def test_to_tensor_layouts_and_scale():
    img = _images(1, c=3)[0]
    out = T.ToTensor()(img)
    assert out.shape == (3, 5, 7) and out.dtype == tc.float32
    numpy.testing.assert_allclose(out.numpy(), img.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert out.numpy().max() <= 1.0 and out.numpy().min() >= 0.0
    grey = T.ToTensor()(_images(1)[0])
    assert grey.shape == (1, 5, 7)
    floats = T.ToTensor()(numpy.full((2, 2), 3.0))  # non-uint8 is not scaled (torchvision)
    assert floats.dtype == tc.float32 and floats.numpy().max() == 3.0
    with pytest.raises(ValueError, match="HW or HWC"):
        T.ToTensor()(numpy.zeros(3, numpy.uint8))


@pytest.mark.parametrize("c", [None, 3])
def test_to_tensor_batch_equals_per_sample(c):
    batch = _images(c=c)
    fast = T.ToTensor().batch(batch)
    assert fast.shape == (6, c or 1, 5, 7)
    assert numpy.array_equal(fast.numpy(), _per_sample(T.ToTensor(), batch))


def test_normalize_and_flatten():
    x = tc.ones(2, 3, 3)
    out = T.Normalize([0.5, 0.0], [0.25, 2.0])(x)
    assert out[0].numpy().max() == 2.0 and out[1].numpy().max() == 0.5
    batch = tc.ones(4, 2, 3, 3)
    assert T.Normalize([0.5, 0.0], [0.25, 2.0]).batch(batch).shape == (4, 2, 3, 3)
    with pytest.raises(ValueError, match="std"):
        T.Normalize([0.0], [0.0])
    assert T.Flatten()(tc.zeros(1, 28, 28)).shape == (784,)
    assert T.Flatten().batch(tc.zeros(5, 1, 28, 28)).shape == (5, 784)


def test_compose_batch_equals_per_sample_for_deterministic_transforms():
    t = T.Compose([T.ToTensor(), T.Normalize([0.1307], [0.3081]), T.Flatten()])
    batch = _images(8, 28, 28)
    fast = apply_batch(t, batch)
    assert fast.shape == (8, 784) and fast.dtype == tc.float32
    assert numpy.array_equal(fast.numpy(), _per_sample(t, batch))


def test_random_horizontal_flip():
    x = tc.tensor([[[1.0, 2.0, 3.0]]])
    assert T.RandomHorizontalFlip(1.0)(x).tolist() == [[[3.0, 2.0, 1.0]]]
    assert T.RandomHorizontalFlip(0.0)(x).tolist() == [[[1.0, 2.0, 3.0]]]
    batch = T.ToTensor().batch(_images(64))
    out = T.RandomHorizontalFlip(0.5, generator=tc.Generator().manual_seed(1)).batch(batch)
    flipped = [bool((o == b[..., ::-1]).all()) for o, b in zip(out.numpy(), batch.numpy())]
    kept = [bool((o == b).all()) for o, b in zip(out.numpy(), batch.numpy())]
    assert all(f or k for f, k in zip(flipped, kept)) and 15 < sum(flipped) < 49
    # the batch path draws in the same order as one call per sample
    slow = _per_sample(T.RandomHorizontalFlip(0.5, generator=tc.Generator().manual_seed(1)),
                       batch)
    assert numpy.array_equal(out.numpy(), slow)


def test_random_crop_with_padding():
    img = tc.arange(25.).reshape(1, 5, 5)
    out = T.RandomCrop(3)(img)
    assert out.shape == (1, 3, 3)
    window = out.numpy()[0]
    top, left = numpy.argwhere(img.numpy()[0] == window[0, 0])[0]
    assert numpy.array_equal(window, img.numpy()[0, top:top + 3, left:left + 3])
    padded = T.RandomCrop(5, padding=2)
    outs = [padded(img).numpy() for _ in range(30)]
    assert all(o.shape == (1, 5, 5) for o in outs) and any((o == 0).sum() > 1 for o in outs)
    assert T.RandomCrop((2, 6), pad_if_needed=True)(img).shape == (1, 2, 6)
    with pytest.raises(ValueError, match="larger"):
        T.RandomCrop(6)(img)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_batch_equals_per_sample(mode):
    batch = T.ToTensor().batch(_images(10, 8, 8, c=3))
    crop = dict(size=6, padding=(1, 2), padding_mode=mode)
    fast = T.RandomCrop(**crop, generator=tc.Generator().manual_seed(2)).batch(batch)
    slow = _per_sample(T.RandomCrop(**crop, generator=tc.Generator().manual_seed(2)), batch)
    assert fast.shape == (10, 3, 6, 6)
    assert numpy.array_equal(fast.numpy(), slow)


def test_random_transforms_follow_manual_seed():
    batch = T.ToTensor().batch(_images(16, 8, 8))
    t = T.Compose([T.RandomCrop(6, padding=1), T.RandomHorizontalFlip()])
    tc.manual_seed(5)
    a = t.batch(batch).numpy()
    tc.manual_seed(5)
    b = t.batch(batch).numpy()
    c = t.batch(batch).numpy()
    assert numpy.array_equal(a, b) and not numpy.array_equal(a, c)


def test_lambda_and_list_as_compose():
    assert T.Lambda(lambda x: x + 1)(1) == 2
    double = T.Lambda(lambda t: t * 2)
    out = double.batch(tc.ones(3, 2))
    assert out.tolist() == [[2.0, 2.0]] * 3
    assert T.Lambda(lambda t: t * 2, batched=True).batch(tc.ones(3, 2)).tolist() == out.tolist()
    composed = T.as_transform([T.ToTensor(), T.Flatten()])
    assert isinstance(composed, T.Compose) and composed(_images(1)[0]).shape == (35,)
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)


def test_plain_function_transform_falls_back_per_sample():
    def scale(x):
        return tc.tensor(x, dtype=tc.float32) * 0.5

    batch = _images(4)
    assert numpy.array_equal(apply_batch(scale, batch).numpy(), _per_sample(scale, batch))
