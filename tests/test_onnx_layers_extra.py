"""ONNX export of the layers added for PyTorch parity (issue 16), checked in onnxruntime at two batch sizes
(the same ``roundtrip`` as tests/test_onnx.py: onnx.checker, then outputs within 1e-5 of Myelin's)."""

from __future__ import annotations

import numpy as np
import pytest

import myelin
import myelin.nn.functional as F
from myelin import nn

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from test_onnx import rand, roundtrip  # after the skips: test_onnx needs onnx


def img(c, h, w):
    return lambda b: rand(b, c, h, w)


def seq(length, n):
    return lambda b: rand(b, length, n)


def seq_first(length, n):
    return lambda b: rand(length, b, n)


def _running_stats(m):
    rng = np.random.default_rng(1)
    m.running_mean[...] = rng.standard_normal(m.num_features)
    m.running_var[...] = rng.uniform(0.5, 2.0, m.num_features)
    return m


class SelfAttention(nn.Module):
    """``attn(x, x, x)``: both outputs (the weights averaged over heads, or per head)."""

    def __init__(self, attn, average=True):
        super().__init__()
        self.attn, self.average = attn, average

    def forward(self, x):
        return self.attn(x, x, x, average_attn_weights=self.average)


LAYERS = {
    "maxpool1d": (lambda: nn.MaxPool1d(3, 2, 1), lambda b: rand(b, 3, 11)),
    "maxpool1d_ceil": (lambda: nn.MaxPool1d(3, 2, ceil_mode=True), lambda b: rand(b, 3, 10)),
    "maxpool1d_indices": (lambda: nn.MaxPool1d(2, return_indices=True), lambda b: rand(b, 3, 10)),
    "avgpool1d": (lambda: nn.AvgPool1d(3, 2, 1, count_include_pad=False), lambda b: rand(b, 3, 11)),
    "avgpool1d_ceil": (lambda: nn.AvgPool1d(3, 2, 1, ceil_mode=True), lambda b: rand(b, 3, 10)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), img(3, 5, 6)),
    "conv_transpose2d_groups": (lambda: nn.ConvTranspose2d(4, 6, (3, 2), stride=(1, 2), groups=2, dilation=2,
                                                           bias=False), img(4, 5, 6)),
    "conv_transpose1d": (lambda: nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1), lambda b: rand(b, 3, 7)),
    "upsample_nearest": (lambda: nn.Upsample(scale_factor=2), img(3, 4, 5)),
    "upsample_bilinear": (lambda: nn.Upsample(size=(7, 9), mode="bilinear"), img(3, 4, 5)),
    "upsample_bilinear_corners": (lambda: nn.UpsamplingBilinear2d(scale_factor=1.5), img(3, 4, 5)),
    "upsample_linear": (lambda: nn.Upsample(scale_factor=2.5, mode="linear"), lambda b: rand(b, 3, 6)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), img(4, 3, 5)),
    "groupnorm_noaffine_3d": (lambda: nn.GroupNorm(3, 6, affine=False), lambda b: rand(b, 6, 7)),
    "instancenorm2d": (lambda: nn.InstanceNorm2d(3, affine=True), img(3, 4, 5)),
    "instancenorm1d_running": (lambda: _running_stats(nn.InstanceNorm1d(3, track_running_stats=True)),
                               lambda b: rand(b, 3, 8)),
    "prelu": (lambda: nn.PReLU(), img(3, 4, 4)),
    "prelu_channels": (lambda: nn.PReLU(3, init=0.1), img(3, 4, 4)),
    "mish": (nn.Mish, lambda b: rand(b, 7, scale=4.0)),
    "hardswish": (nn.Hardswish, lambda b: rand(b, 7, scale=4.0)),
    "mha_self": (lambda: SelfAttention(nn.MultiheadAttention(8, 2)), seq_first(5, 8)),
    "mha_batch_first_per_head": (lambda: SelfAttention(nn.MultiheadAttention(8, 4, batch_first=True), False),
                                 seq(5, 8)),
    "transformer_layer": (lambda: nn.TransformerEncoderLayer(8, 2, 16), seq_first(5, 8)),
    "transformer_layer_prenorm_gelu": (lambda: nn.TransformerEncoderLayer(8, 2, 16, activation="gelu", norm_first=True,
                                                                          batch_first=True), seq(5, 8)),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer(name, tmp_path):
    myelin.manual_seed(0)
    build, make_input = LAYERS[name]
    roundtrip(build(), make_input, tmp_path)


class CrossAttention(nn.Module):
    """Two inputs, a constant causal mask and the averaged attention weights as a second output."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, kdim=6, vdim=5, batch_first=True)

    def forward(self, q, k, v):
        mask = np.triu(np.ones((4, 7), dtype=bool), k=1)
        return self.attn(q, k, v, attn_mask=mask)


def test_cross_attention_with_mask_and_weights(tmp_path):
    myelin.manual_seed(0)
    roundtrip(CrossAttention(), lambda b: (rand(b, 4, 8), rand(b, 7, 6), rand(b, 7, 5)), tmp_path)


class TinyCharTransformer(nn.Module):
    """The example's architecture in small: embeddings, a causal encoder with a final norm, a head."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8))
        self.head = nn.Linear(8, 11)

    def forward(self, ids):
        t = ids.shape[1]
        return self.head(self.encoder(self.embed(ids), mask=np.triu(np.ones((t, t), dtype=bool), k=1)))


def test_transformer_encoder_model(tmp_path):
    myelin.manual_seed(0)
    rng = np.random.default_rng(0)
    roundtrip(TinyCharTransformer(), lambda b: rng.integers(0, 11, (b, 6)), tmp_path)


class Functional(nn.Module):
    def forward(self, x):
        y = F.pad(x, (1, 2, 2, 1), mode="reflect") + F.pad(x, (1, 2, 2, 1), mode="circular")
        return F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True)


def test_functional_pad_modes_and_interpolate(tmp_path):
    roundtrip(Functional(), img(2, 4, 5), tmp_path)


class Seq2Seq(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.Transformer(8, 2, 1, 1, 16, batch_first=True)

    def forward(self, src, tgt):
        return self.transformer(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(tgt.shape[1]))


def test_encoder_decoder_transformer(tmp_path):
    myelin.manual_seed(0)
    roundtrip(Seq2Seq(), lambda b: (rand(b, 5, 8), rand(b, 4, 8)), tmp_path)


MORE = {
    "reflection_pad2d": (lambda: nn.ReflectionPad2d((1, 0, 2, 1)), img(3, 4, 5)),
    "replication_pad1d": (lambda: nn.ReplicationPad1d(2), lambda b: rand(b, 3, 5)),
    "circular_pad2d": (lambda: nn.CircularPad2d(1), img(3, 4, 5)),
    "zero_pad2d": (lambda: nn.ZeroPad2d((1, 2, 0, 1)), img(3, 4, 5)),
    "adaptive_avg1d": (lambda: nn.AdaptiveAvgPool1d(3), lambda b: rand(b, 3, 10)),
    "adaptive_max1d": (lambda: nn.AdaptiveMaxPool1d(4), lambda b: rand(b, 3, 10)),
    "adaptive_max1d_indices": (lambda: nn.AdaptiveMaxPool1d(5, return_indices=True), lambda b: rand(b, 3, 10)),
    "pixel_shuffle": (lambda: nn.PixelShuffle(2), img(8, 3, 4)),
    "pixel_unshuffle": (lambda: nn.PixelUnshuffle(2), img(2, 4, 6)),
    "hardsigmoid": (nn.Hardsigmoid, lambda b: rand(b, 7, scale=4.0)),
    "softsign": (nn.Softsign, lambda b: rand(b, 7, scale=4.0)),
    "selu": (nn.SELU, lambda b: rand(b, 7, scale=2.0)),
    "logsigmoid": (nn.LogSigmoid, lambda b: rand(b, 7, scale=2.0)),
    "dropout2d": (lambda: nn.Sequential(nn.Conv2d(3, 4, 3), nn.Dropout2d(0.5)), img(3, 5, 5)),
    "celu": (lambda: nn.CELU(0.7), lambda b: rand(b, 7, scale=2.0)),
    "softmax2d": (nn.Softmax2d, img(3, 4, 5)),
    "softmin": (lambda: nn.Softmin(dim=1), lambda b: rand(b, 7)),
    "softshrink": (lambda: nn.Softshrink(0.6), lambda b: rand(b, 7, scale=2.0)),
    "hardshrink": (lambda: nn.Hardshrink(0.6), lambda b: rand(b, 7, scale=2.0)),
    "tanhshrink": (nn.Tanhshrink, lambda b: rand(b, 7, scale=2.0)),
    "threshold": (lambda: nn.Threshold(0.2, -3.0), lambda b: rand(b, 7)),
    "glu": (lambda: nn.GLU(dim=1), lambda b: rand(b, 8)),
    "batchnorm3d": (lambda: _running_stats(nn.BatchNorm3d(3)), lambda b: rand(b, 3, 2, 3, 4)),
    "instancenorm3d": (lambda: nn.InstanceNorm3d(3, affine=True), lambda b: rand(b, 3, 2, 3, 4)),
}


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.bil = nn.Bilinear(3, 2, 4)

    def forward(self, a, b):
        return self.bil(a, b)


def test_bilinear(tmp_path):
    roundtrip(TwoInputs(), lambda b: (rand(b, 3), rand(b, 2)), tmp_path)


@pytest.mark.parametrize("name", sorted(MORE))
def test_more_layers(name, tmp_path):
    build, make_input = MORE[name]
    roundtrip(build(), make_input, tmp_path)
