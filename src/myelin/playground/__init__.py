"""The playground (``myelin playground``): a web page where a learner builds a network on a small data set
and watches every neuron learn, with the real library training behind it.

- :class:`TrainingSession`: one run as a plain Python object (data, network, optimizer, monitor), usable
  and testable without a browser or a server.
- :func:`check_settings`: the settings a session accepts (the page keeps them all in its address).
- :class:`Budget`: the resource limits that decide how large a network or data set a server accepts.
- :func:`make_app` (in :mod:`myelin.playground.server`, needs the ``playground`` extra: ``pip install
  ".[playground]"`` in a checkout, or ``pip install "myelin-nn[playground]"`` once published):
  the Starlette application serving the page and the JSON API.
"""

from .boundary import Boundary, BoundaryError, parse_boundary
from .budget import Budget, BudgetError
from .script import make_script
from .session import TrainingSession
from .settings import DEFAULTS, SettingsError, check_settings

__all__ = [
    "DEFAULTS",
    "Boundary",
    "BoundaryError",
    "Budget",
    "BudgetError",
    "SettingsError",
    "TrainingSession",
    "check_settings",
    "make_script",
    "parse_boundary",
]
