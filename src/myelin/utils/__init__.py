"""``myelin.utils``: PyTorch's ``torch.utils`` spellings (``myelin.utils.data``)."""

from . import data

__all__ = ["data"]
