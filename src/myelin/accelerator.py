"""``myelin.accelerator``: PyTorch's device-agnostic accelerator queries; there is none in Myelin.

So PyTorch's Quickstart line ``device = torch.accelerator.current_accelerator().type if
torch.accelerator.is_available() else "cpu"`` chooses ``"cpu"``.
"""

from __future__ import annotations

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False) -> None:
    """None: no accelerator is present."""
    return
