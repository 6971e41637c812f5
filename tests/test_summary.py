"""myelin.summary: rows, output shapes, parameter counts and memory estimates for MLPs, CNNs and LSTMs."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.monitor import ModelSummary, summary


def _row(s: ModelSummary, name: str):
    return next(r for r in s.rows if r.name == name)


def test_top_level_name_is_the_function():
    assert myelin.summary is summary


def test_mlp_rows_totals_and_memory():
    model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    s = summary(model, (784,), batch_size=32)
    assert [(r.name, r.type, r.output_shape, r.params) for r in s.rows] == [
        ("", "Sequential", (32, 10), 101_770),
        ("0", "Linear", (32, 128), 784 * 128 + 128),
        ("1", "ReLU", (32, 128), 0),
        ("2", "Linear", (32, 10), 128 * 10 + 10),
    ]
    assert s.total_params == s.trainable_params == 101_770
    assert s.param_bytes == 4 * 101_770
    assert s.activation_bytes == 4 * 32 * (128 + 128 + 10)  # leaf outputs only: the container is not counted twice
    assert s.input_bytes == 4 * 32 * 784
    text = str(s)
    for piece in ("Linear", "(32, 128)", "101,770", "Total params", "Trainable params", "Activation memory",
                  "Parameter memory", "407.08 kB"):
        assert piece in text, piece


def test_nested_model_expands_with_dotted_places_and_counts_once():
    model = nn.Sequential(nn.Flatten(), nn.MLP([16, 8, 4, 3]))
    s = summary(model, (4, 4), batch_size=2)
    names = [r.name for r in s.rows]
    assert names == ["", "0", "1", "1.layers", "1.layers.0", "1.layers.1", "1.layers.2", "1.layers.3",
                     "1.layers.4"]
    assert _row(s, "1.layers.2").output_shape == (2, 4) and _row(s, "1.layers.2").depth == 3
    assert _row(s, "1").params == _row(s, "1.layers").params == 16 * 8 + 8 + 8 * 4 + 4 + 4 * 3 + 3
    assert s.total_params == _row(s, "1").params
    table = s.table_rows()
    assert table[4][0] == "    1.layers.0"  # indented by depth
    assert table[2][3].startswith("(")  # containers show their children's parameters in parentheses


def test_cnn_shapes_and_batch_scaling():
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(8 * 14 * 14, 10))
    s1 = summary(model, (1, 28, 28))
    assert [r.output_shape for r in s1.rows[1:]] == [(1, 8, 28, 28), (1, 8, 28, 28), (1, 8, 14, 14), (1, 1568),
                                                     (1, 10)]
    assert _row(s1, "0").params == 8 * 9 + 8
    s4 = summary(model, (1, 28, 28), batch_size=4)
    assert s4.activation_bytes == 4 * s1.activation_bytes
    assert s4.param_bytes == s1.param_bytes


def test_lstm_tuple_outputs():
    if not hasattr(nn, "LSTM"):
        pytest.skip("nn.LSTM has not landed yet")
    lstm = nn.LSTM(6, 12, batch_first=True)
    s = summary(lstm, (5, 6), batch_size=3)
    row = s.rows[0]
    assert row.output_shape == ((3, 5, 12), ((1, 3, 12), (1, 3, 12)))
    assert row.output_bytes == 4 * (3 * 5 * 12 + 2 * 3 * 12)
    assert row.params == 4 * 12 * (6 + 12) + 2 * 4 * 12
    assert "((3, 5, 12), ((1, 3, 12), (1, 3, 12)))" in str(s)


def test_frozen_parameters_and_buffers():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Linear(3, 2))
    model[0].requires_grad_(False)
    s = summary(model, (4,), batch_size=2)
    assert s.total_params == 15 + 6 + 8
    assert s.trainable_params == 6 + 8 and s.non_trainable_params == 15
    assert s.buffer_bytes > 0 and "buffers" in str(s)


def test_modes_restored_no_hooks_left_and_no_graph():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    model.train()
    summary(model, (3,))
    assert all(m.training for m in model.modules())
    assert all(not m._forward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


def test_without_input_shape():
    mlp = nn.Sequential(nn.Linear(5, 3), nn.Tanh())
    assert summary(mlp).rows[1].output_shape == (1, 3)  # inferred from the first Linear
    cnn = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU())
    s = summary(cnn)
    assert all(r.output_shape is None for r in s.rows) and s.total_params == 20
    assert "no input_shape given" in str(s) and "--" in str(s)


def test_bad_input_shape_is_explained():
    model = nn.Sequential(nn.Linear(784, 10))
    with pytest.raises(RuntimeError, match=r"summary: the forward pass .* \(1, 100\) failed .*784"):
        summary(model, (100,))
    with pytest.raises(TypeError, match="without the batch dimension"):
        summary(model, "784")
    with pytest.raises(ValueError, match="batch_size"):
        summary(model, (784,), batch_size=0)
    assert all(not m._forward_hooks for m in model.modules())


def test_as_dict_is_json_ready():
    import json

    s = summary(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), (2,))
    data = json.loads(json.dumps(s.as_dict()))
    assert data["rows"][1]["output_shape"] == [1, 2] and data["total_params"] == 6
    assert np.isclose(data["param_bytes"], 24)
