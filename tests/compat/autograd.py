"""Automatic differentiation with torch.autograd, then a manual SGD loop (PyTorch's Autograd tutorial)."""

import numpy as np
import torch

rng = np.random.default_rng(0)  # the same starting weights in every run

x = torch.ones(5)
y = torch.zeros(3)
w = torch.tensor(rng.standard_normal((5, 3)), dtype=torch.float32, requires_grad=True)
b = torch.tensor(rng.standard_normal(3), dtype=torch.float32, requires_grad=True)
z = torch.matmul(x, w) + b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")
print(f"RESULT has_grad_fn {z.grad_fn is not None} {loss.grad_fn is not None}")

loss.backward()
print(w.grad)
print(b.grad)
print(f"RESULT loss {loss.item():.6f}")
print(f"RESULT w_grad {np.round(w.grad.numpy(), 6).tolist()}")
print(f"RESULT b_grad {np.round(b.grad.numpy(), 6).tolist()}")

z = torch.matmul(x, w) + b
print(z.requires_grad)
with torch.no_grad():
    z = torch.matmul(x, w) + b
print(z.requires_grad)
z = torch.matmul(x, w) + b
z_det = z.detach()
print(z_det.requires_grad)
print(f"RESULT requires_grad {z.requires_grad} {z_det.requires_grad}")

inp = torch.eye(4, 5, requires_grad=True)
out = (inp + 1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nSecond call\n{inp.grad}")
print(f"RESULT accumulated {inp.grad.tolist()}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\nCall after zeroing gradients\n{inp.grad}")
print(f"RESULT zeroed {inp.grad.tolist()}")

# A manual SGD loop: fit y = 2x - 1 with a weight and a bias
xs = torch.linspace(-1, 1, 20).unsqueeze(1)
ys = 2 * xs - 1
weight = torch.zeros(1, 1, requires_grad=True)
bias = torch.zeros(1, requires_grad=True)
learning_rate = 0.1
for step in range(100):
    pred = xs @ weight + bias
    loss = ((pred - ys) ** 2).mean()
    loss.backward()
    with torch.no_grad():
        weight -= learning_rate * weight.grad
        bias -= learning_rate * bias.grad
        weight.grad.zero_()
        bias.grad.zero_()
print(f"RESULT sgd_weight {weight.item():.4f} sgd_bias {bias.item():.4f} sgd_loss {loss.item():.6f}")
print(f"RESULT grad_norm {torch.tensor([3.0, 4.0]).norm().item():.4f}")
