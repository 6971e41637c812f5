"""ONNX export: every layer type, the reference models and the error cases, checked in onnxruntime.

Each exported model must pass ``onnx.checker`` and, run in onnxruntime at two batch sizes from one
export, match Myelin's eval-mode outputs within 1e-5.
"""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from myelin.core.node import make_node
from myelin.nn import activation as A
from myelin.nn.container import Sequential
from myelin.nn.conv import Conv1d, Conv2d
from myelin.nn.dropout import Dropout
from myelin.nn.embedding import Embedding
from myelin.nn.flatten import Flatten, Unflatten
from myelin.nn.linear import Linear
from myelin.nn.loss import MSELoss
from myelin.nn.mlp import MLP
from myelin.nn.module import Module
from myelin.nn.neuron import Neuron
from myelin.nn.normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from myelin.nn.parameter import Parameter
from myelin.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool2d
from myelin.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from myelin.nn.rnn_output import RNNOutput
from myelin.onnx import ONNXExportError, export  # importable without onnx; export() then raises ImportError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

TOL = 1e-5
RESULTS: dict[str, float] = {}


def _flat(value):
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flat(v)]
    return [value.data if isinstance(value, myelin.Tensor) else np.asarray(value)]


def roundtrip(model, make_input, tmp_path, sizes=(1, 5), example_batch=3, **kwargs) -> float:
    """Export on a batch of ``example_batch``, run both at ``sizes``; returns the largest difference."""
    model.eval()
    path = tmp_path / "model.onnx"
    export(model, make_input(example_batch), path, **kwargs)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for b in sizes:
        x = make_input(b)
        args = x if isinstance(x, tuple) else (x,)
        with myelin.no_grad():
            want = _flat(model(*args))
        feeds = {i.name: a for i, a in zip(session.get_inputs(), _flat(args))}
        got = session.run(None, feeds)
        assert len(got) == len(want)
        for w, o in zip(want, got):
            assert o.shape == w.shape, (o.shape, w.shape)
            if w.dtype.kind in "iub":
                assert np.array_equal(o, w)
                continue
            diff = float(np.max(np.abs(o.astype(np.float64) - w))) if w.size else 0.0
            worst = max(worst, diff)
    assert worst <= TOL, worst
    return worst


def rand(*shape, scale=1.0, seed=None):
    rng = np.random.default_rng(seed if seed is not None else sum(shape) * 7 + len(shape))
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _randomise(model: Module, seed: int = 0) -> Module:
    """Non-trivial batch-norm statistics and affine parameters."""
    rng = np.random.default_rng(seed)
    for m in model.modules():
        if isinstance(m, (BatchNorm1d, BatchNorm2d)):
            if m.running_mean is not None:
                m.running_mean[...] = rng.standard_normal(m.num_features)
                m.running_var[...] = rng.uniform(0.5, 2.0, m.num_features)
            if m.weight is not None:
                m.weight.data[...] = rng.uniform(0.5, 1.5, m.num_features)
                m.bias.data[...] = rng.standard_normal(m.num_features)
    return model


# ----------------------------------------------------------------------------- layers, one at a time
def vec(n):
    return lambda b: rand(b, n, scale=3.0)


def img(c, h, w):
    return lambda b: rand(b, c, h, w)


def seq(length, n):
    return lambda b: rand(b, length, n)


def seq_first(length, n):
    return lambda b: rand(length, b, n)


LAYERS = {
    "linear": (lambda: Linear(6, 4), vec(6)),
    "linear_nobias": (lambda: Linear(6, 4, bias=False), vec(6)),
    "linear_3d": (lambda: Linear(6, 4), seq(5, 6)),
    "relu": (A.ReLU, vec(7)),
    "relu6": (A.ReLU6, vec(7)),
    "leaky_relu": (lambda: A.LeakyReLU(0.2), vec(7)),
    "elu": (lambda: A.ELU(0.7), vec(7)),
    "gelu": (A.GELU, vec(7)),
    "gelu_tanh": (lambda: A.GELU("tanh"), vec(7)),
    "sigmoid": (A.Sigmoid, vec(7)),
    "tanh": (A.Tanh, vec(7)),
    "hardtanh": (lambda: A.Hardtanh(-0.5, 0.8), vec(7)),
    "silu": (A.SiLU, vec(7)),
    "softplus": (A.Softplus, vec(7)),
    "softplus_beta": (lambda: A.Softplus(beta=2.0, threshold=1.5), vec(7)),
    "softmax": (lambda: A.Softmax(dim=1), vec(7)),
    "softmax_3d_last": (lambda: A.Softmax(dim=-1), seq(4, 5)),
    "log_softmax": (lambda: A.LogSoftmax(dim=1), vec(7)),
    "log_softmax_3d_dim1": (lambda: A.LogSoftmax(dim=1), seq(4, 5)),
    "identity": (A.Identity, vec(7)),
    "dropout": (lambda: Dropout(0.5), vec(7)),
    "neuron": (lambda: Neuron(5, "tanh"), vec(5)),
    "batchnorm1d": (lambda: _randomise(BatchNorm1d(6)), vec(6)),
    "batchnorm1d_3d": (lambda: _randomise(BatchNorm1d(4)), lambda b: rand(b, 4, 9)),
    "batchnorm1d_no_stats": (lambda: BatchNorm1d(6, track_running_stats=False), vec(6)),
    "batchnorm2d": (lambda: _randomise(BatchNorm2d(3)), img(3, 5, 6)),
    "layernorm": (lambda: LayerNorm(6), seq(3, 6)),
    "layernorm_2d_noaffine": (lambda: LayerNorm((4, 6), elementwise_affine=False), seq(4, 6)),
    "conv2d": (lambda: Conv2d(3, 8, 3), img(3, 9, 10)),
    "conv2d_stride_pad": (lambda: Conv2d(3, 6, 3, stride=2, padding=1), img(3, 9, 10)),
    "conv2d_rect": (lambda: Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)), img(3, 9, 10)),
    "conv2d_same_dilation": (lambda: Conv2d(3, 4, 4, padding="same", dilation=2), img(3, 9, 10)),
    "conv2d_valid": (lambda: Conv2d(3, 4, 3, padding="valid", bias=False), img(3, 9, 10)),
    "conv2d_groups": (lambda: Conv2d(4, 6, 3, padding=1, groups=2), img(4, 8, 8)),
    "conv2d_depthwise": (lambda: Conv2d(4, 4, 3, groups=4), img(4, 8, 8)),
    "conv2d_reflect": (lambda: Conv2d(3, 4, 3, padding=2, padding_mode="reflect"), img(3, 8, 9)),
    "conv2d_replicate": (lambda: Conv2d(3, 4, 3, padding=1, padding_mode="replicate"), img(3, 8, 9)),
    "conv2d_circular": (lambda: Conv2d(3, 4, 3, padding=(1, 2), padding_mode="circular"), img(3, 8, 9)),
    "conv1d": (lambda: Conv1d(3, 5, 3, stride=2, padding=1), lambda b: rand(b, 3, 11)),
    "maxpool": (lambda: MaxPool2d(2), img(3, 8, 8)),
    "maxpool_stride_pad": (lambda: MaxPool2d(3, stride=2, padding=1), img(3, 9, 10)),
    "maxpool_ceil": (lambda: MaxPool2d(3, stride=2, ceil_mode=True), img(3, 10, 9)),
    "maxpool_dilation": (lambda: MaxPool2d(2, stride=1, dilation=2), img(3, 8, 8)),
    "maxpool_indices": (lambda: MaxPool2d(2, return_indices=True), img(3, 8, 8)),
    "avgpool": (lambda: AvgPool2d(2), img(3, 8, 8)),
    "avgpool_pad": (lambda: AvgPool2d(3, stride=2, padding=1), img(3, 9, 10)),
    "avgpool_pad_exclude": (lambda: AvgPool2d(3, stride=2, padding=1, count_include_pad=False), img(3, 9, 10)),
    "avgpool_ceil": (lambda: AvgPool2d(3, stride=2, padding=1, ceil_mode=True), img(3, 10, 9)),
    "avgpool_ceil_exclude": (lambda: AvgPool2d(2, ceil_mode=True, count_include_pad=False), img(3, 7, 9)),
    "avgpool_divisor": (lambda: AvgPool2d(2, divisor_override=3), img(3, 8, 8)),
    "adaptive_avg_1": (lambda: AdaptiveAvgPool2d(1), img(3, 7, 9)),
    "adaptive_avg_even": (lambda: AdaptiveAvgPool2d((2, 3)), img(3, 8, 9)),
    "adaptive_avg_uneven": (lambda: AdaptiveAvgPool2d((3, 4)), img(3, 7, 9)),
    "adaptive_avg_none": (lambda: AdaptiveAvgPool2d((None, 2)), img(3, 5, 7)),
    "adaptive_max_1": (lambda: AdaptiveMaxPool2d(1), img(3, 7, 9)),
    "adaptive_max_even": (lambda: AdaptiveMaxPool2d(4), img(3, 8, 8)),
    "adaptive_max_uneven": (lambda: AdaptiveMaxPool2d((3, 5)), img(3, 7, 9)),
    "adaptive_max_uneven_indices": (lambda: AdaptiveMaxPool2d((3, 5), return_indices=True), img(3, 7, 9)),
    "adaptive_max_uneven_indices_one_axis": (lambda: AdaptiveMaxPool2d((4, 3), return_indices=True), img(2, 8, 7)),
    "flatten": (Flatten, img(3, 4, 5)),
    "flatten_middle": (lambda: Flatten(1, 2), img(3, 4, 5)),
    "unflatten": (lambda: Unflatten(1, (2, 3)), vec(6)),
    "rnn_tanh": (lambda: RNN(5, 7), seq_first(6, 5)),
    "rnn_relu": (lambda: RNN(5, 7, nonlinearity="relu", batch_first=True), seq(6, 5)),
    "lstm": (lambda: LSTM(5, 7), seq_first(6, 5)),
    "lstm_batch_first_bidir": (lambda: LSTM(5, 7, batch_first=True, bidirectional=True), seq(6, 5)),
    "lstm_2layer_bidir": (lambda: LSTM(5, 6, num_layers=2, bidirectional=True), seq_first(6, 5)),
    "gru": (lambda: GRU(5, 7, batch_first=True), seq(6, 5)),
    "gru_bidir": (lambda: GRU(5, 7, bidirectional=True), seq_first(6, 5)),
    "gru_3layer_nobias": (lambda: GRU(5, 4, num_layers=3, bias=False), seq_first(6, 5)),
    "rnn_2layer_bidir": (lambda: RNN(5, 4, num_layers=2, bidirectional=True, batch_first=True), seq(6, 5)),
    "rnn_cell": (lambda: RNNCell(5, 6), vec(5)),
    "lstm_cell": (lambda: LSTMCell(5, 6), vec(5)),
    "gru_cell": (lambda: GRUCell(5, 6), vec(5)),
    "rnn_output_last_step": (lambda: Sequential(LSTM(5, 7, batch_first=True), RNNOutput(last_step=True), Linear(7, 3)),
                             seq(6, 5)),
    "rnn_output_all_steps": (lambda: Sequential(LSTM(5, 7, batch_first=True), RNNOutput(), Linear(7, 3)), seq(6, 5)),
    "rnn_output_seq_first_last": (lambda: Sequential(GRU(5, 7), RNNOutput(last_step=True, batch_first=False)),
                                  seq_first(6, 5)),
    "rnn_output_seq_first_all": (lambda: Sequential(RNN(5, 7, num_layers=2), RNNOutput(batch_first=False)),
                                 seq_first(6, 5)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(name, tmp_path):
    myelin.manual_seed(0)
    build, make_input = LAYERS[name]
    sizes = (2, 5) if name.endswith("no_stats") else (1, 5)  # batch statistics need two samples
    RESULTS[name] = roundtrip(build(), make_input, tmp_path, sizes=sizes)


def test_embedding(tmp_path):
    myelin.manual_seed(0)
    rng = np.random.default_rng(0)
    RESULTS["embedding"] = roundtrip(Embedding(10, 4, padding_idx=0),
                                     lambda b: rng.integers(0, 10, (b, 7)), tmp_path)


def test_embedding_max_norm(tmp_path):
    myelin.manual_seed(0)
    rng = np.random.default_rng(1)
    emb = Embedding(12, 5, max_norm=1.0)
    RESULTS["embedding_max_norm"] = roundtrip(emb, lambda b: rng.integers(0, 12, (b, 4)), tmp_path)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_recurrent_initial_states(kind, tmp_path):
    """h0 (and c0) as graph inputs with the batch in dimension 1; also unbatched length-first input."""
    myelin.manual_seed(0)
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind]
    model = cls(4, 5, num_layers=2, bidirectional=True)

    def make(b):
        h = rand(4, b, 5, seed=b)
        state = (h, rand(4, b, 5, seed=b + 1)) if kind == "lstm" else h
        return rand(7, b, 4, seed=b + 2), state

    names = ("x", "h0", "c0") if kind == "lstm" else ("x", "h0")
    RESULTS[f"{kind}_h0"] = roundtrip(model, make, tmp_path, input_names=names)
    unbatched = cls(4, 5, batch_first=True)
    RESULTS[f"{kind}_unbatched"] = roundtrip(unbatched, lambda b: rand(b + 2, 4), tmp_path, sizes=(3,),
                                             dynamic_batch=False)


# ----------------------------------------------------------------------------- the reference models
def test_mnist_mlp(tmp_path):
    myelin.manual_seed(0)
    RESULTS["mnist_mlp"] = roundtrip(MLP([784, 512, 256, 10]), vec(784), tmp_path)


def test_cnn(tmp_path):
    myelin.manual_seed(0)
    cnn = Sequential(
        Conv2d(1, 32, 3, padding=1), A.ReLU(), MaxPool2d(2),
        Conv2d(32, 64, 3, padding=1), A.ReLU(), MaxPool2d(2),
        Flatten(), Linear(3136, 128), A.ReLU(), Linear(128, 10),
    )
    RESULTS["cnn"] = roundtrip(cnn, img(1, 28, 28), tmp_path)


class LSTMClassifier(Module):
    """Two-layer bidirectional LSTM, last time step, then a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = LSTM(8, 16, num_layers=2, batch_first=True, bidirectional=True)
        self.head = Linear(32, 5)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def test_bidirectional_lstm_classifier(tmp_path):
    myelin.manual_seed(0)
    RESULTS["lstm_classifier"] = roundtrip(LSTMClassifier(), seq(12, 8), tmp_path)


class Residual(Module):
    """A residual block with a view, a constant, a reduction and a functional softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = Conv2d(3, 3, 3, padding=1)
        self.norm = BatchNorm2d(3)
        self.fc = Linear(3 * 6 * 6, 10)
        self.register_buffer("offset", np.linspace(-1, 1, 10).astype(np.float32))

    def forward(self, x):
        y = F.relu(self.norm(self.conv(x)) + x)
        y = y.view(y.shape[0], -1)
        z = self.fc(y) * 0.5 - self.offset
        z = z - z.mean(dim=1, keepdim=True)
        return F.softmax(z, dim=-1), z.amax(dim=1)


def test_residual_custom_module(tmp_path):
    myelin.manual_seed(0)
    RESULTS["residual"] = roundtrip(_randomise(Residual()), img(3, 6, 6), tmp_path)


class TensorOps(Module):
    """Many traced tensor ops between two layers, with sizes that follow the batch."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(6, 8)

    def forward(self, x):
        h = self.fc(x)                                        # (N, 8)
        a, b = h.chunk(2, dim=1)                              # split
        s = myelin.stack([a, b], dim=1)                       # (N, 2, 4)
        s = s.permute(0, 2, 1).transpose(1, 2)                # (N, 2, 4)
        t = s.reshape(-1, 4) ** 2 + 1.0                       # (2N, 4), a size of 2 * batch
        t = t.reshape(x.shape[0], 2, 4).sum(dim=1)            # (N, 4)
        u = myelin.cat([t, a.abs().sqrt(), (-b).exp()], dim=1)  # (N, 12)
        v = myelin.where(u > 1.0, u, u * 0.1).clamp(min=-2.0, max=3.0)
        w = v.unsqueeze(1).expand(x.shape[0], 3, 12).squeeze(1)[:, 1:, ::2]  # (N, 2, 6)
        w = myelin.maximum(w, 0.5) - myelin.minimum(w, myelin.zeros(x.shape[0], 1, 6))
        pad = myelin.pad(w, (1, 2))
        return pad.std(dim=2) + pad.var(dim=(0, 2), keepdim=True)[..., 0], w.max(dim=2).values, w.argmax(dim=-1)


def test_tensor_ops(tmp_path):
    myelin.manual_seed(0)
    RESULTS["tensor_ops"] = roundtrip(TensorOps(), vec(6), tmp_path, sizes=(2, 5))


class Functional(Module):
    """Functional activations in a custom forward (their arguments are recovered from the results)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(5, 6)

    def forward(self, x):
        h = self.fc(x)
        act = F.gelu(h) + F.gelu(h, approximate="tanh") + F.silu(h) + F.selu(h) + F.logsigmoid(h) + F.tanh(h)
        return F.log_softmax(act, dim=1), F.softmax(F.sigmoid(h), dim=0)


class SharedLayer(Module):
    """One layer called twice (one set of initializers)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(5, 5)

    def forward(self, x):
        return self.fc(F.relu(self.fc(x)))


class TableLookup(Module):
    """Indexing a parameter with the integer input (a Gather), and returning the input unchanged."""

    def __init__(self) -> None:
        super().__init__()
        self.table = Parameter(rand(10, 3, seed=3))

    def forward(self, ids):
        return self.table[ids] * 2.0, ids


class StatesInForward(Module):
    """Initial LSTM states built in forward with the batch size; the last layer's final h."""

    def __init__(self) -> None:
        super().__init__()
        self.lstm = LSTM(4, 6, num_layers=2, batch_first=True)

    def forward(self, x):
        h0 = myelin.zeros(2, x.shape[0], 6)
        c0 = myelin.ones(2, x.shape[0], 6) * 0.1
        _, (h, _) = self.lstm(x, (h0, c0))
        return h[-1]


class BatchArithmetic(Module):
    """Numbers derived from the batch size, and dead code that must not be exported."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(4, 3)

    def forward(self, x):
        y = self.fc(x)
        _ = (y > 0).any(), make_node(np.cumsum(y.data), (y,), lambda g: (g,), "cumsum")  # unused: pruned
        return y - y.sum(dim=0) / x.shape[0] + y * (1.0 / len(x))


class RecordedArguments(Module):
    """Functional activations as they look once ``make_node`` records their arguments."""

    def forward(self, x):
        a = x.data
        leaky = make_node(np.where(a > 0, a, 0.2 * a), (x,), lambda g: (g,), "leaky_relu", {"negative_slope": 0.2})
        clip = make_node(np.clip(a, -0.5, 0.7), (x,), lambda g: (g,), "hardtanh", {"min_val": -0.5, "max_val": 0.7})
        soft = make_node(np.logaddexp(0, 2 * a) / 2, (x,), lambda g: (g,), "softplus", {"beta": 2.0, "threshold": 30})
        return leaky + clip + soft


rng_ids = np.random.default_rng(5)
CUSTOM = {
    "functional": (Functional, vec(5), (2, 5)),
    "shared_layer": (SharedLayer, vec(5), (1, 5)),
    "table_lookup": (TableLookup, lambda b: rng_ids.integers(0, 10, (b, 4)), (1, 5)),
    "states_in_forward": (StatesInForward, seq(5, 4), (1, 5)),
    "batch_arithmetic": (BatchArithmetic, vec(4), (2, 5)),
    "recorded_arguments": (RecordedArguments, vec(6), (1, 5)),
    "maxpool_ceil_indices": (lambda: MaxPool2d(3, stride=2, ceil_mode=True, return_indices=True), img(2, 10, 9),
                             (1, 5)),
}


@pytest.mark.parametrize("name", sorted(CUSTOM))
def test_custom_forward(name, tmp_path):
    myelin.manual_seed(0)
    build, make_input, sizes = CUSTOM[name]
    RESULTS[name] = roundtrip(build(), make_input, tmp_path, sizes=sizes)


def test_unbatched_input_with_static_batch(tmp_path):
    myelin.manual_seed(0)
    model = Sequential(Conv2d(3, 4, 3), MaxPool2d(2))
    RESULTS["unbatched_conv"] = roundtrip(model, lambda b: rand(3, 8, 8), tmp_path, sizes=(1,), dynamic_batch=False)


@pytest.mark.parametrize("opset", [13, 18])
def test_other_opsets(opset, tmp_path):
    myelin.manual_seed(0)
    model = Sequential(Linear(6, 8), LayerNorm(8), A.Softmax(dim=-1))
    RESULTS[f"opset{opset}"] = roundtrip(model, vec(6), tmp_path, opset=opset)
    assert onnx.load(str(tmp_path / "model.onnx")).opset_import[0].version == opset


def test_static_batch_and_names(tmp_path):
    model = Sequential(Linear(3, 2))
    proto = export(model, rand(4, 3), tmp_path / "m.onnx", input_names=["x"], output_names=["y"],
                   dynamic_batch=False)
    assert [i.name for i in proto.graph.input] == ["x"]
    assert [o.name for o in proto.graph.output] == ["y"]
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert {i.name for i in proto.graph.initializer} == set(model.state_dict())  # weights keep their names
    dynamic = export(model, rand(4, 3), tmp_path / "d.onnx")
    assert dynamic.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_export_restores_training_mode(tmp_path):
    model = Sequential(Linear(3, 2), Dropout(0.5))
    model.train()
    export(model, rand(4, 3), tmp_path / "m.onnx")
    assert model.training and model[1].training
    assert myelin.core.node.TRACER is None


# ----------------------------------------------------------------------------- what cannot be exported
class CumSum(Module):
    def forward(self, x):
        out = make_node(np.cumsum(x.data, axis=1), (x,), lambda g: (g,), "cumsum")
        return out + 1.0


def test_unsupported_op_names_op_and_module(tmp_path):
    model = Sequential(Linear(4, 4), CumSum())
    with pytest.raises(ONNXExportError, match=r"op 'cumsum' in forward of '1'.*test_onnx\.py"):
        export(model, rand(2, 4), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


class FunctionalConv(Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = Parameter(rand(2, 3, 3, 3))

    def forward(self, x):  # stands for F.conv2d, which records no arguments
        return make_node(x.data[:, :2, 1:-1, 1:-1] * 0, (x, self.weight), lambda g: (None, None), "conv2d")


def test_functional_op_without_arguments_suggests_the_layer(tmp_path):
    with pytest.raises(ONNXExportError, match=r"op 'conv2d' in forward of 'FunctionalConv'.*use the layer nn\.Conv2d"):
        export(FunctionalConv(), rand(2, 3, 5, 5), tmp_path / "m.onnx")


class WithLoss(Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(4, 2)
        self.loss = MSELoss()

    def forward(self, x):
        y = self.fc(x)
        return self.loss(y, y * 0.5)


def test_unsupported_layer_names_layer(tmp_path):
    with pytest.raises(ONNXExportError, match=r"layer 'loss' \(MSELoss\) has no ONNX converter"):
        export(WithLoss(), rand(2, 4), tmp_path / "m.onnx")


def test_lstm_with_projection_is_refused_by_name(tmp_path):
    """ONNX's LSTM op has no projection: the export says so instead of writing a wrong model."""
    from myelin.nn.rnn import LSTM

    with pytest.raises(ONNXExportError, match="LSTM with proj_size is not supported"):
        export(LSTM(4, 6, proj_size=2), rand(3, 2, 4), tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


class Escapes(Module):
    """Computes part of its output with NumPy, outside the recorded graph."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        return y + myelin.tensor(np.tanh(y.data))


def test_values_computed_outside_the_graph_are_refused(tmp_path):
    with pytest.raises(ONNXExportError, match=r"op 'add' in forward of 'Escapes'.*outside the traced graph"):
        export(Escapes(), rand(3, 4), tmp_path / "m.onnx")


class BatchHardcoded(Module):
    def forward(self, x):
        return x.reshape(6, -1) + 1.0  # works only for the example's batch of 3


def test_batch_dependent_reshape_is_refused(tmp_path):
    with pytest.raises(ONNXExportError, match="second example input"):
        export(BatchHardcoded(), rand(3, 4), tmp_path / "m.onnx")
    export(BatchHardcoded(), rand(3, 4), tmp_path / "m.onnx", dynamic_batch=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="opset"):
        export(Linear(2, 2), rand(1, 2), tmp_path / "m.onnx", opset=7)
    with pytest.raises(TypeError, match="Module"):
        export(lambda x: x, rand(1, 2), tmp_path / "m.onnx")


def test_missing_onnx_gives_install_hint(monkeypatch):
    import builtins

    import myelin.onnx as mo

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "onnx":
            raise ImportError("No module named 'onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr("importlib.import_module", lambda name: fake_import(name))
    with pytest.raises(ImportError, match=r'pip install "\.\[onnx\]" in a checkout.*pip install "myelin-nn\[onnx\]"'):
        mo.export(Linear(2, 2), rand(1, 2), "unused.onnx")


# ----------------------------------------------------------------------------- issue 20
@pytest.mark.parametrize("kind", ["image", "text"])
def test_cli_lstm_presets_export(kind, tmp_path):
    """The models ``myelin train --model lstm`` builds (digit rows as a sequence; a character model)."""
    from myelin.cli._data import Data
    from myelin.cli._models import build_preset

    myelin.manual_seed(0)
    rng = np.random.default_rng(3)
    if kind == "image":
        x = rng.random((8, 1, 8, 8)).astype(np.float32)
        make = img(1, 8, 8)
    else:
        x = rng.integers(0, 20, (8, 12))
        make = lambda b: np.random.default_rng(b).integers(0, 20, (b, 12))
    y = np.arange(8) % 10
    data = Data("test", kind, x, y, x, y, 20 if kind == "text" else 10)
    model = build_preset("lstm", data, 0.0)
    assert any(isinstance(m, RNNOutput) for m in model.modules())
    RESULTS[f"cli_lstm_{kind}"] = roundtrip(model, make, tmp_path)


@pytest.mark.parametrize("hw, size, unbatched", [((7, 9), (3, 5), False), ((10, 7), (4, 2), False),
                                                 ((5, 5), (3, 3), True), ((7, 9), (7, 4), True)])
def test_uneven_adaptive_max_indices_match_torch(torch, hw, size, unbatched, tmp_path):
    """Values and indices of ONNX Runtime, Myelin and PyTorch agree, ties included (first maximum wins)."""
    shape = (2, *hw) if unbatched else (3, 2, *hw)
    rng = np.random.default_rng(sum(hw))
    ties = lambda: np.round(rng.random(shape) * 3).astype(np.float32)
    pool = AdaptiveMaxPool2d(size, return_indices=True)
    export(pool, ties(), tmp_path / "m.onnx", dynamic_batch=not unbatched)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    for _ in range(3):
        x = ties()
        values, index = session.run(None, {"input": x})
        want_v, want_i = torch.nn.functional.adaptive_max_pool2d(torch.tensor(x), size, return_indices=True)
        mine_v, mine_i = pool(myelin.tensor(x))
        assert index.dtype == np.int64 and np.array_equal(index, want_i.numpy())
        assert np.array_equal(values, want_v.numpy()) and np.array_equal(mine_i.data, index)
        assert np.array_equal(mine_v.data, values)


@pytest.mark.parametrize("as_tensor", [False, True])
def test_float64_model_exports_as_double(as_tensor, tmp_path):
    """A float64 model exports with float64 inputs, weights and outputs (NumPy examples take the model's dtype)."""
    myelin.manual_seed(0)
    model = Sequential(Linear(4, 8), A.Tanh(), Linear(8, 3), A.LogSoftmax(dim=1)).double()
    example = rand(3, 4).astype(np.float64)
    example = myelin.tensor(example, dtype=myelin.float64) if as_tensor else example
    proto = export(model, example, tmp_path / "m.onnx")
    double = onnx.TensorProto.DOUBLE
    assert proto.graph.input[0].type.tensor_type.elem_type == double
    assert proto.graph.output[0].type.tensor_type.elem_type == double
    assert all(t.data_type == double for t in proto.graph.initializer if t.name.endswith(("weight", "bias")))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).standard_normal((5, 4))
    got = session.run(None, {"input": x})[0]
    with myelin.no_grad():
        want = model(myelin.tensor(x, dtype=myelin.float64)).data
    assert got.dtype == np.float64 and np.max(np.abs(got - want)) < 1e-12
