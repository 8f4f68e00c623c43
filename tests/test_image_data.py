"""Image sets for the Ringing ReLUs networks: digits, the CIFAR-10 binary reader, flips and
seeded minibatches."""

import numpy as np
import pytest

from netspectra import NetspectraError
from netspectra.data import ImageSet, load_cifar10, load_digits32, minibatch
from netspectra.data.images import CIFAR10_MEAN, CIFAR10_STD, random_flip


@pytest.fixture(scope="module")
def digits():
    return load_digits32()


def test_digits32_shape_standardised_and_labelled(digits):
    assert digits.images.shape == (1797, 3, 32, 32) and digits.images.dtype == np.float32
    np.testing.assert_allclose(digits.images.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(digits.images.std(axis=(0, 2, 3)), 1, atol=1e-5)
    assert digits.labels.dtype == np.int64 and set(digits.labels) == set(range(10))
    assert np.array_equal(digits.images[:, 0], digits.images[:, 2])


def test_digits32_other_size():
    assert load_digits32(size=16).images.shape == (1797, 3, 16, 16)


def _write_cifar_batch(folder, records):
    folder.mkdir(parents=True, exist_ok=True)
    raw = b"".join(bytes([label]) + pixels.tobytes() for label, pixels in records)
    (folder / "test_batch.bin").write_bytes(raw)


@pytest.fixture
def fake_cifar(tmp_path):
    # record 0: byte k of the pixels is k % 256, so plane c, row i, column j holds
    # (1024 c + 32 i + j) % 256; record 1: all 255
    ramp = (np.arange(3072) % 256).astype(np.uint8)
    _write_cifar_batch(tmp_path / "cifar-10-batches-bin",
                       [(3, ramp), (9, np.full(3072, 255, np.uint8))])
    return tmp_path


@pytest.mark.parametrize("subfolder", ["", "cifar-10-batches-bin"])
def test_cifar10_binary_record_layout_and_normalisation(fake_cifar, subfolder):
    data = load_cifar10(fake_cifar / subfolder, train=False)
    assert data.images.shape == (2, 3, 32, 32) and data.images.dtype == np.float32
    assert data.labels.tolist() == [3, 9] and data.name == "cifar10-test"
    mean, std = np.array(CIFAR10_MEAN), np.array(CIFAR10_STD)
    for c, i, j in [(0, 0, 1), (1, 0, 0), (2, 5, 7), (1, 31, 31)]:
        raw = (1024 * c + 32 * i + j) % 256
        assert data.images[0, c, i, j] == pytest.approx((raw / 255 - mean[c]) / std[c], rel=1e-5)
    np.testing.assert_allclose(data.images[1], np.broadcast_to(
        ((1 - mean) / std)[:, None, None], (3, 32, 32)), rtol=1e-5)


def test_cifar10_missing_files_name_what_is_expected(tmp_path, fake_cifar):
    with pytest.raises(NetspectraError, match=r"data_batch_1\.bin.*data_batch_5\.bin.*binary"):
        load_cifar10(fake_cifar)  # only the test batch is there
    with pytest.raises(NetspectraError, match=r"nowhere.*test_batch\.bin"):
        load_cifar10(tmp_path / "nowhere", train=False)


def test_cifar10_refuses_truncated_and_mislabelled_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    _write_cifar_batch(folder, [(1, np.zeros(3000, np.uint8))])
    with pytest.raises(NetspectraError, match="3073-byte record"):
        load_cifar10(tmp_path, train=False)
    _write_cifar_batch(folder, [(10, np.zeros(3072, np.uint8))])
    with pytest.raises(NetspectraError, match="labels must be 0-9; found 10"):
        load_cifar10(tmp_path, train=False)


def test_random_flip_flips_the_drawn_images():
    images = np.random.default_rng(0).normal(size=(8, 3, 4, 5)).astype(np.float32)
    before = images.copy()
    out = random_flip(images, np.random.default_rng(7))
    flipped = np.random.default_rng(7).random(8) < 0.5
    assert 0 < flipped.sum() < 8
    for img, new, f in zip(images, out, flipped, strict=True):
        np.testing.assert_array_equal(new, img[..., ::-1] if f else img)
    np.testing.assert_array_equal(images, before)
    with pytest.raises(NetspectraError, match=r"\(N, C, H, W\)"):
        random_flip(images[0], 0)


def _indexed_set(n=50, width=4):
    # pixel (i, c, h, w) is 100 i + w: a batch reveals which images it holds and which are flipped
    images = 100.0 * np.arange(n)[:, None, None, None] + np.arange(width)
    images = np.broadcast_to(images, (n, 3, 4, width)).astype(np.float32)
    return ImageSet(images, np.arange(n, dtype=np.int64) % 10, "indexed")


def test_minibatch_is_seeded_without_repeats():
    data = _indexed_set()
    x, y = minibatch(data, 20, seed=1)
    x_again, y_again = minibatch(data, 20, seed=1)
    np.testing.assert_array_equal(x, x_again)
    np.testing.assert_array_equal(y, y_again)
    idx = (x[:, 0, 0, 0] // 100).astype(int)
    assert len(set(idx)) == 20
    np.testing.assert_array_equal(y, idx % 10)
    assert not np.array_equal(minibatch(data, 20, seed=2)[1], y)


def test_minibatch_flips_only_when_augmenting():
    data = _indexed_set()
    x, _ = minibatch(data, 20, seed=1)
    idx = (x[:, 0, 0, 0] // 100).astype(int)
    flipped = x[:, 0, 0, 0] % 100 == 3
    assert 0 < flipped.sum() < 20
    for img, i, f in zip(x, idx, flipped, strict=True):
        np.testing.assert_array_equal(img, data.images[i, ..., ::-1] if f else data.images[i])
    plain, _ = minibatch(data, 20, seed=1, augment=False)
    np.testing.assert_array_equal(plain, data.images[idx])
    with pytest.raises(NetspectraError, match="batch_size must be <= 50"):
        minibatch(data, 51, seed=0)


@pytest.mark.parametrize(("make", "message"), [
    (lambda: load_digits32(size=10**6), "size too large"),
    (lambda: ImageSet(np.zeros((3, 1, 4, 4), np.float32), np.arange(2), "x"),
     r"labels must be an integer array of shape \(3,\)"),
    (lambda: ImageSet(np.zeros((3, 4, 4), np.float32), np.arange(3), "x"),
     r"images must be a float array \(N, C, H, W\)"),
    (lambda: random_flip(np.zeros((2, 1, 4, 4)), rng=-1), "rng must be in"),
    (lambda: minibatch(np.zeros((2, 1, 4, 4)), 1, seed=0), "data must be an ImageSet"),
    (lambda: minibatch(load_digits32(size=8), 2, seed=1.5), "seed must be an integer"),
    (lambda: minibatch(load_digits32(size=8), 2, seed=0, augment="no"), "augment must be True"),
    (lambda: load_cifar10(None), "root must be a folder path"),
])
def test_bad_arguments_are_refused_by_name(make, message):
    with pytest.raises(NetspectraError, match=message):
        make()
