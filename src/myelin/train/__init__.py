"""Training (``myelin.train``): ``fit``, ``evaluate``, ``predict``, callbacks and the History.

``myelin.fit``, ``myelin.evaluate`` and ``myelin.predict`` are these functions.
"""

from .callbacks import CSVLogger, EarlyStopping, LambdaCallback, ModelCheckpoint
from .fit import TrainingDivergedError, evaluate, fit, predict
from .history import Callback, History
from .live import LiveCurves
from .metrics import Accuracy, MeanAbsoluteError, MeanSquaredError, Metric
from .progress import Progress

__all__ = [
    "Accuracy",
    "CSVLogger",
    "Callback",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LiveCurves",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "ModelCheckpoint",
    "Progress",
    "TrainingDivergedError",
    "evaluate",
    "fit",
    "predict",
]
