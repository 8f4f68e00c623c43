"""The training loop (RR App. A.3): against a hand-written full-batch SGD oracle, its
augmentation and order, seeding, logging, the held-out evaluation, saving and validation."""

import copy
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from netspectra import NetspectraError
from netspectra.data import ImageSet, load_digits32
from netspectra.models import CifarResNet
from netspectra.training import Recipe, TrainingResult, train


def _images(n=24, classes=3, side=4, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, 2, side, side)).astype(np.float32)
    return ImageSet(images, np.arange(n, dtype=np.int64) % classes, "random")


def _linear(classes=3, in_features=32, seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(in_features, classes))


def test_full_batch_training_equals_hand_written_sgd():
    # With one batch of all images and no flips the order cannot matter: every step is plain
    # SGD with momentum, weight decay and the multistep schedule on the whole set.
    data = _images()
    model, oracle = _linear(), _linear()
    recipe = Recipe(epochs=5, lr=0.5, momentum=0.8, weight_decay=0.01, batch_size=24,
                    milestones=(2, 4), gamma=0.5, flip=False, log_every=1)
    result = train(model, data, recipe=recipe, progress=False)

    x, y = torch.from_numpy(data.images), torch.from_numpy(data.labels)
    opt = torch.optim.SGD(oracle.parameters(), lr=0.5, momentum=0.8, weight_decay=0.01)
    losses, accuracies = [], []
    for epoch in range(5):
        for group in opt.param_groups:
            group["lr"] = 0.5 * 0.5 ** sum(epoch >= m for m in (2, 4))
        logits = oracle(x)
        loss = F.cross_entropy(logits, y)
        losses.append(loss.item())
        accuracies.append((logits.argmax(1) == y).float().mean().item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(result.train_loss, losses, rtol=1e-5)
    np.testing.assert_allclose(result.train_accuracy, accuracies)
    for p, q in zip(model.parameters(), oracle.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert result.step.tolist() == [1, 2, 3, 4, 5] == result.epoch_step.tolist()


class _Recorder(nn.Module):
    """A linear classifier that keeps every input it is given."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(32, 3)
        self.seen = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        return self.fc(x.flatten(1))


def test_each_epoch_visits_every_image_once_some_mirrored():
    data = _images()
    model = _Recorder()
    train(model, data, recipe=Recipe(epochs=3, batch_size=5), progress=False)
    originals = torch.from_numpy(data.images)
    assert [len(x) for x in model.seen] == [5, 5, 5, 5, 4] * 3  # last batch smaller
    flipped_total = 0
    for epoch in range(3):
        batch = torch.cat(model.seen[5 * epoch:5 * epoch + 5])
        plain = (batch[:, None] == originals[None]).flatten(2).all(-1)
        mirrored = (batch[:, None] == originals.flip(-1)[None]).flatten(2).all(-1)
        match = plain | mirrored
        assert (match.sum(1) == 1).all() and (match.sum(0) == 1).all()  # a permutation
        flipped_total += int(mirrored.any(1).sum())
    assert 0.3 < flipped_total / 72 < 0.7
    assert not torch.equal(model.seen[0], torch.from_numpy(data.images[:5]))  # shuffled


def test_same_seed_same_numbers_other_seed_other_numbers():
    data = _images(n=40)
    runs = []
    for seed in (3, 3, 4):
        model = _linear(seed=1)
        result = train(model, data, recipe=Recipe(epochs=3, batch_size=8, log_every=2),
                       seed=seed, progress=False)
        runs.append((result, torch.cat([p.flatten() for p in model.parameters()])))
    (a, wa), (b, wb), (c, wc) = runs
    np.testing.assert_array_equal(a.train_loss, b.train_loss)
    assert torch.equal(wa, wb)
    assert not np.array_equal(a.train_loss, c.train_loss) and not torch.equal(wa, wc)


def test_logging_windows_and_heldout_accuracy_of_the_final_model():
    data, heldout = _images(n=40), _images(n=9, seed=5)
    model = _linear()
    result = train(model, data, heldout, recipe=Recipe(epochs=3, batch_size=8, log_every=4),
                   progress=False)
    assert result.step.tolist() == [4, 8, 12, 15]  # 5 steps an epoch; partial window last
    assert result.epoch_step.tolist() == [5, 10, 15]
    assert model.training
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(heldout.images))
    labels = torch.from_numpy(heldout.labels)
    assert result.heldout_accuracy[-1] == pytest.approx(
        (logits.argmax(1) == labels).float().mean().item())
    assert result.heldout_loss[-1] == pytest.approx(F.cross_entropy(logits, labels).item(),
                                                    rel=1e-6)
    without = train(_linear(), data, recipe=Recipe(epochs=2), progress=False)
    assert without.heldout_accuracy.shape == (2,) and np.isnan(without.heldout_accuracy).all()


def test_a_resnet_learns_the_digits_and_the_result_round_trips(tmp_path):
    digits = load_digits32(size=8)
    subset = ImageSet(digits.images[:256], digits.labels[:256], "digits8")
    model = CifarResNet(8, generator=torch.Generator().manual_seed(0))
    result = train(model, subset, subset, recipe=Recipe(epochs=6, batch_size=32, lr=0.05,
                                                        log_every=4), progress=False)
    assert result.train_accuracy[-1] > 0.8 > 0.3 > result.train_accuracy[0]
    assert result.heldout_accuracy[-1] > 0.8
    assert result.precision == "float32" and result.device == "cpu" and result.n_images == 256
    result.save(tmp_path)
    back = TrainingResult.load(tmp_path)
    np.testing.assert_array_equal(back.train_accuracy, result.train_accuracy)
    assert back.recipe == result.recipe and back.recipe["milestones"] == [100, 150]
    fig = back.plot()
    assert len(fig.axes[0].lines) == 2


def test_channels_last_and_bfloat16_options():
    data = _images(n=16, side=8)
    conv = nn.Sequential(nn.Conv2d(2, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(4, 3))
    twin = copy.deepcopy(conv)
    recipe = Recipe(epochs=2, batch_size=8, log_every=1)
    plain = train(conv, data, recipe=recipe, channels_last=False, progress=False)
    last = train(twin, data, recipe=recipe, progress=False)  # channels-last: the CPU default
    assert last.channels_last and not plain.channels_last
    np.testing.assert_allclose(last.train_loss, plain.train_loss, rtol=1e-5)
    assert twin[0].weight.is_contiguous()  # handed back in contiguous order
    bf16 = train(copy.deepcopy(conv), data, recipe=recipe, precision="bfloat16", progress=False)
    assert bf16.precision == "bfloat16"
    np.testing.assert_allclose(bf16.train_loss, plain.train_loss, rtol=0.05)


def test_divergence_warns_at_the_callers_line():
    data = _images()
    diverged = r"training loss became (nan|inf) by step \d+: the run diverged"
    with pytest.warns(UserWarning, match=diverged) as caught:
        train(_linear(), data, recipe=Recipe(epochs=10, lr=1e30, batch_size=24, log_every=1,
                                             flip=False), progress=False)
    assert caught[0].filename == __file__ and len(caught) == 1


def test_invalid_arguments_name_what_is_wrong():
    data = _images()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(NetspectraError, match=r"more than 2 classes.*found shape \(24, 2\)"):
            train(_linear(classes=2), data, recipe=Recipe(batch_size=24), progress=False)
    cases = [
        (lambda: Recipe(epochs=0), "epochs must be >= 1; found 0"),
        (lambda: Recipe(lr=-1), "lr must be a positive"),
        (lambda: Recipe(momentum=1.0), r"momentum must be in \[0, 1\); found 1.0"),
        (lambda: Recipe(weight_decay=-1e-4), r"weight_decay must be in \[0, inf\]"),
        (lambda: Recipe(milestones=(150, 100)), "milestones must increase"),
        (lambda: Recipe(flip=1), "flip must be True or False"),
        (lambda: train("net", data), "model must be a torch.nn.Module; found str"),
        (lambda: train(_linear(), data.images), "data must be an ImageSet; found ndarray"),
        (lambda: train(_linear(), ImageSet(data.images, data.labels[:3], "x")),
         r"labels must be an integer array of shape \(24,\)"),
        (lambda: train(_linear(), data, recipe={"epochs": 1}), "recipe must be a Recipe"),
        (lambda: train(_linear(), data, precision="half"), "unknown precision 'half'"),
        (lambda: train(_linear(), data, device="tpu"), "unknown device 'tpu'"),
        (lambda: train(_linear(), data, device="cpu:1"), "device must be 'auto'"),
        (lambda: train(_linear(), data, seed=-1), "seed must be in"),
        (lambda: train(_linear(), data, channels_last="yes"), "channels_last must be True"),
    ]
    for call, message in cases:
        with pytest.raises(NetspectraError, match=message):
            call()
    if not torch.cuda.is_available():
        with pytest.raises(NetspectraError, match="'cuda' is not available"):
            train(_linear(), data, device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_is_seeded_and_matches_the_cpu():
    data = _images(n=40)
    recipe = Recipe(epochs=2, batch_size=8, log_every=1)
    runs = [train(_linear(seed=2), data, recipe=recipe, device="cuda", progress=False)
            for _ in range(2)]
    cpu = train(_linear(seed=2), data, recipe=recipe, progress=False)
    assert runs[0].device.startswith("cuda")
    np.testing.assert_array_equal(runs[0].train_loss, runs[1].train_loss)
    np.testing.assert_allclose(runs[0].train_loss, cpu.train_loss, rtol=1e-4)
