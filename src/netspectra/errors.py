"""The one error type of netspectra."""

__all__ = ["NetspectraError"]


class NetspectraError(ValueError):
    """Invalid input to a netspectra function: the message names the argument and what was expected.

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it too.
    """
