"""The CLI's recurrent presets use ``nn.RNNOutput`` (kept here as an alias for older imports)."""

from ..nn import RNNOutput

__all__ = ["RNNOutput"]
