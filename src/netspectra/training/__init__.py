"""Training the papers' networks (RR App. A.3, §5): any classifier on an ImageSet, seeded,
with its logged curves as a result that saves and draws itself."""

from .loop import train
from .recipe import Recipe
from .result import TrainingResult

__all__ = ["Recipe", "TrainingResult", "train"]
