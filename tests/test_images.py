"""``myelin predict`` images: Pillow reads every kind when installed; without it, PNGs only and a one-line hint."""

from __future__ import annotations

import json

import numpy as np
import pytest

import myelin
from myelin import nn
from myelin.cli import _png, main
from myelin.cli._files import RUN_FACTS_KEY
from myelin.cli._png import PNGError, read_image

PIL = pytest.importorskip("PIL.Image", reason="Pillow is not installed (the [image] extra)")


def _digit() -> np.ndarray:
    img = np.full((16, 16), 255, np.uint8)
    img[3:13, 7:9] = 0  # a dark "1" on white
    return img


@pytest.mark.parametrize("mode, suffix", [("P", ".png"), ("1", ".png"), ("I;16", ".png"), ("L", ".jpg"),
                                          ("RGB", ".bmp"), ("RGBA", ".webp"), ("CMYK", ".tiff"), ("L", ".gif")])
def test_pillow_reads_kinds_the_png_reader_refuses(tmp_path, mode, suffix):
    base = PIL.fromarray(_digit())
    if mode == "I;16":
        img = PIL.fromarray(_digit().astype(np.uint16) * 257)
    else:
        img = base.convert(mode)
    path = tmp_path / f"digit{suffix}"
    img.save(path)
    arr = read_image(path)
    assert arr.dtype == np.uint8 and arr.ndim == 3 and arr.shape[:2] == (16, 16)
    gray = _png.to_grayscale(arr)
    assert gray[8, 7] < 0.3 and gray[1, 1] > 0.7  # the stroke is dark, the paper light, whatever the format


def test_without_pillow_png_still_reads_and_others_get_a_one_line_hint(tmp_path, monkeypatch):
    monkeypatch.setattr(_png, "_pillow", lambda: None)
    plain = tmp_path / "plain.png"
    PIL.fromarray(_digit()).save(plain)
    assert read_image(plain).shape == (16, 16, 1)
    jpeg = tmp_path / "d.jpg"
    PIL.fromarray(_digit()).save(jpeg)
    with pytest.raises(PNGError, match=r"only PNGs are read without Pillow; install Pillow .*\.\[image\]"):
        read_image(jpeg)
    palette = tmp_path / "p.png"
    PIL.fromarray(_digit()).convert("P").save(palette)
    with pytest.raises(PNGError, match=r"colour type 3 not supported.*install Pillow"):
        read_image(palette)


def test_pillow_refuses_a_huge_image_before_decoding(tmp_path):
    path = tmp_path / "big.png"
    PIL.new("L", (5000, 10)).save(path)
    with pytest.raises(PNGError, match="too large"):
        read_image(path)
    (tmp_path / "fake.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    with pytest.raises(PNGError, match="not an image Pillow can read"):
        read_image(tmp_path / "fake.jpg")


def test_predict_classifies_a_jpeg(tmp_path, capsys):
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    path = tmp_path / "m.safetensors"
    myelin.save(model, path, metadata={RUN_FACTS_KEY: json.dumps({"input_shape": [1, 8, 8]})})
    jpeg = tmp_path / "d.jpg"
    PIL.fromarray(_digit()).save(jpeg)
    assert main(["predict", str(path), str(jpeg)]) == 0
    assert capsys.readouterr().out.startswith("predicted class: ")


def test_the_pure_python_png_reader_bounds_its_time(tmp_path, monkeypatch):
    import sys
    import time
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from test_cli import png_bytes

    monkeypatch.setattr(_png, "_pillow", lambda: None)
    img = np.random.default_rng(0).integers(0, 256, (1024, 1024, 4)).astype(np.uint8)
    path = tmp_path / "big.png"
    path.write_bytes(png_bytes(img, filters=(3, 4)))
    start = time.monotonic()
    with pytest.raises(PNGError, match="Average/Paeth-filtered rows .* install Pillow"):
        read_image(path)
    assert time.monotonic() - start < 3
    assert read_image.__module__ == "myelin.cli._png" and PIL.open(path).size == (1024, 1024)
