"""Character-level text data: :class:`TextDataset` and :func:`text`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._plural import counted
from ..data.dataset import TensorDataset, to_numpy
from .download import DataFileError

__all__ = ["TextDataset", "text"]


def _codepoints(s: str) -> np.ndarray:
    return np.frombuffer(s.encode("utf-32-le"), dtype=np.uint32)


class TextDataset(TensorDataset):
    """Non-overlapping windows of a character sequence for next-character prediction.

    Item ``i`` is ``(x, y)``, both int64 of shape ``(seq_len,)``: ``x = ids[i*L : (i+1)*L]`` and
    ``y = ids[i*L + 1 : (i+1)*L + 1]`` (``x`` shifted by one). There are ``(len(text) - 1) // seq_len``
    windows; the tail that does not fill one is dropped. ``.arrays`` are views of one id array,
    so the DataLoader's fast path applies.

    Args:
        text: the characters.
        seq_len: window length ``L``.
        vocab: the characters ids refer to (sorted, unique); defaults to ``sorted(set(text))``.
    """

    def __init__(self, text: str, seq_len: int, vocab: Sequence[str] | None = None) -> None:
        if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
            raise ValueError(f"TextDataset: expected seq_len to be an int >= 1, received {seq_len!r}")
        if vocab is None:
            self._codes = np.unique(_codepoints(text))
        else:
            if any(not isinstance(c, str) or len(c) != 1 for c in vocab):
                raise ValueError("TextDataset: expected vocab to be a sequence of single characters")
            self._codes = np.unique(_codepoints("".join(vocab)))
            if len(self._codes) != len(vocab):
                raise ValueError("TextDataset: expected vocab without duplicate characters")
        self.vocab: list[str] = [chr(c) for c in self._codes]
        self.stoi: dict[str, int] = {ch: i for i, ch in enumerate(self.vocab)}
        self.seq_len = int(seq_len)
        self.ids: np.ndarray = self.encode(text)
        n = max(len(self.ids) - 1, 0) // self.seq_len
        length = n * self.seq_len
        super().__init__(self.ids[:length].reshape(n, self.seq_len), self.ids[1 : length + 1].reshape(n, self.seq_len))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    @property
    def itos(self) -> list[str]:
        return self.vocab

    def encode(self, s: str) -> np.ndarray:
        """Characters to ids, int64 of shape ``(len(s),)``; raises ValueError on a character outside the vocab."""
        codes = _codepoints(s)
        if codes.size == 0:
            return np.zeros(0, dtype=np.int64)
        if self._codes.size == 0:
            raise ValueError(f"TextDataset.encode: character {s[0]!r} is not in the (empty) vocabulary")
        ids = np.searchsorted(self._codes, codes)
        ids_clipped = np.minimum(ids, len(self._codes) - 1)
        bad = self._codes[ids_clipped] != codes
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"TextDataset.encode: character {s[first]!r} at position {first} is not in the vocabulary "
                f"of {counted(len(self.vocab), 'character')}"
            )
        return ids.astype(np.int64)

    def decode(self, ids: Any) -> str:
        """Ids (array, list or Tensor of any shape, read in order) back to a string."""
        a = to_numpy(ids).reshape(-1)
        if a.size == 0:
            return ""
        if a.dtype.kind not in "iu":
            raise ValueError(f"TextDataset.decode: expected integer ids, received dtype {a.dtype}")
        if a.min() < 0 or a.max() >= len(self.vocab):
            raise ValueError(
                f"TextDataset.decode: expected ids in [0, {len(self.vocab)}), received values in [{a.min()}, {a.max()}]"
            )
        return self._codes[a].astype("<u4").tobytes().decode("utf-32-le")

    def __repr__(self) -> str:
        return f"TextDataset({counted(len(self), 'window')} of {self.seq_len}, {counted(len(self.ids), 'char')}, vocab {self.vocab_size})"


def text(path: str | os.PathLike[str], seq_len: int, val_fraction: float = 0.1) -> tuple[TextDataset, TextDataset]:
    """A character-level corpus from a UTF-8 file, split into contiguous ``(train, val)`` parts.

    The first ``1 - val_fraction`` of the characters form ``train``, the rest ``val``; both share one
    vocabulary built from the whole file, so ``train.vocab == val.vocab``. Each is a
    :class:`TextDataset` of non-overlapping ``(x, y)`` windows of length ``seq_len``.
    ``val_fraction=0`` gives an empty ``val`` (no windows).

    Raises:
        FileNotFoundError: no file at ``path``.
        DataFileError: the file is empty or not UTF-8.
        ValueError: the text (or its validation part) is shorter than ``seq_len + 1`` characters.
    """
    if isinstance(val_fraction, bool) or not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"text: expected 0 <= val_fraction < 1, received {val_fraction!r}")
    if isinstance(seq_len, bool) or not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise ValueError(f"text: expected seq_len to be an int >= 1, received {seq_len!r}")
    p = Path(path).expanduser()
    if not p.is_file():
        raise FileNotFoundError(f"text: no text file at {p}")
    try:
        content = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFileError(f"text: {p} is not UTF-8 text: {exc}") from exc
    if not content:
        raise DataFileError(f"text: {p} is empty")
    if len(content) < seq_len + 1:
        raise ValueError(f"text: {p} has {counted(len(content), 'character')}, expected at least seq_len + 1 = {seq_len + 1}")
    vocab = sorted(set(content))
    n_val = round(len(content) * float(val_fraction))
    cut = len(content) - n_val
    if cut < seq_len + 1:
        raise ValueError(
            f"text: the training part of {p} has {counted(cut, 'character')}, expected at least seq_len + 1 = {seq_len + 1}"
        )
    if n_val and n_val < seq_len + 1:
        raise ValueError(
            f"text: the validation part of {p} ({val_fraction:.0%}) has {counted(n_val, 'character')}, expected at least "
            f"seq_len + 1 = {seq_len + 1}; raise val_fraction, lower seq_len, or pass val_fraction=0"
        )
    return TextDataset(content[:cut], seq_len, vocab), TextDataset(content[cut:], seq_len, vocab)
