"""The one error every model-file loader raises for a bad file."""

from __future__ import annotations

__all__ = ["ModelFileError"]


class ModelFileError(ValueError):
    """A model, weights or checkpoint file that is truncated, malformed, hostile or does not fit the model.

    The message names the file and says what is wrong (expected vs received). Loading never runs
    code from a file, so this is the worst a bad file can do.
    """
