"""CIFAR-100's binary reader (on small files written in its record format) and the seeded
held-out split of RR App. C."""

import numpy as np
import pytest

from netspectra import NetspectraError
from netspectra.data import ImageSet, holdout_split, load_cifar100
from netspectra.data.images import CIFAR100_MEAN, CIFAR100_STD


def _write(folder, name, records):
    folder.mkdir(parents=True, exist_ok=True)
    raw = b"".join(bytes([coarse, fine]) + pixels.tobytes() for coarse, fine, pixels in records)
    (folder / name).write_bytes(raw)


@pytest.fixture
def fake_cifar100(tmp_path):
    # record 0: byte k of the pixels is k % 256; record 1: all 255
    ramp = (np.arange(3072) % 256).astype(np.uint8)
    records = [(4, 87, ramp), (19, 99, np.full(3072, 255, np.uint8))]
    _write(tmp_path / "cifar-100-binary", "test.bin", records)
    _write(tmp_path / "cifar-100-binary", "train.bin", records[::-1])
    return tmp_path


@pytest.mark.parametrize("subfolder", ["", "cifar-100-binary"])
def test_record_layout_fine_labels_and_normalisation(fake_cifar100, subfolder):
    data = load_cifar100(fake_cifar100 / subfolder, train=False)
    assert data.images.shape == (2, 3, 32, 32) and data.images.dtype == np.float32
    assert data.labels.tolist() == [87, 99] and data.labels.dtype == np.int64
    assert data.name == "cifar100-test"
    mean, std = np.array(CIFAR100_MEAN), np.array(CIFAR100_STD)
    for c, i, j in [(0, 0, 1), (1, 0, 0), (2, 5, 7), (1, 31, 31)]:
        raw = (1024 * c + 32 * i + j) % 256
        assert data.images[0, c, i, j] == pytest.approx((raw / 255 - mean[c]) / std[c], rel=1e-5)
    np.testing.assert_allclose(data.images[1], np.broadcast_to(
        ((1 - mean) / std)[:, None, None], (3, 32, 32)), rtol=1e-5)


def test_training_file_and_coarse_labels(fake_cifar100):
    train = load_cifar100(fake_cifar100)
    assert train.labels.tolist() == [99, 87] and train.name == "cifar100-train"
    coarse = load_cifar100(fake_cifar100, labels="coarse")
    assert coarse.labels.tolist() == [19, 4] and coarse.name == "cifar100-train-coarse"
    np.testing.assert_array_equal(coarse.images, train.images)


def test_missing_files_name_what_is_expected(tmp_path):
    with pytest.raises(NetspectraError, match=r"CIFAR-100 files not found.*train\.bin.*"
                                              r"cifar-100-binary\.tar\.gz"):
        load_cifar100(tmp_path)
    with pytest.raises(NetspectraError, match=r"test\.bin"):
        load_cifar100(tmp_path / "nowhere", train=False)


def test_refuses_truncated_files_bad_labels_and_unknown_label_kind(tmp_path):
    folder = tmp_path / "cifar-100-binary"
    _write(folder, "test.bin", [(1, 2, np.zeros(3000, np.uint8))])
    with pytest.raises(NetspectraError, match=r"not a CIFAR-100 binary batch.*3074-byte record"):
        load_cifar100(tmp_path, train=False)
    _write(folder, "test.bin", [(1, 100, np.zeros(3072, np.uint8))])
    with pytest.raises(NetspectraError, match="fine labels must be 0-99; found 100"):
        load_cifar100(tmp_path, train=False)
    _write(folder, "test.bin", [(20, 5, np.zeros(3072, np.uint8))])
    assert load_cifar100(tmp_path, train=False).labels.tolist() == [5]
    with pytest.raises(NetspectraError, match="coarse labels must be 0-19; found 20"):
        load_cifar100(tmp_path, train=False, labels="coarse")
    with pytest.raises(NetspectraError, match="unknown labels 'super'"):
        load_cifar100(tmp_path, train=False, labels="super")


def _numbered(n):
    images = np.arange(n, dtype=np.float32)[:, None, None, None] * np.ones((1, 3, 2, 2),
                                                                            np.float32)
    return ImageSet(images, np.arange(n, dtype=np.int64) % 7, "set")


def test_holdout_split_partitions_in_order_and_is_seeded():
    data = _numbered(1000)
    train, held = holdout_split(data, 0.01, seed=3)
    assert held.labels.shape == (10,) and train.labels.shape == (990,)
    ids = np.concatenate([train.images[:, 0, 0, 0], held.images[:, 0, 0, 0]]).astype(int)
    assert sorted(ids) == list(range(1000))  # a partition: nothing lost, nothing twice
    for part in (train, held):
        assert np.all(np.diff(part.images[:, 0, 0, 0]) > 0)  # original order kept
        np.testing.assert_array_equal(part.labels, part.images[:, 0, 0, 0].astype(int) % 7)
    assert (train.name, held.name) == ("set-fit", "set-heldout")
    again = holdout_split(data, 0.01, seed=3)[1]
    np.testing.assert_array_equal(again.images, held.images)
    other = holdout_split(data, 0.01, seed=4)[1]
    assert not np.array_equal(other.images, held.images)


def test_holdout_split_keeps_both_parts_non_empty_and_validates():
    assert holdout_split(_numbered(10), 0.01)[1].labels.shape == (1,)
    assert holdout_split(_numbered(10), 0.99)[0].labels.shape == (1,)
    with pytest.raises(NetspectraError, match=r"fraction must be in \(0, 1\); found 1"):
        holdout_split(_numbered(10), 1)
    with pytest.raises(NetspectraError, match="at least 2 images to split; found 1"):
        holdout_split(_numbered(1), 0.5)
