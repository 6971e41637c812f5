"""The command line's own error: a user mistake reported in one line with exit status 2."""

from __future__ import annotations

__all__ = ["CLIError"]


class CLIError(ValueError):
    """A misuse of the command line (bad value, unusable file); printed as one line, exit status 2."""
