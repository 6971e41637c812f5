"""TOML model configs (myelin.config): parsing, the 3.10 fallback reader, validation messages, building."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import myelin
from myelin.config import (
    MAX_LAYERS,
    ConfigError,
    ModelConfig,
    _MiniToml,
    build_model,
    check_model_config,
    load_model,
    load_model_config,
    parse_toml,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "configs"

DOCS = [
    'a = 1\nb = -2.5\nc = "x\\ty\\u00e9"\nd = \'lit\\n\'\ne = true\nf = [1, 2, 3]\n',
    ("# comment\n[model]\ninput_shape = [1, 8, 8] # trailing\nname = \"m\"\n\n[[layers]]\ntype = \"Flatten\"\n"
     "[[layers]]\ntype = \"Linear\"\nin_features = 64\nout_features = 10\nbias = false\n"),
    "x = [\n  1,\n  2, # two\n  3,\n]\ny = [[1, 2], [3]]\nz = 1e-3\nw = 1_000\nv = +5\nu = false\n",
    '"quoted key" = "v"\nempty = []\nnested = ["a", [true, 0.5]]\n',
]


@pytest.mark.parametrize("text", DOCS)
def test_fallback_reader_agrees_with_tomllib(text):
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    assert _MiniToml(text, "<t>").parse() == tomllib.loads(text)


@pytest.mark.parametrize("text, where", [
    ("a = \n", "line 1"),
    ("a = 1\nb = [1, 2\n", "line"),
    ("a = 1\na = 2\n", "defined twice"),
    ('a = "unterminated\n', "unterminated"),
    ("a = 1 b = 2\n", "end of the line"),
    ("[t]\n[t]\n", "defined twice"),
])
def test_fallback_reader_errors_name_the_line(text, where):
    with pytest.raises(ConfigError, match=where):
        _MiniToml(text, "cfg.toml").parse()
    with pytest.raises(ConfigError, match="cfg.toml: invalid TOML"):
        parse_toml(text, "cfg.toml")


def _write(tmp_path: Path, text: str, name: str = "model.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


MLP = """
[model]
input_shape = [1, 8, 8]

[[layers]]
type = "Flatten"

[[layers]]
type = "Linear"
in_features = 64
out_features = 16

[[layers]]
type = "ReLU"

[[layers]]
type = "Linear"
in_features = 16
out_features = 10
"""


def test_builds_a_sequential_that_runs(tmp_path):
    model, config = load_model(_write(tmp_path, MLP))
    assert isinstance(config, ModelConfig) and config.input_shape == (1, 8, 8) and len(config.layers) == 4
    assert config.layers[1] == {"type": "Linear", "args": {"in_features": 64, "out_features": 16}}
    out = model(myelin.tensor(np.zeros((3, 1, 8, 8), np.float32)))
    assert out.shape == (3, 10)
    assert isinstance(model, myelin.nn.Sequential) and len(model) == 4


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_example_configs_build(path):
    model, config = load_model(path)
    x = np.zeros((2, *config.input_shape), np.float32)
    with myelin.no_grad():
        assert model.eval()(myelin.tensor(x)).shape == (2, 10)


@pytest.mark.parametrize("body, message", [
    ('[[layers]]\ntype = "Linaer"\nin_features = 2\nout_features = 2\n', r"layer 0 \(Linaer\): .*unknown layer type.*Linear"),
    ('[[layers]]\ntype = "Flatten"\n[[layers]]\ntype = "Linear"\nin_features = 64\nout_feature = 2\n',
     r"layer 1 \(Linear\): .*unknown argument 'out_feature'"),
    ('[[layers]]\ntype = "Linear"\nin_features = 64\n', r"layer 0 \(Linear\): .*missing required argument 'out_features'"),
    ('[[layers]]\ntype = "Linear"\nin_features = -3\nout_features = 2\n', r"layer 0 \(Linear\): .*in_features"),
    ('[[layers]]\nin_features = 3\n', r"layer 0: missing type"),
    ('[model]\ninput_shape = [1, 8, 8]\n', r"no layers"),
    ('[training]\nepochs = 3\n[[layers]]\ntype = "ReLU"\n', r"unknown top-level entry 'training'"),
    ('[model]\ninput_shape = [1, 0]\n[[layers]]\ntype = "ReLU"\n', r"input_shape must be a list of 1 to 8 positive"),
    ('[model]\nshape = [1]\n[[layers]]\ntype = "ReLU"\n', r"unknown key 'shape' in \[model\]"),
    ('layers = [1, 2]\n', r"layer 0: expected a \[\[layers\]\] table"),
    ('[[layers]\ntype = "ReLU"\n', r"invalid TOML"),
])
def test_errors_name_the_layer_and_the_problem(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(ConfigError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value).strip() or "invalid TOML" in str(info.value)


def test_shape_mismatch_is_found_before_training(tmp_path):
    text = MLP.replace("in_features = 16", "in_features = 32")
    with pytest.raises(ConfigError, match=r"layer 3 \(Linear\) does not accept the output of the layers before it"):
        load_model(_write(tmp_path, text))


def test_lstm_needs_rnn_output_to_sit_in_a_sequential(tmp_path):
    text = ('[model]\ninput_shape = [5, 3]\n[[layers]]\ntype = "LSTM"\ninput_size = 3\nhidden_size = 4\n'
            'batch_first = true\n[[layers]]\ntype = "Linear"\nin_features = 4\nout_features = 2\n')
    with pytest.raises(ConfigError, match=r"layer 0 \(LSTM\) returns a tuple .*RNNOutput"):
        load_model(_write(tmp_path, text))
    fixed = text.replace('[[layers]]\ntype = "Linear"', '[[layers]]\ntype = "RNNOutput"\nlast_step = true\n'
                                                         '[[layers]]\ntype = "Linear"')
    model, _ = load_model(_write(tmp_path, fixed, "fixed.toml"))
    assert model(myelin.tensor(np.zeros((2, 5, 3), np.float32))).shape == (2, 2)


def test_size_limits(tmp_path):
    big = _write(tmp_path, "# " + "x" * 1_000_100 + "\n", "big.toml")
    with pytest.raises(ConfigError, match="larger than the 1 MB limit"):
        load_model_config(big)
    doc = {"layers": [{"type": "ReLU"}] * (MAX_LAYERS + 1)}
    with pytest.raises(ConfigError, match="more than the limit of 10000"):
        check_model_config(doc, "many.toml")


def test_missing_file_and_bad_encoding(tmp_path):
    with pytest.raises(FileNotFoundError, match="no model config file"):
        load_model_config(tmp_path / "absent.toml")
    bad = tmp_path / "latin1.toml"
    bad.write_bytes(b'# caf\xe9\n[[layers]]\ntype = "ReLU"\n')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_model_config(bad)


def test_build_without_input_shape_skips_the_dry_run():
    config = check_model_config({"layers": [{"type": "Linear", "in_features": 3, "out_features": 2}]}, "<dict>")
    model = build_model(config)
    assert model(myelin.tensor(np.ones((4, 3), np.float32))).shape == (4, 2)


def test_config_error_is_the_registry_error():
    from myelin.nn.registry import ConfigError as RegistryError

    assert ConfigError is RegistryError and issubclass(ConfigError, ValueError)
