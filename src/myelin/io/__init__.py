"""Model files and checkpoints (``myelin.io``): safetensors only, no pickle, nothing executed on load.

- :func:`save` / :func:`load`: one file with the architecture (JSON metadata) and the weights; given
  anything else (a state dict, a checkpoint dict of arrays, numbers and strings) the same functions
  store it as safetensors plus a JSON structure (``objects.py``), as ``torch.save`` does, without pickle.
- :func:`save_weights` / :func:`load_weights`: plain ``state_dict`` files, interoperable with PyTorch.
- :func:`save_checkpoint` / :func:`load_checkpoint`: everything ``fit(resume_from=...)`` needs.
- :class:`ModelFileError`: what any truncated, malformed or mismatched file raises.
"""

from .checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from .errors import ModelFileError
from .model_file import load_weights, save_weights
from .objects import load, save
from .safetensors_file import atomic_write, read_metadata, read_safetensors, write_safetensors

__all__ = [
    "Checkpoint",
    "ModelFileError",
    "atomic_write",
    "load",
    "load_checkpoint",
    "load_weights",
    "read_metadata",
    "read_safetensors",
    "save",
    "save_checkpoint",
    "save_weights",
    "write_safetensors",
]
