# ruff: noqa: PLR0402, RUF059, B008, C401 - written as the tutorial writes it, on purpose
"""Classifying names with a character-level RNN (PyTorch's NLP From Scratch tutorial, shrunk).

The names data set is generated here: made-up names whose spelling habits differ by "language".
"""

import random
import string
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import Dataset

device = torch.device("cpu")
if torch.accelerator.is_available():
    device = torch.accelerator.current_accelerator().type
torch.set_default_device(device)
print(f"Using device = {torch.get_default_device()}")

allowed_characters = string.ascii_letters + " .,;'"
n_letters = len(allowed_characters)


def letterToIndex(letter):
    return allowed_characters.find(letter)


def lineToTensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][letterToIndex(letter)] = 1
    return tensor


print(f"RESULT letter_a {letterToIndex('a')} shape {list(lineToTensor('Jones').shape)}")

# made-up names: each "language" has its own syllables
syllables = {
    "Italian": ["ri", "ni", "lo", "ta", "bel", "gio", "chi"],
    "Japanese": ["ka", "shi", "mo", "to", "ya", "su", "ki"],
    "Russian": ["ov", "sky", "vin", "ko", "zh", "ev", "pol"],
    "Scottish": ["mac", "gor", "don", "ald", "kin", "ross", "bur"],
}
rng = np.random.default_rng(0)
names = []
for language, parts in syllables.items():
    for _ in range(60):
        n = int(rng.integers(2, 4))
        names.append(("".join(rng.choice(parts, size=n)).capitalize(), language))


class NamesDataset(Dataset):
    def __init__(self, pairs):
        self.data, self.data_tensors, self.labels, self.labels_tensors = [], [], [], []
        self.labels_uniq = sorted(set(label for _, label in pairs))
        for name, label in pairs:
            self.data.append(name)
            self.data_tensors.append(lineToTensor(name))
            self.labels.append(label)
        for idx in range(len(self.labels)):
            temp_tensor = torch.tensor([self.labels_uniq.index(self.labels[idx])], dtype=torch.long)
            self.labels_tensors.append(temp_tensor)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, idx):
        data_item = self.data[idx]
        data_label = self.labels[idx]
        data_tensor = self.data_tensors[idx]
        label_tensor = self.labels_tensors[idx]
        return label_tensor, data_tensor, data_label, data_item


alldata = NamesDataset(names)
print(f"loaded {len(alldata)} items of data")
train_set, test_set = torch.utils.data.random_split(alldata, [.85, .15],
                                                    generator=torch.Generator(device=device).manual_seed(2024))
print(f"train examples = {len(train_set)}, validation examples = {len(test_set)}")
print(f"RESULT split {len(train_set)} {len(test_set)}")


class CharRNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, line_tensor):
        rnn_out, hidden = self.rnn(line_tensor)
        output = self.h2o(hidden[0])
        output = self.softmax(output)
        return output


torch.manual_seed(0)
n_hidden = 64
rnn = CharRNN(n_letters, n_hidden, len(alldata.labels_uniq))
print(rnn)


def label_from_output(output, output_labels):
    top_n, top_i = output.topk(1)
    label_i = top_i[0].item()
    return output_labels[label_i], label_i


def train(rnn, training_data, n_epoch=10, n_batch_size=64, report_every=50, learning_rate=0.2,
          criterion=nn.NLLLoss()):
    current_loss = 0
    all_losses = []
    rnn.train()
    optimizer = torch.optim.SGD(rnn.parameters(), lr=learning_rate)
    start = time.time()
    print(f"training on data set with n = {len(training_data)}")
    for iter in range(1, n_epoch + 1):
        rnn.zero_grad()
        batches = list(range(len(training_data)))
        random.shuffle(batches)
        batches = np.array_split(batches, len(batches) // n_batch_size)
        for idx, batch in enumerate(batches):
            batch_loss = 0
            for i in batch:
                (label_tensor, text_tensor, label, text) = training_data[i]
                output = rnn.forward(text_tensor)
                loss = criterion(output, label_tensor)
                batch_loss += loss
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            current_loss += batch_loss.item() / len(batch)
        all_losses.append(current_loss / len(batches))
        if iter % report_every == 0:
            print(f"{iter} ({iter / n_epoch:.0%}): \t average batch loss = {all_losses[-1]}")
        current_loss = 0
    print(f"took {time.time() - start:.1f} s")
    return all_losses


random.seed(0)
all_losses = train(rnn, train_set, n_epoch=6, learning_rate=0.15, report_every=2)
print(f"RESULT loss_fell {all_losses[-1] < all_losses[0]}")


def evaluate(rnn, testing_data, classes):
    confusion = torch.zeros(len(classes), len(classes))
    rnn.eval()
    with torch.no_grad():
        for i in range(len(testing_data)):
            (label_tensor, text_tensor, label, text) = testing_data[i]
            output = rnn(text_tensor)
            guess, guess_i = label_from_output(output, classes)
            label_i = classes.index(label)
            confusion[label_i][guess_i] += 1
    correct = confusion.diag().sum() / confusion.sum()
    for i in range(len(classes)):
        denom = confusion[i].sum()
        if denom > 0:
            confusion[i] = confusion[i] / denom
    return correct.item(), confusion


accuracy, confusion = evaluate(rnn, test_set, classes=alldata.labels_uniq)
print(f"RESULT accuracy {accuracy:.4f}")
print(f"RESULT confusion_rows {confusion.sum(1).round().tolist()}")
