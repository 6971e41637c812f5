# ruff: noqa: PLR0402 - the tutorial spellings (import torch.nn as nn) are the point of these scripts
"""Saving and loading: state dicts, whole models, a training checkpoint (PyTorch's Save and Load tutorial)."""

import os

import torch
import torch.nn as nn
import torch.optim as optim

folder = os.environ.get("COMPAT_TMP", ".")
torch.manual_seed(0)

model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
torch.save(model.state_dict(), os.path.join(folder, "model_weights.pth"))

model2 = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
model2.load_state_dict(torch.load(os.path.join(folder, "model_weights.pth"), weights_only=True))
model2.eval()
x = torch.randn(5, 4)
print(f"RESULT same_outputs {torch.allclose(model(x), model2(x))}")

torch.save(model, os.path.join(folder, "model.pth"))
model3 = torch.load(os.path.join(folder, "model.pth"), weights_only=False)
print(f"RESULT whole_model {torch.allclose(model(x), model3(x))}")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


net = Net()
optimizer = optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
criterion = nn.CrossEntropyLoss()
inputs, targets = torch.randn(32, 4), torch.randint(0, 2, (32,))
for epoch in range(5):
    optimizer.zero_grad()
    loss = criterion(net(inputs), targets)
    loss.backward()
    optimizer.step()

net_optimizer = optimizer
PATH = os.path.join(folder, "checkpoint.pt")
torch.save({
    "epoch": epoch,
    "model_state_dict": net.state_dict(),
    "optimizer_state_dict": optimizer.state_dict(),
    "loss": loss,
}, PATH)

model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
checkpoint = torch.load(PATH, weights_only=True)
model.load_state_dict(checkpoint["model_state_dict"])
optimizer.load_state_dict(checkpoint["optimizer_state_dict"])
epoch = checkpoint["epoch"]
loss = checkpoint["loss"]
model.train()
print(f"RESULT checkpoint_epoch {epoch} loss_is_tensor {torch.is_tensor(loss)}")

for m, opt in ((net, net_optimizer), (model, optimizer)):
    opt.zero_grad()
    criterion(m(inputs), targets).backward()
    opt.step()
same = all(torch.equal(a, b) for a, b in zip(net.parameters(), model.parameters()))
print(f"RESULT resumed_identically {same}")
