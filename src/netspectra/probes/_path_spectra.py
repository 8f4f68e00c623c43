"""Mean normalised power spectra of sampled paths, where the paths are (RR §4.2, Fig. 3).

The quantity of :func:`netspectra.theory.path_power_spectrum` followed by the mean over the
non-constant paths, in float64 with torch: for a layer of 4096 paths of 100 samples 1.3-2×
faster than the NumPy reference on CPU (a vector-matrix product does the normalising and the
mean in one pass), and on a GPU without copying the paths to the host.
"""

from __future__ import annotations

import torch

from ..theory.roughness import CONSTANT_PATH_ULPS

__all__ = ["mean_path_power"]


def mean_path_power(paths: torch.Tensor, *, derivative: bool = False,
                    detrend: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mean power, number of paths averaged)`` of the paths in the columns of ``paths``.

    ``paths`` holds ``n`` samples ``p(t_j)``, ``t_j = j / (n - 1)``, down each column. Each
    non-constant path's power ``|z_k|²``, ``k = 1 … n // 2`` (DC excluded), is divided by its
    own sum and the results are averaged; conventions, and what counts as constant (at the
    precision of ``paths``' dtype), are those of :func:`~netspectra.theory.path_power_spectrum`.
    The mean is float64, of shape ``(n // 2,)``, zeros where no path is valid; the count is a
    0-dim int64 tensor, left on the device so that a GPU is not waited for.
    """
    n = paths.shape[0]
    eps = torch.finfo(paths.dtype).eps
    # One path per row, contiguous: the transform along rows ran 2.9× faster than down the
    # columns of the walk's buffer, and the copy also makes the float64 cast.
    x = paths.t().to(torch.float64, memory_format=torch.contiguous_format)
    hi, lo = x.amax(dim=1), x.amin(dim=1)
    y = x
    if detrend:
        t = torch.arange(n, dtype=x.dtype, device=x.device) / (n - 1)
        y = x - (x[:, :1] + (x[:, -1:] - x[:, :1]) * t)
        spread = y.amax(dim=1) - y.amin(dim=1)
    else:
        spread = hi - lo
    valid = spread > CONSTANT_PATH_ULPS * eps * torch.maximum(hi.abs(), lo.abs())
    z = torch.fft.rfft(y, dim=1)[:, 1:]
    power = z.real.square() + z.imag.square()
    if derivative:
        power *= torch.arange(1, n // 2 + 1, dtype=x.dtype, device=x.device).square()
    count = valid.sum()
    weight = torch.where(valid, 1.0 / power.sum(dim=1), 0.0) / count.clamp(min=1)
    return weight @ power, count
