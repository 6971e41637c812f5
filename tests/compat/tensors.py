"""Tensors: creating, attributes, operations, the bridge to NumPy (PyTorch's Tensors tutorial)."""

import numpy as np
import torch

data = [[1, 2], [3, 4]]
x_data = torch.tensor(data)
np_array = np.array(data)
x_np = torch.from_numpy(np_array)
print(f"RESULT from_numpy {x_np.tolist()}")

x_ones = torch.ones_like(x_data)
print(f"Ones Tensor: \n {x_ones} \n")
x_rand = torch.rand_like(x_data, dtype=torch.float)
print(f"Random Tensor: \n {x_rand} \n")
print(f"RESULT rand_like_shape {list(x_rand.shape)}")

shape = (2, 3,)
rand_tensor = torch.rand(shape)
ones_tensor = torch.ones(shape)
zeros_tensor = torch.zeros(shape)
print(f"RESULT ones {ones_tensor.tolist()} zeros {zeros_tensor.sum().item()} rand {list(rand_tensor.shape)}")

tensor = torch.rand(3, 4)
print(f"Shape of tensor: {tensor.shape}")
print(f"Datatype of tensor: {tensor.dtype}")
print(f"Device tensor is stored on: {tensor.device}")
print(f"RESULT float32 {tensor.dtype == torch.float32} cpu {tensor.device.type} shape {list(tensor.shape)}")

if torch.accelerator.is_available():
    tensor = tensor.to(torch.accelerator.current_accelerator())

tensor = torch.ones(4, 4)
print(f"First row: {tensor[0]}")
print(f"First column: {tensor[:, 0]}")
print(f"Last column: {tensor[..., -1]}")
tensor[:, 1] = 0
print(tensor)
print(f"RESULT zero_column {tensor.tolist()}")

t1 = torch.cat([tensor, tensor, tensor], dim=1)
print(f"RESULT cat {list(t1.shape)} {t1.sum().item()}")

y1 = tensor @ tensor.T
y2 = tensor.matmul(tensor.T)
y3 = torch.rand_like(y1)
y3 = torch.matmul(tensor, tensor.T)
z1 = tensor * tensor
z2 = tensor.mul(tensor)
z3 = torch.rand_like(tensor)
z3 = torch.mul(tensor, tensor)
print(f"RESULT matmul {y1.tolist()} {torch.equal(y1, y2)} {torch.equal(y1, y3)}")
print(f"RESULT mul {z1.tolist()} {torch.equal(z1, z2)} {torch.equal(z1, z3)}")

agg = tensor.sum()
agg_item = agg.item()
print(agg_item, type(agg_item))
print(f"RESULT agg {agg_item} {type(agg_item).__name__}")

print(f"{tensor} \n")
tensor.add_(5)
print(tensor)
print(f"RESULT add_ {tensor.tolist()}")

t = torch.ones(5)
print(f"t: {t}")
n = t.numpy()
print(f"n: {n}")
t.add_(1)
print(f"t: {t}")
print(f"n: {n}")
print(f"RESULT shared_memory {n.tolist()}")

n = np.ones(5)
t = torch.from_numpy(n)
np.add(n, 1, out=n)
print(f"t: {t}")
print(f"n: {n}")
print(f"RESULT from_numpy_shared {t.tolist()} {t.dtype == torch.float64}")

a = torch.arange(12).reshape(3, 4)
print(f"RESULT reshape_view {a.view(4, 3).tolist()} {a.t().shape[0]} {a.flatten().tolist()[-1]}")
print(f"RESULT stack {torch.stack([a, a]).shape[0]} {a.argmax().item()} {a.max(dim=1).values.tolist()}")
print(f"RESULT type {a.type(torch.float).dtype == torch.float} {a.float().mean().item()} {a.long().dtype == torch.int64}")
