"""Dtype inference and promotion follow PyTorch where PyTorch is explicit (issue 13, item 4; docs/DESIGN.md)."""

import numpy as np
import pytest

import myelin

_TORCH_NAMES = {"float16": "float16", "float32": "float32", "float64": "float64", "int32": "int32",
                "int64": "int64", "bool": "bool", "uint8": "uint8"}


def _name(dtype) -> str:
    return str(dtype).replace("torch.", "")


CONSTRUCTOR_INPUTS = [
    1.5, 2, True, [1.0, 2.0], [1, 2], [[1.0], [2.0]], (1.0, 2),
    np.float64(1.5), np.float32(1.5), np.float16(1.5), np.int32(3), np.int64(3),
    np.array([1.0, 2.0]), np.array([1.0], dtype=np.float32), np.array([1.0], dtype=np.float16),
    np.array([1, 2], dtype=np.int32), np.array([True, False]), np.array(2.5),
    [np.float64(1.0), 2.0], [[np.float64(1.0)], [2.0]], [np.float32(1.0), 2.0],
]


@pytest.mark.parametrize("data", CONSTRUCTOR_INPUTS, ids=lambda d: f"{type(d).__name__}:{np.asarray(d).dtype}")
def test_tensor_infers_dtype_as_torch(torch, data):
    expected = _name(torch.tensor(data).dtype)
    assert str(myelin.tensor(data).dtype) == expected
    if isinstance(data, np.ndarray):
        assert str(myelin.as_tensor(data).dtype) == _name(torch.as_tensor(data).dtype)
        assert str(myelin.from_numpy(data).dtype) == _name(torch.from_numpy(data).dtype)


def test_as_tensor_and_from_numpy_share_memory():
    a = np.zeros(3)
    assert myelin.as_tensor(a).data is a and myelin.from_numpy(a).data is a
    assert myelin.as_tensor(a).dtype == np.float64


DTYPES = ["float32", "float64", "int64", "int32"]
SHAPES = [(), (3,)]


@pytest.mark.parametrize("op", ["add", "sub", "mul", "truediv"])
@pytest.mark.parametrize("da", DTYPES)
@pytest.mark.parametrize("db", DTYPES)
@pytest.mark.parametrize("sa", SHAPES)
@pytest.mark.parametrize("sb", SHAPES)
def test_binary_promotion_between_tensors(torch, op, da, db, sa, sb):
    a = np.full(sa, 3, dtype=da)
    b = np.full(sb, 2, dtype=db)
    fn = getattr(__import__("operator"), op)
    expected = fn(torch.from_numpy(a), torch.from_numpy(b))
    got = fn(myelin.from_numpy(a), myelin.from_numpy(b))
    assert str(got.dtype) == _name(expected.dtype), f"{da}{sa} {op} {db}{sb}"
    np.testing.assert_allclose(got.data, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("scalar", [2, 2.5, True])
@pytest.mark.parametrize("dtype", DTYPES)
def test_python_numbers_do_not_widen(torch, scalar, dtype):
    a = np.arange(1, 4).astype(dtype)
    for fn in (lambda t: t * scalar, lambda t: scalar * t, lambda t: t + scalar, lambda t: t / 2):
        assert str(fn(myelin.from_numpy(a)).dtype) == _name(fn(torch.from_numpy(a)).dtype)


def test_mixed_float_gradients_keep_each_leafs_dtype(torch):
    a32 = myelin.tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b64 = myelin.tensor(np.array([3.0, 4.0]), requires_grad=True)
    out = (a32 * b64).sum()
    assert out.dtype == np.float64
    out.backward()
    assert a32.grad.dtype == np.float32 and b64.grad.dtype == np.float64
    np.testing.assert_allclose(a32.grad.data, [3.0, 4.0])


def test_matmul_refuses_mixed_dtypes_as_torch(torch):
    with pytest.raises(RuntimeError):
        torch.ones(2, 2) @ torch.ones(2, 2, dtype=torch.float64)
    with pytest.raises(TypeError, match=r"matmul: operands have dtypes float32 and float64.*\.float\(\)"):
        myelin.ones(2, 2) @ myelin.ones(2, 2, dtype=np.float64)


def test_linear_names_the_mismatch_and_the_cure():
    layer = myelin.nn.Linear(2, 1)
    with pytest.raises(TypeError, match="float64"):
        layer(myelin.tensor(np.ones((1, 2))))
    assert layer(np.ones((1, 2))).dtype == np.float32  # NumPy data given to a module is taken as float32
