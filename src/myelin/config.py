"""Model architectures from TOML files: ``[[layers]]`` tables, each a layer type and its arguments.

Example (``examples/configs/digits_mlp.toml``)::

    [model]
    input_shape = [1, 8, 8]     # one sample, without the batch dimension (optional)

    [[layers]]
    type = "Flatten"

    [[layers]]
    type = "Linear"
    in_features = 64
    out_features = 10

:func:`load_model_config` parses and checks a file; :func:`build_model` turns the result into an
``nn.Sequential`` through the layer registry (``myelin.nn.registry.from_config``), so only known
layer types can be built and a file never runs code. Every error is a :class:`ConfigError` naming
the file, the layer index and the problem. Files over 1 MB or with more than 10,000 layers are refused.

TOML is read with :mod:`tomllib` (Python 3.11+); on Python 3.10 a minimal reader covers the subset
these files use (tables, arrays of tables, strings, numbers, booleans and arrays).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ._plural import counted
from .nn.registry import ConfigError  # the registry's error: callers catch one class

__all__ = [
    "MAX_BYTES",
    "MAX_LAYERS",
    "ConfigError",
    "ModelConfig",
    "build_model",
    "check_model_config",
    "load_model",
    "load_model_config",
    "parse_toml",
]

MAX_BYTES = 1_000_000
MAX_LAYERS = 10_000



class ModelConfig:
    """A checked model file: ``layers`` (list of ``{"type": ..., "args": {...}}``) and ``input_shape``."""

    def __init__(self, layers: list[dict[str, Any]], input_shape: tuple[int, ...] | None, source: str) -> None:
        self.layers = layers
        self.input_shape = input_shape
        self.source = source

    def __repr__(self) -> str:
        return f"ModelConfig({counted(len(self.layers), 'layer')}, input_shape={self.input_shape}, source={self.source!r})"


# --------------------------------------------------------------------------------------------- TOML


def parse_toml(text: str, source: str = "<string>") -> dict[str, Any]:
    """Parse TOML text with :mod:`tomllib`, or the minimal fallback on Python 3.10."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python 3.10
        return _MiniToml(text, source).parse()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_NUMBER = re.compile(r"[+-]?(\d[\d_]*)?(\.\d[\d_]*)?([eE][+-]?\d+)?")
_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


class _MiniToml:
    """A small TOML reader for Python 3.10: tables, arrays of tables, dotted-free keys, strings, numbers,
    booleans and (multi-line) arrays. Anything else is a clear :class:`ConfigError`."""

    def __init__(self, text: str, source: str) -> None:
        self.s, self.i, self.source = text, 0, source

    def error(self, what: str) -> ConfigError:
        line = self.s.count("\n", 0, self.i) + 1
        return ConfigError(f"{self.source}: invalid TOML at line {line}: {what}")

    def skip(self, newlines: bool = False) -> None:
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.i += 1
            elif ch == "#":
                while self.i < len(self.s) and self.s[self.i] != "\n":
                    self.i += 1
            else:
                break

    def key(self) -> str:
        self.skip()
        if self.i < len(self.s) and self.s[self.i] in "\"'":
            return self.string()
        m = _BARE_KEY.match(self.s, self.i)
        if not m:
            raise self.error("expected a key")
        self.i = m.end()
        return m.group()

    def parse(self) -> dict[str, Any]:
        root: dict[str, Any] = {}
        table = root
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.s):
                return root
            if self.s.startswith("[[", self.i):
                self.i += 2
                name = self.key()
                self.expect("]]")
                items = root.setdefault(name, [])
                if not isinstance(items, list):
                    raise self.error(f"{name!r} is already a table")
                table = {}
                items.append(table)
            elif self.s[self.i] == "[":
                self.i += 1
                name = self.key()
                self.expect("]")
                if name in root:
                    raise self.error(f"table [{name}] defined twice")
                table = root[name] = {}
            else:
                name = self.key()
                self.skip()
                self.expect("=")
                if name in table:
                    raise self.error(f"key {name!r} defined twice")
                table[name] = self.value()
            self.skip()
            if self.i < len(self.s) and self.s[self.i] != "\n":
                raise self.error("expected the end of the line")

    def expect(self, token: str) -> None:
        self.skip()
        if not self.s.startswith(token, self.i):
            raise self.error(f"expected {token!r}")
        self.i += len(token)

    def string(self) -> str:
        quote = self.s[self.i]
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s) and self.s[self.i] != quote:
            ch = self.s[self.i]
            if ch == "\n":
                break
            if ch == "\\" and quote == '"':
                self.i += 1
                esc = self.s[self.i : self.i + 1]
                if esc in _ESCAPES:
                    out.append(_ESCAPES[esc])
                elif esc in ("u", "U"):
                    n = 4 if esc == "u" else 8
                    try:
                        out.append(chr(int(self.s[self.i + 1 : self.i + 1 + n], 16)))
                    except ValueError:
                        raise self.error("bad unicode escape") from None
                    self.i += n
                else:
                    raise self.error(f"unknown escape \\{esc}")
            else:
                out.append(ch)
            self.i += 1
        if self.i >= len(self.s) or self.s[self.i] != quote:
            raise self.error("unterminated string")
        self.i += 1
        return "".join(out)

    def value(self) -> Any:
        self.skip()
        s, i = self.s, self.i
        if i >= len(s):
            raise self.error("expected a value")
        if s[i] in "\"'":
            if s.startswith(s[i] * 3, i):
                raise self.error("multi-line strings need Python 3.11+")
            return self.string()
        if s[i] == "[":
            self.i += 1
            items = []
            while True:
                self.skip(newlines=True)
                if self.s.startswith("]", self.i):
                    self.i += 1
                    return items
                items.append(self.value())
                self.skip(newlines=True)
                if self.s.startswith(",", self.i):
                    self.i += 1
                elif not self.s.startswith("]", self.i):
                    raise self.error("expected ',' or ']' in an array")
        for word, val in (("true", True), ("false", False), ("inf", float("inf")), ("+inf", float("inf")),
                          ("-inf", float("-inf")), ("nan", float("nan"))):
            if s.startswith(word, i) and not s[i + len(word) : i + len(word) + 1].isalnum():
                self.i += len(word)
                return val
        m = _NUMBER.match(s, i)
        if not m or not m.group(1):
            raise self.error("expected a string, number, boolean or array (inline tables need Python 3.11+)")
        self.i = m.end()
        text = m.group().replace("_", "")
        return float(text) if (m.group(2) or m.group(3)) else int(text)


# ------------------------------------------------------------------------------------------- checks


def _check_shape(value: Any, where: str) -> tuple[int, ...]:
    if (not isinstance(value, list) or not value or len(value) > 8
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value)):
        raise ConfigError(f"{where}: [model] input_shape must be a list of 1 to 8 positive integers, got {value!r}")
    return tuple(value)


def check_model_config(doc: dict[str, Any], source: str) -> ModelConfig:
    """Check a parsed TOML document's structure (not yet the layers' arguments)."""
    unknown = sorted(set(doc) - {"model", "layers"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level entry {unknown[0]!r}; expected [model] and [[layers]]")
    model = doc.get("model", {})
    if not isinstance(model, dict):
        raise ConfigError(f"{source}: 'model' must be a table [model]")
    extra = sorted(set(model) - {"input_shape", "name", "description"})
    if extra:
        raise ConfigError(f"{source}: unknown key {extra[0]!r} in [model]; expected input_shape, name, description")
    input_shape = _check_shape(model["input_shape"], source) if "input_shape" in model else None
    layers = doc.get("layers")
    if not isinstance(layers, list) or not layers:
        raise ConfigError(f"{source}: no layers; add at least one [[layers]] table with a type, e.g. type = \"Linear\"")
    if len(layers) > MAX_LAYERS:
        raise ConfigError(f"{source}: {counted(len(layers), 'layer')}, more than the limit of {MAX_LAYERS}")
    checked = []
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict):
            raise ConfigError(f"{source}: layer {index}: expected a [[layers]] table, got {type(layer).__name__}")
        kind = layer.get("type")
        if not isinstance(kind, str) or not kind:
            raise ConfigError(f"{source}: layer {index}: missing type, e.g. type = \"Linear\"")
        args = {k: v for k, v in layer.items() if k != "type"}
        checked.append({"type": kind, "args": args})
    return ModelConfig(checked, input_shape, source)


def load_model_config(path: str | os.PathLike[str]) -> ModelConfig:
    """Read and check a TOML model file; raises FileNotFoundError or :class:`ConfigError`."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"no model config file at {p}")
    size = p.stat().st_size
    if size > MAX_BYTES:
        raise ConfigError(f"{p}: {counted(size, 'byte')}, larger than the 1 MB limit for model configs")
    try:
        text = p.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return check_model_config(parse_toml(text, str(p)), str(p))


# -------------------------------------------------------------------------------------------- build


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def build_model(config: ModelConfig, check_forward: bool = True) -> Any:
    """Build ``nn.Sequential(*layers)`` through the registry; with ``input_shape`` and ``check_forward``,
    run one sample through it so shape mismatches are reported now, naming the layer."""
    from .nn import Sequential
    from .nn.registry import from_config

    modules = []
    for index, layer in enumerate(config.layers):
        try:
            modules.append(from_config(layer))
        except (ValueError, TypeError, KeyError) as exc:
            raise ConfigError(f"{config.source}: layer {index} ({layer['type']}): {_one_line(exc)}") from None
    model = Sequential(*modules)
    if check_forward and config.input_shape is not None:
        _dry_run(model, modules, config)
    return model


def _dry_run(model: Any, modules: list[Any], config: ModelConfig) -> None:
    import numpy as np

    from . import no_grad, tensor

    x: Any = tensor(np.zeros((2, *config.input_shape), dtype=np.float32))
    was_training = getattr(model, "training", True)
    model.eval()
    try:
        with no_grad():
            for index, module in enumerate(modules):
                try:
                    x = module(x)
                except (ValueError, TypeError, IndexError) as exc:
                    raise ConfigError(
                        f"{config.source}: layer {index} ({config.layers[index]['type']}) does not accept the "
                        f"output of the layers before it: {_one_line(exc)}"
                    ) from None
                following = config.layers[index + 1]["type"] if index + 1 < len(modules) else None
                if isinstance(x, tuple) and following != "RNNOutput":
                    raise ConfigError(
                        f"{config.source}: layer {index} ({config.layers[index]['type']}) returns a tuple "
                        "(output, state); add a layer with type = \"RNNOutput\" after it (last_step = true to keep "
                        "only the last time step)"
                    )
    finally:
        model.train(was_training)


def load_model(path: str | os.PathLike[str]) -> tuple[Any, ModelConfig]:
    """Read, check and build a TOML model file: returns ``(model, config)``."""
    config = load_model_config(path)
    return build_model(config), config
