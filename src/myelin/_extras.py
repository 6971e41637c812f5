"""How to install an optional extra, said the same way by every message that needs it.

The package is ``myelin-nn``; until it is published on PyPI only the checkout form works, so
messages give both: ``pip install ".[plot]"`` in a checkout of the repository, or
``pip install "myelin-nn[plot]"`` from PyPI once published (quoted: zsh expands brackets).
"""

from __future__ import annotations

__all__ = ["EXTRAS", "install_hint"]

#: extra -> the packages it installs (pyproject.toml's ``[project.optional-dependencies]``)
EXTRAS = {"plot": "matplotlib", "onnx": "onnx, onnxruntime", "sklearn": "scikit-learn", "mpi": "mpi4py",
          "playground": "starlette, uvicorn", "image": "Pillow"}


def install_hint(extra: str) -> str:
    """``pip install ".[<extra>]"`` (in a checkout) or ``pip install "myelin-nn[<extra>]"`` (from PyPI, once
    published), for an extra of pyproject.toml (:data:`EXTRAS`)."""
    if extra not in EXTRAS:
        raise ValueError(f"install_hint: unknown extra {extra!r}; expected one of {', '.join(EXTRAS)}")
    return (f'pip install ".[{extra}]" in a checkout of the repository, or pip install "myelin-nn[{extra}]" '
            f"from PyPI once it is published")
