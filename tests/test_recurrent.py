"""Tests for nnplay.recurrent: model shapes for every cell and layout, the LSTM stepped by hand
with nn.LSTMCell against nn.LSTM (micrograd style), packing against one-at-a-time, the replay
of hidden states and gates, initialisation, and reading a typed sentence."""

from __future__ import annotations

import itertools
import re

import pytest
import torch
from torch import nn

from nnplay import data, models, network, recurrent, sequences
from nnplay.spec import CELLS, ExperimentSpec, parse

torch.set_num_threads(1)

HEAD = [{"type": "linear", "units": 6}, {"type": "activation", "name": "Tanh"}]


def make(name: str, loss: str = "CrossEntropyLoss", per_step: bool = False, layers=HEAD,
         **rec) -> ExperimentSpec:
    return parse({"data": {"name": name, "n_samples": 60, "per_step": per_step},
                  "model": {"layers": layers, "recurrent": {"hidden_size": 5, **rec}},
                  "loss": {"name": loss}, "seed": 3})  # fmt: skip


def model_and_data(spec: ExperimentSpec):
    ds = data.build(spec.data, spec.seed)
    return network.build(spec, ds.in_features, ds.n_classes), ds


GRID = list(itertools.product(CELLS, [False, True], [1, 2], [True, False]))


@pytest.mark.parametrize("cell, bidirectional, num_layers, batch_first", GRID)
def test_shapes(cell: str, bidirectional: bool, num_layers: int, batch_first: bool) -> None:
    rec = dict(cell=cell, bidirectional=bidirectional, num_layers=num_layers,
               batch_first=batch_first)  # fmt: skip
    for name, loss in (("sentiment", "CrossEntropyLoss"), ("adding", "MSELoss")):
        model, ds = model_and_data(make(name, loss, **rec))
        lengths = None if ds.lengths_train is None else ds.lengths_train[:7]
        x = ds.x_train[:7]
        assert model(x, lengths).shape == (7, ds.out_features)
        shapes = dict(model.shapes(x, lengths))
        t = x.shape[1]
        assert shapes["head input"][0] == 7 and shapes["output"] == (7, ds.out_features)
        if name == "sentiment":
            assert shapes["input"] == (7, t) and shapes["embedding"] == (7, t, 16)
        if cell == "BagOfWords":
            continue
        d = 2 if bidirectional else 1
        features = 16 if name == "sentiment" else 2
        assert shapes["rnn input"] == ((7, t, features) if batch_first else (t, 7, features))
        assert shapes["rnn output"] == ((7, t, d * 5) if batch_first else (t, 7, d * 5))
        assert shapes["h_n"] == (num_layers * d, 7, 5)
        assert ("c_n" in shapes) == (cell in ("LSTM", "LSTMCell"))
        assert shapes["head input"] == (7, d * 5)


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_every_step_head(cell: str) -> None:
    spec = make("sine-forecast", "MSELoss", per_step=True, cell=cell, num_layers=2,
                batch_first=False).with_changes({"data.horizon": 3})
    model, ds = model_and_data(spec)
    assert model(ds.x_train[:4]).shape == (4, ds.x_train.shape[1], 3) == ds.y_train[:4].shape
    last, ds = model_and_data(spec.with_changes({"data.per_step": False}))
    assert last(ds.x_train[:4]).shape == (4, 3) == ds.y_train[:4].shape


def test_print_model_names_the_parts() -> None:
    model, _ = model_and_data(make("sentiment", cell="LSTM", bidirectional=True, num_layers=2))
    text = models.printout(model)
    assert "(embedding): Embedding(56, 16, padding_idx=0)" in text
    assert "(rnn): LSTM(16, 5, num_layers=2, batch_first=True, bidirectional=True)" in text
    assert "(fc1): Linear(in_features=10, out_features=6" in text and "(out): Linear" in text
    stepped, _ = model_and_data(make("sentiment", cell="LSTMCell", num_layers=2))
    assert "(l1): LSTMCell(5, 5)" in models.printout(stepped)


def lstm_pair(bidirectional: bool, num_layers: int, batch_first: bool):
    """nn.LSTM, the LSTMCell loop holding the same weights, and (nn.LSTM's, its) parameters."""
    torch.manual_seed(0)
    lstm = nn.LSTM(4, 6, num_layers, batch_first=batch_first, bidirectional=bidirectional)
    stepped = recurrent.SteppedLSTM(4, 6, num_layers, bidirectional, batch_first=batch_first)
    pairs = []
    with torch.no_grad():
        for name, p in lstm.named_parameters():  # weight_ih_l1_reverse -> cells.l1_reverse
            kind, layer = re.fullmatch(r"(\w+_[ih]h)_(l\d+(?:_reverse)?)", name).groups()
            mine = getattr(stepped.cells[layer], kind)
            mine.copy_(p)
            pairs.append((p, mine))
    return lstm, stepped, pairs


@pytest.mark.parametrize("bidirectional, num_layers, batch_first",
                         list(itertools.product([False, True], [1, 2], [True, False])))
def test_lstmcell_by_hand_equals_nn_lstm(bidirectional: bool, num_layers: int,
                                         batch_first: bool) -> None:
    lstm, stepped, pairs = lstm_pair(bidirectional, num_layers, batch_first)
    x = torch.randn(5, 9, 4, requires_grad=True)  # (B, T, F)
    lengths = torch.tensor([9, 3, 7, 1, 9])
    inp = x if batch_first else x.transpose(0, 1)
    packed = nn.utils.rnn.pack_padded_sequence(inp, lengths, batch_first=batch_first,
                                               enforce_sorted=False)
    out_ref, (h_ref, c_ref) = lstm(packed)
    out_ref, _ = nn.utils.rnn.pad_packed_sequence(out_ref, batch_first=batch_first,
                                                  total_length=9)
    out, (h, c) = stepped(inp, lengths)
    assert torch.allclose(out, out_ref, atol=1e-6)
    assert torch.allclose(h, h_ref, atol=1e-6) and torch.allclose(c, c_ref, atol=1e-6)
    # and the same gradients flow back to the inputs and to every weight
    g_ref = torch.autograd.grad(out_ref.square().sum() + c_ref.sum(),
                                [x] + [p for p, _ in pairs])
    g = torch.autograd.grad(out.square().sum() + c.sum(), [x] + [q for _, q in pairs])
    for a, b in zip(g, g_ref):
        assert torch.allclose(a, b, atol=1e-5)


def test_lstmcell_by_hand_is_the_references_loop() -> None:
    cell = nn.LSTMCell(10, 20)
    stepped = recurrent.SteppedLSTM(10, 20, batch_first=False)
    stepped.cells["l0"].load_state_dict(cell.state_dict())
    inp = torch.randn(2, 3, 10)  # (time_steps, batch, input_size)
    hx, cx = torch.zeros(3, 20), torch.zeros(3, 20)
    output = []
    for i in range(inp.size()[0]):
        hx, cx = cell(inp[i], (hx, cx))
        output.append(hx)
    output = torch.stack(output, dim=0)
    out, (h, c) = stepped(inp)
    assert torch.allclose(out, output) and torch.allclose(h[0], hx) and torch.allclose(c[0], cx)


@pytest.mark.parametrize("cell", CELLS)
def test_packed_batch_equals_each_sequence_alone(cell: str) -> None:
    model, ds = model_and_data(make("sentiment", cell=cell, bidirectional=cell != "BagOfWords",
                                    num_layers=1 if cell == "BagOfWords" else 2))
    model.eval()
    x, lengths = ds.x_test[:6], ds.lengths_test[:6]
    assert len(set(lengths.tolist())) > 1
    batch = model(x, lengths)
    for i, n in enumerate(lengths.tolist()):
        alone = model(x[i:i + 1, :n])
        assert torch.allclose(batch[i], alone[0], atol=1e-5)


@pytest.mark.parametrize("cell", ["RNN", "LSTM", "GRU", "LSTMCell"])
def test_replay_equals_the_module(cell: str) -> None:
    model, ds = model_and_data(make("sentiment", cell=cell, bidirectional=True, num_layers=2))
    model.eval()
    x, lengths = ds.x_test[:3], ds.lengths_test[:3]
    with torch.no_grad():
        seq, _ = model.encode(model.embed(x), lengths)
        for i, n in enumerate(lengths.tolist()):
            layers = recurrent.replay(model, model.embed(x[i:i + 1, :n])[0])
            assert len(layers) == 2
            assert torch.allclose(layers[-1]["hidden"], seq[i, :n], atol=1e-5)
            gates = layers[-1]["gates"]
            expected = {"RNN": set(), "GRU": {"reset", "update"}}.get(
                cell, {"input", "forget", "output"})
            assert set(gates) == expected
            for g in gates.values():
                assert g.shape == (n, 5) and (g > 0).all() and (g < 1).all()


def test_weights_are_seeded_and_match_pytorchs_own_init() -> None:
    spec = make("sentiment", cell="LSTM", layers=[])
    a, _ = model_and_data(spec)
    b, _ = model_and_data(spec)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    torch.manual_seed(spec.seed)  # what an exported script does
    ref = [nn.Embedding(56, 16, padding_idx=0), nn.LSTM(16, 5, batch_first=True),
           nn.Linear(5, 2)]  # fmt: skip
    ours = [a.embedding, a.rnn, a.head.out]
    for m_ref, m in zip(ref, ours):
        for p_ref, p in zip(m_ref.parameters(), m.parameters()):
            assert torch.equal(p_ref, p)


def test_weight_groups_split_layers() -> None:
    model, _ = model_and_data(make("sentiment", cell="GRU", bidirectional=True, num_layers=2))
    groups = models.weight_groups(model)
    assert [n for n, _ in groups] == ["embedding", "GRU layer 1", "GRU layer 2", "head.fc1",
                                      "head.out"]
    assert len(groups[1][1]) == 8  # ih/hh weights and biases, both directions
    assert sum(len(ps) for _, ps in groups) == len(list(model.parameters()))


def test_read_sentence_reports_unknown_words() -> None:
    model, _ = model_and_data(make("sentiment", cell="LSTM", bidirectional=True))
    vocab = sequences.VOCAB
    got = recurrent.read_sentence(model, vocab, "The movie was not GOOD, zebra!",
                                  torch.device("cpu"), "logits")
    assert got["words"] == ["the", "movie", "was", "not", "good"]
    assert got["unknown"] == ["zebra"]
    assert got["probs"].shape == (2,) and got["probs"].sum() == pytest.approx(1.0, abs=1e-5)
    assert got["hidden"].shape == (10, 5)  # (2 directions x 5 units, words)
    assert set(got["gates"]) == {"input", "forget", "output"}
    nothing = recurrent.read_sentence(model, vocab, "xyzzy ???", torch.device("cpu"), "logits")
    assert nothing["words"] == [] and nothing["unknown"] == ["xyzzy"] and nothing["probs"] is None


def test_network_build_chooses_the_builder_and_models_build_refuses_a_recurrent_spec() -> None:
    spec = make("parity")
    ds = data.build(spec.data, spec.seed)
    assert isinstance(network.build(spec, ds.in_features, ds.n_classes), recurrent.SequenceModel)
    flat = ExperimentSpec()
    assert isinstance(network.build(flat, 2, 2), torch.nn.Sequential)
    with pytest.raises(ValueError, match="network.build"):
        models.build(spec, ds.in_features, ds.n_classes)
