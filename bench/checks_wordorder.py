"""Does a model that reads word order lift the offensive head at 3 % FPR? (issue 12, session 11)

Sessions 6, 8 and 10 put the remaining gap to COLD dev macro-F1 0.88 (recall ~0.79 at 3 % of
harmless rows flagged; the shipped head's cross-validated recall is 0.736) down to COLD's label
conflict, "which needs a model of word order". This measures that claim with the data we may
train on: a neural model trained from scratch on the offensive head's training rows, under the
same 5-fold cross-validation over COLD's train.csv as ``checks_wordfeatures --cv`` and
``checks_labelnoise`` (fold = the COLD split bucket's fifth; every non-COLD row always trains),
read alone and averaged (z-scored logits) with the shipped form's out-of-fold scores, fold by
fold, so the gain is paired.

Models (``--arch``): ``cnn`` - character embeddings (64) under convolutions of widths 2, 3 and 4
(96 filters each), max-pooled; ``gru`` - a bidirectional GRU (64 per direction) over the same
embeddings, max-pooled. Characters seen twice in the fold's training rows, texts cut at 160
characters, Adam 2e-3, batches of 64, the build's row weights in the loss, a fixed number of
epochs (``--epochs``, 4: chosen before any fold was read, never tuned on one).

Needs PyTorch, which fenghuo does not depend on (its checks must run in ~100 µs per KB on a
CPU): ``pip install torch==2.13.0`` into a separate venv and put its torch (with sympy, mpmath,
networkx, fsspec, filelock) on ``PYTHONPATH`` beside the project's venv. One thread; ~3 min per
fold for the CNN and ~5-6 for the GRU on one core of the 2-core EPYC.

    PYTHONPATH=/path/to/torch-only nice -n 19 .venv/bin/python -m bench.checks_wordorder \
        [--arch cnn|gru] [--epochs 4] [--folds 0,1,2,3,4]
"""

from __future__ import annotations

import argparse
import collections
import time

import numpy as np
import scipy.sparse as sp

from bench.checks_wordfeatures import SHIPPED_FORM, Lab, at_fpr, cv_rows, fit, load, log, paired_gain

MAX_CHARS = 160


def cv_data(d: dict) -> dict:
    """COLD train + val rows with their fold (``cv_rows``), and the shipped form's out-of-fold scores."""
    all_, fold = cv_rows(d, 5)
    all_["fold"] = fold
    dk = {"all": all_, "c": d["c"]}
    lab = Lab(dk)
    lab.mine_split = "all"
    oof = np.full(len(all_["y"]), np.nan)
    for k in range(5):
        lab.mine_mask, lab.fold_tag = all_["fold"] != k, k
        test = all_["fold"] == k
        dk["train"] = {"y": all_["y"][~test], "w": all_["w"][~test]}
        total = 0.0
        for blocks in SHIPPED_FORM:
            x = sp.hstack([lab.block(b, "all") for b in blocks]).tocsr()
            w, b = fit(x[~test], dk, d["c"])
            total = total + (x[test] @ w + b) / len(SHIPPED_FORM)
        oof[test] = np.asarray(total).ravel()
    all_["oof"] = oof
    return all_


def build_model(arch: str, vocab_size: int):
    import torch
    from torch import nn

    class CharCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(vocab_size, 64, padding_idx=0)
            self.convs = nn.ModuleList([nn.Conv1d(64, 96, k, padding=k // 2) for k in (2, 3, 4)])
            self.drop, self.out = nn.Dropout(0.5), nn.Linear(288, 1)

        def forward(self, x):
            h, mask = self.emb(x).transpose(1, 2), (x != 0).unsqueeze(1)
            pooled = [torch.relu(c(h))[:, :, : x.shape[1]].masked_fill(~mask, -1e4).max(2).values for c in self.convs]
            return self.out(self.drop(torch.cat(pooled, 1))).squeeze(1)

    class CharGRU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(vocab_size, 64, padding_idx=0)
            self.gru = nn.GRU(64, 64, batch_first=True, bidirectional=True)
            self.drop, self.out = nn.Dropout(0.5), nn.Linear(128, 1)

        def forward(self, x):
            h, _ = self.gru(self.emb(x))
            return self.out(self.drop(h.masked_fill((x == 0).unsqueeze(2), -1e4).max(1).values)).squeeze(1)

    return CharCNN() if arch == "cnn" else CharGRU()


def encode(texts: list[str], vocab: dict[str, int]):
    import torch

    x = np.zeros((len(texts), MAX_CHARS), dtype=np.int64)
    for i, t in enumerate(texts):
        ids = [vocab.get(c, 1) for c in t[:MAX_CHARS]]  # 0 pads, 1 is an unseen character
        x[i, : len(ids)] = ids
    return torch.from_numpy(x)


def fold_scores(all_: dict, k: int, arch: str, epochs: int) -> np.ndarray:
    """Train on every row outside fold ``k``; the model's logits on fold ``k``."""
    import torch
    from torch import nn

    torch.manual_seed(k)
    test = all_["fold"] == k
    train_idx, test_idx = np.where(~test)[0], np.where(test)[0]
    seen = collections.Counter(c for i in train_idx for c in all_["text"][i][:MAX_CHARS])
    vocab = {c: j + 2 for j, (c, n) in enumerate(seen.most_common()) if n >= 2}
    xtr, xte = encode([all_["text"][i] for i in train_idx], vocab), encode([all_["text"][i] for i in test_idx], vocab)
    ytr = torch.tensor(all_["y"][train_idx], dtype=torch.float32)
    wtr = torch.tensor(all_["w"][train_idx], dtype=torch.float32)
    model = build_model(arch, len(vocab) + 2)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(len(ytr))
        for b in range(0, len(perm), 64):
            idx = perm[b : b + 64]
            xb = xtr[idx]
            xb = xb[:, : max(1, int((xb != 0).sum(1).max()))]  # no columns of padding only
            loss = nn.functional.binary_cross_entropy_with_logits(model(xb), ytr[idx], reduction="none")
            loss = (loss * wtr[idx]).sum() / wtr[idx].sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        return torch.cat([model(xte[b : b + 256]) for b in range(0, len(xte), 256)]).numpy()


def zscore(a: np.ndarray) -> np.ndarray:
    return (a - a.mean()) / a.std()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", choices=("cnn", "gru"), default="cnn")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--folds", default="0,1,2,3,4", help="the folds to run (default all five)")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        raise SystemExit(
            "bench.checks_wordorder needs PyTorch, which fenghuo does not depend on: "
            "pip install torch==2.13.0 (into a separate venv; see this module's docstring)"
        ) from None
    torch.set_num_threads(1)
    all_ = cv_data(load())
    shipped, alone, averaged = [], [], []
    for k in (int(f) for f in args.folds.split(",")):
        t0 = time.perf_counter()
        test = all_["fold"] == k
        s, y, base = fold_scores(all_, k, args.arch, args.epochs), all_["y"][test], all_["oof"][test]
        shipped.append(at_fpr(base, y)["recall"])
        alone.append(at_fpr(s, y)["recall"])
        averaged.append(at_fpr(zscore(s) + zscore(base), y)["recall"])
        print(f"fold {k}: recall @ 3 % - shipped {shipped[-1]:.3f}, {args.arch} {alone[-1]:.3f}, averaged {averaged[-1]:.3f}", flush=True)
        log(f"fold {k}: {time.perf_counter() - t0:.0f} s")
    first = np.array(shipped)
    print(f"\n| offensive head | CV recall @ 3 % (mean of {len(first)}) | - shipped, points (± SE) |\n|---|---|---|")
    for name, rec in (
        ("shipped form", first),
        (f"{args.arch} alone, {args.epochs} epochs", np.array(alone)),
        (f"{args.arch} averaged with the shipped form", np.array(averaged)),
    ):
        print(f"| {name} | {rec.mean():.3f} | {paired_gain(rec, first) if rec is not first else '-'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
