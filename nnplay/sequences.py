"""Sequence tasks, generated offline from one seed: sine-forecast, sentiment, parity, adding.

The generators are self-contained numpy functions like data.gen_spiral; the builders below
turn their output into a train/test split (data.BUILDERS calls them by name). Sequences are
laid out batch first: inputs (N, T, F) float32, or (N, T) int64 token ids padded with 0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from nnplay.arrays import Arrays
from nnplay.spec import DataSpec

ROLLOUT = 60  # clean values kept after each test window, to check a multi-step rollout

# --- sentiment's built-in vocabulary ------------------------------------------------------------

SUBJECTS = ("the movie", "the film", "the plot", "the acting", "the food", "this book",
            "the service", "the music", "it")  # fmt: skip
VERBS = ("is", "was", "seems", "felt", "looks")
POSITIVE = ("good", "great", "excellent", "fun", "lovely", "nice", "brilliant", "wonderful",
            "superb", "enjoyable")  # fmt: skip
NEGATIVE = ("bad", "awful", "boring", "terrible", "dull", "poor", "horrible", "weak", "bland",
            "annoying")  # fmt: skip
INTENSIFIERS = ("very", "really", "so", "truly", "extremely", "quite")
NEGATORS = ("not", "never")
FILLERS = ("honestly", "overall", "frankly", "basically", "well", "still", "also", "today")
PAD, UNK = "<pad>", "<unk>"


def vocabulary() -> tuple[str, ...]:
    """Every word sentiment sentences use, after <pad> (id 0) and <unk> (id 1)."""
    words = {w for phrase in SUBJECTS for w in phrase.split()}
    words |= {*VERBS, *POSITIVE, *NEGATIVE, *INTENSIFIERS, *NEGATORS, *FILLERS, "but", "and"}
    return (PAD, UNK, *sorted(words))


VOCAB = vocabulary()
SENTIMENT_CLASSES = ("negative", "positive")


# --- generators ---------------------------------------------------------------------------------


def gen_sine_forecast(
    n: int, seq_len: int, extra: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of two sines with random frequency, phase and amplitude per sample.

    Returns the noisy inputs (n, seq_len, 1) and the clean series (n, seq_len + extra) they
    were observed from, whose later values are the targets.
    """
    t = np.arange(seq_len + extra)
    freq = rng.uniform(0.25, 0.75, (n, 2, 1))  # radians per step
    phase = rng.uniform(0.0, 2 * np.pi, (n, 2, 1))
    amp = rng.uniform(0.25, 0.55, (n, 2, 1))
    clean = (amp * np.sin(freq * t + phase)).sum(axis=1)
    x = clean[:, :seq_len] + rng.normal(0.0, noise, (n, seq_len))
    return x[:, :, None].astype(np.float32), clean.astype(np.float32)


def gen_parity(
    n: int, seq_len: int, noise: float, rng: np.random.Generator, min_len: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bit strings (n, seq_len, 1) plus Gaussian noise, labelled 1 when the count of ones is odd.

    Lengths are uniform from min_len (default: seq_len) to seq_len, padded with zeros; strings
    of full length are distinct whenever there are at least n of them. Returns x, y, lengths.
    """
    if seq_len <= 20 and 2**seq_len >= n:
        codes = rng.choice(2**seq_len, n, replace=False)
        bits = (codes[:, None] >> np.arange(seq_len)) & 1
    else:
        bits = rng.integers(0, 2, (n, seq_len))
    lengths = rng.integers(min_len or seq_len, seq_len + 1, n)
    bits = bits * (np.arange(seq_len)[None, :] < lengths[:, None])
    y = bits.sum(axis=1) % 2
    x = bits + rng.normal(0.0, noise, (n, seq_len))
    return x[:, :, None].astype(np.float32), y.astype(np.int64), lengths


def gen_adding(
    n: int, seq_len: int, noise: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem: (value, marker) pairs (n, seq_len, 2); the target (n, 1) is the sum
    of the two marked values, one marked in each half of the sequence."""
    values = rng.uniform(0.0, 1.0, (n, seq_len))
    half = max(seq_len // 2, 1)
    rows = np.arange(n)
    first, second = rng.integers(0, half, n), rng.integers(half, seq_len, n)
    marks = np.zeros((n, seq_len))
    marks[rows, first] = marks[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    x = np.stack([values + rng.normal(0.0, noise, (n, seq_len)), marks], axis=2)
    return x.astype(np.float32), y[:, None].astype(np.float32)


def gen_sentiment(
    n: int, seq_len: int, noise: float, rng: np.random.Generator
) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """Short sentences with negation, intensifiers and 'but', labelled 1 (positive) or 0.

    A clause is [not|never] [very|...] adjective; negation flips its polarity. 'A but B' takes
    B's polarity (the clauses disagree), 'A and B' has clauses that agree. Each clause
    boundary gets a filler word ('honestly', ...) with probability `noise`, while the sentence
    stays within seq_len words. Returns the words, the labels and which sentences negate.
    """
    def clause(polarity: int, other: str = "") -> tuple[list[str], bool]:
        negate = rng.random() < 0.45
        adjectives = [a for a in (POSITIVE if (polarity > 0) != negate else NEGATIVE)
                      if a != other]  # not 'not superb but superb'
        words = [str(rng.choice(NEGATORS))] if negate else []
        if rng.random() < 0.35:
            words.append(str(rng.choice(INTENSIFIERS)))
        return words + [str(rng.choice(adjectives))], negate

    sentences, labels, negated = [], np.zeros(n, np.int64), np.zeros(n, bool)
    for i in range(n):
        label = int(rng.integers(0, 2))
        polarity = 1 if label else -1
        form = rng.choice(["one", "but", "and"], p=[0.4, 0.35, 0.25])
        first, neg1 = clause(-polarity if form == "but" else polarity)
        parts = [str(rng.choice(SUBJECTS)).split() + [str(rng.choice(VERBS))] + first]
        neg2 = False
        if form != "one":
            second, neg2 = clause(polarity, first[-1])
            parts.append([str(form)] + second)
        budget = seq_len - sum(len(p) for p in parts)
        words: list[str] = []
        for slot in range(len(parts) + 1):  # fillers at the start, between clauses, at the end
            if budget > 0 and rng.random() < noise:
                words.append(str(rng.choice(FILLERS)))
                budget -= 1
            if slot < len(parts):
                words += parts[slot]
        sentences.append(words[:seq_len])
        labels[i], negated[i] = label, neg1 or neg2
    return sentences, labels, negated


# --- tokens -------------------------------------------------------------------------------------

WORD_IDS = {w: i for i, w in enumerate(VOCAB)}


def tokenize(text: str) -> list[str]:
    """Lower-case words of a sentence, punctuation dropped."""
    return re.findall(r"[a-z']+", text.lower())


def encode(sentences: list[list[str]], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids (n, seq_len) padded with 0, unknown words as 1, and each sentence's length."""
    ids = np.zeros((len(sentences), seq_len), np.int64)
    lengths = np.zeros(len(sentences), np.int64)
    for i, words in enumerate(sentences):
        words = words[:seq_len]
        ids[i, : len(words)] = [WORD_IDS.get(w, 1) for w in words]
        lengths[i] = len(words)
    return ids, lengths


# --- builders: (spec, seed, root) -> Arrays -----------------------------------------------------


def _split(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    perm = rng.permutation(n)
    k = round(n * fraction)
    return perm[:k], perm[k:]


def _sine_forecast(spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """Windows of seq_len noisy values; targets are the next `horizon` clean values after the
    window, or (per_step) after every step of it."""
    rng = np.random.default_rng(seed)
    t, h = spec.length, spec.horizon
    x, clean = gen_sine_forecast(spec.n_samples, t, h + ROLLOUT, spec.noise, rng)
    ahead = np.stack([clean[:, s + 1 : s + 1 + h] for s in range(t)], axis=1)  # (N, T, h)
    repeat = np.repeat(x, h, axis=2)  # the "repeat the last value" forecast at every step
    y, base = (ahead, repeat) if spec.per_step else (ahead[:, -1], repeat[:, -1])
    tr, te = _split(len(x), spec.train_fraction, rng)
    return Arrays(
        x[tr], y[tr], x[te], y[te],
        baseline=("repeat the last value", base[te]),
        extra={"future_test": clean[te, t:]},
    )  # fmt: skip


def _parity(spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """Training strings have random lengths from 1 to seq_len, so the short ones teach the rule
    (with every string at full length, training sits on a plateau); test strings are all
    seq_len long."""
    rng = np.random.default_rng(seed)
    n_train = round(spec.n_samples * spec.train_fraction)
    x_tr, y_tr, len_tr = gen_parity(n_train, spec.length, spec.noise, rng, min_len=1)
    x_te, y_te, len_te = gen_parity(spec.n_samples - n_train, spec.length, spec.noise, rng)
    return Arrays(x_tr, y_tr, x_te, y_te, class_names=("even", "odd"),
                  lengths_train=len_tr, lengths_test=len_te)  # fmt: skip


def _adding(spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    rng = np.random.default_rng(seed)
    x, y = gen_adding(spec.n_samples, spec.length, spec.noise, rng)
    tr, te = _split(len(x), spec.train_fraction, rng)
    return Arrays(x[tr], y[tr], x[te], y[te],
                  baseline=("always 1, the mean sum", np.ones_like(y[te])))  # fmt: skip


def _sentiment(spec: DataSpec, seed: int, root: Path | None) -> Arrays:
    """Token ids with their lengths; the test set's 'negation' subset holds its sentences that
    contain 'not' or 'never'."""
    rng = np.random.default_rng(seed)
    sentences, y, negated = gen_sentiment(spec.n_samples, spec.length, spec.noise, rng)
    ids, lengths = encode(sentences, spec.length)
    tr, te = _split(len(ids), spec.train_fraction, rng)
    return Arrays(
        ids[tr], y[tr], ids[te], y[te], class_names=SENTIMENT_CLASSES,
        vocab=VOCAB, lengths_train=lengths[tr], lengths_test=lengths[te],
        subsets={"negation": np.flatnonzero(negated[te])},
    )  # fmt: skip


# Tasks whose sequences vary in length: padded to one length, their Arrays carry the lengths.
PADDED = frozenset({"sentiment", "parity"})

BUILDERS: dict[str, Callable[[DataSpec, int, Path | None], Arrays]] = {
    "sine-forecast": _sine_forecast,
    "sentiment": _sentiment,
    "parity": _parity,
    "adding": _adding,
}


def example_names(inputs: list) -> list[str]:
    """A name per test example a sequence view carries: a sentence's words, else its number."""
    return [" ".join(x) if len(x) and isinstance(x[0], str) else f"test sequence {i + 1}"
            for i, x in enumerate(inputs)]  # fmt: skip
