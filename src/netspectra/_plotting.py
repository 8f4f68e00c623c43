"""The ``ax=None`` convention of every ``plot`` method: draw on the given Axes or a new figure."""

from __future__ import annotations

from typing import Any

from .errors import NetspectraError

__all__ = ["figure_axes"]


def figure_axes(ax: Any, figsize: tuple[float, float]):
    """``(figure, axes)``: ``ax`` and its figure, or a new ``figsize`` figure when ``ax`` is
    None; anything else is a NetspectraError naming ``ax``."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    if ax is None:
        return plt.subplots(figsize=figsize)
    if not isinstance(ax, Axes):
        raise NetspectraError(f"ax must be a matplotlib Axes or None; found {type(ax).__name__}")
    return ax.figure, ax
