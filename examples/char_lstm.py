"""A character-level LSTM that learns to write like Shakespeare (validation loss <= 1.7 nats per character).

The model reads text one character at a time and predicts the next one:

    ids (N, T) -Embedding-> (N, T, 64) -LSTM-> (N, T, 256) -Linear-> scores (N, T, vocab)

The LSTM carries a memory (its cell state) from step to step, so what it predicts can depend on
what came many characters before. The loss is the cross-entropy of the next character, in nats:
a uniform guess over the 76 characters costs ln 76 = 4.33; about 1.5 means the model has learned
spelling, words and the shape of a play. At the end it writes new text by sampling one character
at a time and feeding it back in.

Data: ``../shared/data/shakespeare.txt`` (eight plays, 1 MB) or ``--text PATH``. Every tenth block of
10,000 characters is held out for validation, so all eight plays appear in both parts.

Run:  python examples/char_lstm.py            (5 epochs, about 3 minutes on one core: 1.54 nats/char)
      python examples/char_lstm.py --quick    (20,000 characters, 1 epoch, for tests)
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

import myelin
from myelin import nn
from myelin.datasets import TextDataset
from myelin.nn import functional as F

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


class CharLSTM(nn.Module):
    """Embedding -> LSTM -> Linear: next-character scores at every position."""

    def __init__(self, vocab_size: int, embed: int = 64, hidden: int = 256) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab_size)

    def forward(self, ids):  # (N, T) int64 -> (N, T, vocab) scores
        out, _ = self.lstm(self.embed(ids))
        return self.head(out)

    def step(self, ids, state=None):
        """Like ``forward`` but also takes and returns the LSTM state ``(h, c)``, for generation."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def next_char_loss(scores, targets):
    """Cross-entropy of every position's next character: (N, T, V) scores against (N, T) ids."""
    return F.cross_entropy(scores.reshape(-1, scores.shape[-1]), targets.reshape(-1))


def generate(model: CharLSTM, data: TextDataset, prompt: str, length: int, temperature: float = 0.8) -> str:
    """Sample ``length`` characters after ``prompt``; lower temperatures give safer, more repetitive text."""
    rng = myelin.get_rng()
    model.eval()
    out = list(prompt)
    with myelin.no_grad():
        scores, state = model.step(myelin.tensor(data.encode(prompt)[None]))  # read the prompt
        for _ in range(length):
            logits = scores.numpy()[0, -1].astype(np.float64) / temperature
            p = np.exp(logits - logits.max())
            nxt = int(rng.choice(len(p), p=p / p.sum()))       # draw the next character
            out.append(data.vocab[nxt])
            scores, state = model.step(myelin.tensor(np.array([[nxt]])), state)
    return "".join(out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="20,000 characters, 1 epoch (for tests)")
    parser.add_argument("--text", type=Path, default=SHARED / "shakespeare.txt", help="a UTF-8 text file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.text.is_file():
        sys.exit(f"char_lstm.py: no text at {args.text}; pass --text PATH to a UTF-8 text file")

    text = args.text.read_text(encoding="utf-8")
    vocab = sorted(set(text))
    epochs, hidden, seq_len = args.epochs, 256, 100
    if args.quick:
        text, epochs, hidden, seq_len = text[:20_000], 1, 64, 50
    # Hold out every tenth block of 10,000 characters for validation, so every play is in both parts
    # (the last 10% of the file alone would be one play, A Midsummer Night's Dream).
    block = 10_000 if not args.quick else 2_000
    blocks = [text[i:i + block] for i in range(0, len(text), block)]
    train_text = "".join(b for k, b in enumerate(blocks) if k % 10 != 9)
    val_text = "".join(b for k, b in enumerate(blocks) if k % 10 == 9)
    train = TextDataset(train_text, seq_len, vocab)  # windows x = ids[i:i+T], y = ids[i+1:i+T+1]
    val = TextDataset(val_text, seq_len, vocab)
    print(f"{len(text):,} characters, vocabulary of {len(vocab)}; {len(train)} training windows of {seq_len}")

    myelin.manual_seed(args.seed)
    model = CharLSTM(len(vocab), hidden=hidden)
    start = time.perf_counter()
    history = myelin.fit(
        model, train, loss=next_char_loss, metrics=(),
        optimizer=myelin.optim.Adam(model.parameters(), lr=2e-3),
        epochs=epochs, batch_size=32, validation_data=val,
        clip_grad_norm=5.0,                          # keeps rare huge gradients from derailing training
        seed=args.seed,
    )
    seconds = time.perf_counter() - start
    val_loss = history["val_loss"][-1]
    print(f"validation loss {val_loss:.3f} nats/char (perplexity {math.exp(val_loss):.1f}) after "
          f"{len(history['loss'])} epochs, {seconds:.0f} s")
    print("\n--- generated text ---")
    print(generate(model, train, "ROMEO:\n" if "R" in train.stoi else text[:5], 400 if not args.quick else 100))
    return {"val_loss": val_loss, "seconds": seconds}


if __name__ == "__main__":
    main()
