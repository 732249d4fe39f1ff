"""Tests for nnplay.sequences: the four sequence tasks' generators and builders (shapes, labels,
seeding, noise, lengths, the negation subset, baselines) and the spec rules for sequences."""

from __future__ import annotations

import pytest
import torch

from nnplay import data, sequences
from nnplay.spec import DATASETS, DataSpec, ExperimentSpec, SpecError, parse

TASKS = [name for name, info in DATASETS.items() if info.kind in ("sequence", "tokens")]
NEGATORS = set(sequences.NEGATORS)


def build(name: str, seed: int = 0, **fields) -> data.Dataset:
    return data.build(DataSpec(name=name, **{"n_samples": 200, **fields}), seed)


def words(ds: data.Dataset, x: torch.Tensor, lengths: torch.Tensor) -> list[list[str]]:
    return [[ds.vocab[t] for t in row[:n]] for row, n in zip(x.tolist(), lengths.tolist())]


def test_registry_covers_every_sequence_task() -> None:
    assert set(sequences.BUILDERS) == set(TASKS) == {"sine-forecast", "sentiment", "parity",
                                                     "adding"}
    assert set(TASKS) <= set(data.BUILDERS)
    assert DATASETS["sentiment"].features == len(sequences.VOCAB)  # the vocabulary size


@pytest.mark.parametrize("name", TASKS)
def test_shapes_dtypes_and_split(name: str) -> None:
    info = DATASETS[name]
    ds = build(name, train_fraction=0.6, seq_len=info.seq_len + 2)
    t = info.seq_len + 2
    assert len(ds.x_train) == 120 and len(ds.x_test) == 80
    assert (ds.task, ds.kind, ds.in_features) == (info.task, info.kind, info.features)
    if info.kind == "tokens":
        assert ds.x_train.shape == (120, t) and ds.x_train.dtype == torch.int64
    else:
        assert ds.x_train.shape == (120, t, info.features) and ds.x_train.dtype == torch.float32
    if info.task == "classification":
        assert ds.y_train.dtype == torch.int64 and set(ds.y_train.tolist()) == {0, 1}
        assert ds.n_classes == 2 and len(ds.class_names) == 2
    else:
        assert ds.y_train.dtype == torch.float32 and ds.y_train.shape == (120, 1)


@pytest.mark.parametrize("name", TASKS)
def test_padded_tasks_are_the_ones_with_lengths(name: str) -> None:
    ds = build(name)
    padded = ds.lengths_train is not None and ds.lengths_test is not None
    assert padded == (name in sequences.PADDED)


@pytest.mark.parametrize("name", TASKS)
def test_seeded(name: str) -> None:
    a, b, c = build(name, 1, noise=0.2), build(name, 1, noise=0.2), build(name, 2, noise=0.2)
    data._build.cache_clear()
    again = build(name, 1, noise=0.2)
    for x, y in ((a.x_train, again.x_train), (a.y_test, again.y_test)):
        assert torch.equal(x, y)
    assert a is b  # cached
    assert not torch.equal(a.x_train, c.x_train)


@pytest.mark.parametrize("name", ["sine-forecast", "parity", "adding"])
def test_noise_moves_the_inputs_only(name: str) -> None:
    clean, noisy = build(name, noise=0.0), build(name, noise=0.3)
    assert not torch.equal(clean.x_train, noisy.x_train)
    assert torch.allclose(clean.y_train.float(), noisy.y_train.float())


def test_sentiment_noise_adds_filler_words() -> None:
    clean, noisy = build("sentiment", noise=0.0), build("sentiment", noise=0.5)
    fillers = set(sequences.FILLERS)
    assert not any(fillers & set(s) for s in words(clean, clean.x_train, clean.lengths_train))
    assert sum(bool(fillers & set(s)) for s in words(noisy, noisy.x_train,
                                                      noisy.lengths_train)) > 60


def test_sine_targets_are_the_clean_continuation() -> None:
    last = build("sine-forecast", noise=0.1, horizon=3, seq_len=20)
    steps = build("sine-forecast", noise=0.1, horizon=3, seq_len=20, per_step=True)
    assert torch.equal(last.x_train, steps.x_train)
    assert last.y_train.shape == (100, 3) and steps.y_train.shape == (100, 20, 3)
    assert torch.equal(steps.y_train[:, -1], last.y_train)
    # at step t the targets are the values after t: step t+1's first target is step t's second
    assert torch.equal(steps.y_train[:, 1:, 0], steps.y_train[:, :-1, 1])
    # the inputs are noisy observations of the same series
    assert (steps.y_train[:, :-1, 0] - steps.x_train[:, 1:, 0]).std() == \
        pytest.approx(0.1, rel=0.2)
    future = last.extra["future_test"]
    assert torch.equal(future[:, :3], last.y_test)
    assert future.shape[1] >= sequences.ROLLOUT


def test_sine_baseline_repeats_the_last_value() -> None:
    ds = build("sine-forecast", horizon=2)
    label, outputs = ds.baseline
    assert label == "repeat the last value"
    assert torch.equal(outputs, ds.x_test[:, -1, :].repeat(1, 2))


def test_parity_labels_and_lengths() -> None:
    ds = build("parity", noise=0.0, seq_len=8, n_samples=300)
    assert ds.lengths_train.device.type == "cpu" and ds.lengths_test.device.type == "cpu"
    assert ds.lengths_train.min() >= 1 and ds.lengths_train.max() == 8
    assert len(set(ds.lengths_train.tolist())) > 4  # short strings teach the rule
    assert (ds.lengths_test == 8).all()  # tested at full length
    for x, y, n in ((ds.x_train, ds.y_train, ds.lengths_train),
                    (ds.x_test, ds.y_test, ds.lengths_test)):  # fmt: skip
        bits = x[:, :, 0].round().long()
        valid = torch.arange(8)[None, :] < n[:, None]
        assert (bits[~valid] == 0).all()
        assert torch.equal(bits.sum(1) % 2, y)
    codes = {tuple(row) for row in ds.x_test[:, :, 0].round().long().tolist()}
    assert len(codes) == len(ds.x_test)  # distinct test strings


def test_adding_marks_one_value_in_each_half() -> None:
    ds = build("adding", noise=0.0, seq_len=10)
    marks, values = ds.x_train[:, :, 1], ds.x_train[:, :, 0]
    assert (marks.sum(1) == 2).all()
    assert (marks[:, :5].sum(1) == 1).all() and (marks[:, 5:].sum(1) == 1).all()
    assert torch.allclose((values * marks).sum(1, keepdim=True), ds.y_train)
    label, outputs = ds.baseline
    assert "mean" in label and torch.equal(outputs, torch.ones_like(ds.y_test))


def _rule(sentence: list[str]) -> int:
    """The label an independent reading of the grammar gives: a clause is negative or positive
    by its adjective, flipped by 'not'/'never'; after 'but' the second clause decides."""
    clauses, current = [], []
    for w in sentence:
        if w in ("but", "and"):
            clauses.append(current)
            current = []
        else:
            current.append(w)
    clauses.append(current)

    def polarity(clause: list[str]) -> int:
        adjective = next(w for w in clause if w in sequences.POSITIVE + sequences.NEGATIVE)
        positive = adjective in sequences.POSITIVE
        return int(positive != bool(NEGATORS & set(clause)))

    values = [polarity(c) for c in clauses]
    adjectives = [w for w in sentence if w in sequences.POSITIVE + sequences.NEGATIVE]
    assert len(adjectives) == len(clauses) == len(set(adjectives)), sentence
    if "but" in sentence:
        assert values[0] != values[1], sentence
    elif "and" in sentence:
        assert values[0] == values[1], sentence
    return values[-1]


def test_sentiment_labels_follow_negation_and_but() -> None:
    ds = build("sentiment", noise=0.3, n_samples=600)
    for x, y, n in ((ds.x_train, ds.y_train, ds.lengths_train),
                    (ds.x_test, ds.y_test, ds.lengths_test)):  # fmt: skip
        for sentence, label in zip(words(ds, x, n), y.tolist()):
            assert _rule(sentence) == label, sentence
    assert (ds.y_train == 1).float().mean() == pytest.approx(0.5, abs=0.1)


def test_sentiment_padding_and_lengths() -> None:
    ds = build("sentiment", seq_len=14, noise=0.5)
    n = ds.lengths_train
    assert n.dtype == torch.int64 and n.device.type == "cpu"
    assert n.min() >= 3 and n.max() <= 14 and len(set(n.tolist())) > 3
    pad = torch.arange(14)[None, :] >= n[:, None]
    assert (ds.x_train[pad] == 0).all() and (ds.x_train[~pad] > 1).all()  # no <pad>/<unk> inside


def test_negation_subset_is_the_sentences_that_negate() -> None:
    ds = build("sentiment", n_samples=400)
    subset = set(ds.subsets["negation"].tolist())
    sentences = words(ds, ds.x_test, ds.lengths_test)
    expected = {i for i, s in enumerate(sentences) if NEGATORS & set(s)}
    assert subset == expected and 0.2 * len(sentences) < len(subset) < len(sentences)


def test_tokenize_and_encode() -> None:
    assert sequences.tokenize("It was NOT good, but great!") == \
        ["it", "was", "not", "good", "but", "great"]
    ids, lengths = sequences.encode([["not", "good"], ["zebra"]], 4)
    vocab = sequences.VOCAB
    assert [vocab[i] for i in ids[0][:2]] == ["not", "good"] and ids[1][0] == 1  # <unk>
    assert lengths.tolist() == [2, 1] and ids[0][2:].tolist() == [0, 0]


# --- the spec -----------------------------------------------------------------------------------

RNN = {"cell": "LSTM"}


def spec(data: dict, recurrent: dict | None = RNN, loss: str = "CrossEntropyLoss") -> dict:
    model = {"layers": []} | ({"recurrent": recurrent} if recurrent is not None else {})
    return {"data": data, "model": model, "loss": {"name": loss}}


@pytest.mark.parametrize("tree, words", [
    (spec({"name": "sentiment"}, None), "needs a recurrent model"),
    (spec({"name": "spiral"}), "a recurrent model needs sequences"),
    (spec({"name": "sentiment", "per_step": True}), "one target per sequence"),
    (spec({"name": "adding", "horizon": 2}, RNN, "MSELoss"), "no horizon to set"),
    (spec({"name": "sentiment", "seq_len": 5}), "at least 10 steps"),
    (spec({"name": "parity"}, {"cell": "GRU", "dropout": 0.2}), "num_layers of 2 or more"),
    (spec({"name": "sine-forecast", "per_step": True}, {"cell": "BagOfWords"}, "MSELoss"),
     "cannot predict at every step"),
    (spec({"name": "sine-forecast", "per_step": True}, {"bidirectional": True}, "MSELoss"),
     "read the future"),
    (spec({"name": "parity"}, {"cell": "Transformer"}), "model.recurrent.cell"),
])  # fmt: skip
def test_sequence_specs_that_cannot_run_are_sentences(tree: dict, words: str) -> None:
    with pytest.raises(SpecError, match=words):
        parse(tree)


def test_sequence_spec_round_trips_and_changes() -> None:
    s = parse(spec({"name": "sine-forecast", "per_step": True, "horizon": 3}, RNN, "MSELoss"))
    assert ExperimentSpec.from_json(s.to_json()) == s
    changed = s.with_changes({"model.recurrent.cell": "GRU", "data.seq_len": 12})
    assert changed.model.recurrent.cell == "GRU" and changed.data.length == 12
    assert parse(spec({"name": "parity"})).data.length == DATASETS["parity"].seq_len


def test_example_names_are_the_sentence_or_the_number() -> None:
    assert sequences.example_names([["not", "good"], [0.5, 0.25], []]) == [
        "not good", "test sequence 2", "test sequence 3"]
