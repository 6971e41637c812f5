# ruff: noqa: PLR0402 - the tutorial spellings (import torch.nn as nn) are the point of these scripts
"""Training an image classifier: a small CNN on the 8x8 digits (PyTorch's CIFAR-10 tutorial, shrunk)."""

import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
table = np.loadtxt(os.environ["COMPAT_DIGITS"], delimiter=",", dtype=np.float32)
images = (table[:, :64].reshape(-1, 1, 8, 8) / 16.0 - 0.5) / 0.5  # as transforms.Normalize((0.5,), (0.5,))
labels = table[:, 64].astype(np.int64)

batch_size = 32
trainset = TensorDataset(torch.tensor(images[:1400]), torch.tensor(labels[:1400]))
trainloader = DataLoader(trainset, batch_size=batch_size, shuffle=True)
testset = TensorDataset(torch.tensor(images[1400:]), torch.tensor(labels[1400:]))
testloader = DataLoader(testset, batch_size=batch_size, shuffle=False)
classes = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")

dataiter = iter(trainloader)
images_batch, labels_batch = next(dataiter)
print(" ".join(f"{classes[labels_batch[j]]:5s}" for j in range(batch_size)))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 2 * 2, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        return x


net = Net()
criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(net.parameters(), lr=0.05, momentum=0.9)

for epoch in range(4):
    running_loss = 0.0
    for i, data in enumerate(trainloader, 0):
        inputs, labels_batch = data
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels_batch)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
        if i % 20 == 19:
            print(f"[{epoch + 1}, {i + 1:5d}] loss: {running_loss / 20:.3f}")
            running_loss = 0.0
print("Finished Training")

PATH = os.path.join(os.environ.get("COMPAT_TMP", "."), "digits_net.pth")
torch.save(net.state_dict(), PATH)
net = Net()
net.load_state_dict(torch.load(PATH, weights_only=True))

correct = 0
total = 0
with torch.no_grad():
    for data in testloader:
        images_batch, labels_batch = data
        outputs = net(images_batch)
        _, predicted = torch.max(outputs, 1)
        total += labels_batch.size(0)
        correct += (predicted == labels_batch).sum().item()
print(f"Accuracy of the network on the {total} test images: {100 * correct // total} %")
print(f"RESULT accuracy {correct / total:.4f}")

correct_pred = {classname: 0 for classname in classes}
total_pred = {classname: 0 for classname in classes}
with torch.no_grad():
    for data in testloader:
        images_batch, labels_batch = data
        outputs = net(images_batch)
        _, predictions = torch.max(outputs, 1)
        for label, prediction in zip(labels_batch, predictions):
            if label == prediction:
                correct_pred[classes[label]] += 1
            total_pred[classes[label]] += 1
for classname, correct_count in correct_pred.items():
    accuracy = 100 * float(correct_count) / total_pred[classname]
    print(f"Accuracy for class: {classname:5s} is {accuracy:.1f} %")
print(f"RESULT per_class_total {sum(total_pred.values())}")
