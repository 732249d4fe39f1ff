"""Recurrent models for sequence tasks: nn.RNN, nn.LSTM, nn.GRU, an LSTM stepped by hand with
nn.LSTMCell, and a bag-of-words baseline; nn.Embedding in front for token inputs and the
Playground's Linear / activation / Dropout stack as the head.

Also the replay that makes their insides visible: the same recurrences written out step by step
from the module's own weights, giving each step's hidden state and (LSTM, GRU) gate values.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nnplay import data as datasets
from nnplay import models
from nnplay.sequences import SENTIMENT_CLASSES, VOCAB, tokenize
from nnplay.spec import ExperimentSpec, RecurrentSpec, loss_info


class _RunDropout(models.DrawsFromGenerator):
    """nn.RNN/LSTM/GRU whose dropout between layers comes from the run's generator.

    Those modules draw their masks inside one fused op from torch's global RNG, which every
    run in the process shares. On the CPU the run's generator stands in for the global one for
    the duration of the forward pass (its state in, the advanced state back out), so the masks
    are the ones an exported script draws after torch.manual_seed, and concurrent runs do not
    take each other's draws.
    """

    def forward(self, *args, **kwargs):
        g = self.generator
        if not (self.training and self.dropout and self.num_layers > 1) or g is None \
                or g.device.type != "cpu":
            return super().forward(*args, **kwargs)
        with models.GLOBAL_RNG:
            saved = torch.get_rng_state()
            torch.set_rng_state(g.get_state())
            try:
                return super().forward(*args, **kwargs)
            finally:
                g.set_state(torch.get_rng_state())
                torch.set_rng_state(saved)


class RNN(_RunDropout, nn.RNN):
    """nn.RNN, its dropout between layers drawn from the run's generator."""


class LSTM(_RunDropout, nn.LSTM):
    """nn.LSTM, its dropout between layers drawn from the run's generator."""


class GRU(_RunDropout, nn.GRU):
    """nn.GRU, its dropout between layers drawn from the run's generator."""


TORCH_CELLS: dict[str, type[nn.RNNBase]] = {"RNN": RNN, "LSTM": LSTM, "GRU": GRU}


def _on(device: torch.device, t: torch.Tensor) -> torch.Tensor:
    """A small CPU tensor (lengths, an order) on device without waiting for the GPU: a
    blocking copy to the GPU first synchronises the host with everything queued there."""
    return t.to(device, non_blocking=True)


def _reverse_padded(x: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """Reverse each sequence of x (T, B, F) within its own length; padding stays in place."""
    if lengths is None:
        return x.flip(0)
    t = torch.arange(x.shape[0], device=x.device)[:, None]  # (T, 1)
    n = _on(x.device, lengths)[None, :]  # (1, B)
    index = torch.where(t < n, n - 1 - t, t)  # (T, B)
    return x.gather(0, index[:, :, None].expand_as(x))


class SteppedLSTM(nn.Module):
    """nn.LSTM written as the reference's loop over time steps with one nn.LSTMCell per layer
    and direction. A padded step leaves a sequence's state unchanged, so with lengths it
    computes what nn.LSTM computes on a packed batch."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0, batch_first: bool = True):
        super().__init__()
        self.hidden_size, self.num_layers = hidden_size, num_layers
        self.bidirectional, self.batch_first = bidirectional, batch_first
        self.suffixes = ("", "_reverse") if bidirectional else ("",)
        self.cells = nn.ModuleDict()
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else hidden_size * len(self.suffixes)
            for sfx in self.suffixes:  # named like nn.LSTM's weights: l0, l0_reverse, l1, ...
                self.cells[f"l{layer}{sfx}"] = nn.LSTMCell(n_in, hidden_size)
        self.dropout = models.Dropout(dropout) if dropout and num_layers > 1 else None

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        """(output, (h_n, c_n)) with nn.LSTM's shapes; padded output steps are zero."""
        if self.batch_first:
            x = x.transpose(0, 1)  # (T, B, F)
        steps = x.shape[0]
        mask = None
        if lengths is not None:
            mask = torch.arange(steps, device=x.device)[:, None] < _on(x.device, lengths)[None, :]
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for sfx in self.suffixes:
                seq = x if not sfx else _reverse_padded(x, lengths)
                out, (h, c) = self._run(self.cells[f"l{layer}{sfx}"], seq, mask)
                outputs.append(out if not sfx else _reverse_padded(out, lengths))
                h_n.append(h)
                c_n.append(c)
            x = torch.cat(outputs, dim=2)  # (T, B, D*H)
            if self.dropout is not None and layer < self.num_layers - 1:
                x = self.dropout(x)
        if mask is not None:
            x = x * mask[:, :, None]
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, (torch.stack(h_n), torch.stack(c_n))

    def _run(self, cell: nn.LSTMCell, x: torch.Tensor, mask: torch.Tensor | None):
        """One layer, one direction: hx, cx = cell(x[t], (hx, cx)) for each step t."""
        hx = x.new_zeros(x.shape[1], self.hidden_size)  # (B, H)
        cx = torch.zeros_like(hx)
        outputs = []
        for t in range(x.shape[0]):
            h, c = cell(x[t], (hx, cx))
            if mask is not None:  # past a sequence's end its state stays as it was
                keep = mask[t][:, None]
                h, c = torch.where(keep, h, hx), torch.where(keep, c, cx)
            hx, cx = h, c
            outputs.append(hx)
        return torch.stack(outputs), (hx, cx)

    def extra_repr(self) -> str:
        return (f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, batch_first={self.batch_first}")


class MeanOverTime(nn.Module):
    """The bag-of-words baseline: the mean of the inputs over each sequence's real steps, so
    word order is lost."""

    batch_first = True

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if lengths is None:
            return x.mean(dim=1)
        n = _on(x.device, lengths)
        mask = torch.arange(x.shape[1], device=x.device)[None, :] < n[:, None]  # (B, T)
        return (x * mask[:, :, None]).sum(dim=1) / n[:, None].clamp(min=1)


class SequenceModel(nn.Module):
    """[Embedding] -> recurrent layers -> head, on the last step or on every step."""

    def __init__(self, embedding: nn.Embedding | None, rnn: nn.Module, head: nn.Sequential,
                 rec: RecurrentSpec, per_step: bool):
        super().__init__()
        self.embedding = embedding
        self.rnn = rnn
        self.head = head
        self.cell, self.per_step = rec.cell, per_step
        self.directions = 2 if rec.bidirectional and rec.cell != "BagOfWords" else 1
        self.batch_first = rec.batch_first
        self._notes: list[tuple[str, tuple[int, ...]]] | None = None

    def _note(self, stage: str, tensor: torch.Tensor) -> None:
        if self._notes is not None:
            self._notes.append((stage, tuple(tensor.shape)))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) to vectors (B, T, E); feature inputs pass through."""
        self._note("input", x)
        if self.embedding is None:
            return x
        x = self.embedding(x)
        self._note("embedding", x)
        return x

    def encode(self, x: torch.Tensor, lengths: torch.Tensor | None = None, steps: bool = True):
        """(outputs at every step (B, T, D*H), the features the last-step head reads). With
        steps=False a packed batch skips unpacking its outputs (None): pad_packed_sequence
        copies indices to the host, a wait on every step of a GPU's training."""
        return ENCODERS[self.cell](self, x, lengths, steps or self._notes is not None)

    def readout(self, seq: torch.Tensor | None, last: torch.Tensor) -> torch.Tensor:
        features = seq if self.per_step else last
        self._note("head input", features)
        out = self.head(features)
        self._note("output", out)
        return out

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        seq, last = self.encode(self.embed(x), lengths, steps=self.per_step)
        return self.readout(seq, last)

    @torch.no_grad()
    def shapes(self, x: torch.Tensor, lengths: torch.Tensor | None = None):
        """(stage, shape) of each tensor one forward pass makes, for the page to print."""
        self._notes = []
        try:
            self(x, lengths)
            return self._notes
        finally:
            self._notes = None

    def weight_groups(self) -> list[tuple[str, list[nn.Parameter]]]:
        """Parameters per layer for gradient norms: embedding, each recurrent layer (both
        directions), each head layer."""
        groups: list[tuple[str, list[nn.Parameter]]] = []
        if self.embedding is not None:
            groups.append(("embedding", list(self.embedding.parameters())))
        layers: dict[str, list[nn.Parameter]] = {}
        for name, p in self.rnn.named_parameters():
            layer = int(re.search(r"l(\d+)", name).group(1))
            layers.setdefault(f"{self.cell} layer {layer + 1}", []).append(p)
        groups += layers.items()
        groups += [(f"head.{n}", list(m.parameters())) for n, m in self.head.named_children()
                   if any(True for _ in m.parameters())]  # fmt: skip
        return groups


# --- encoders: (model, x (B, T, F), lengths, steps) -> (seq, last) -------------------------------


def _torch_encode(model: SequenceModel, x: torch.Tensor, lengths: torch.Tensor | None,
                  steps: bool):
    """nn.RNN / nn.LSTM / nn.GRU, on a packed batch when sequences vary in length.

    The batch is sorted by length here rather than by pack_padded_sequence(enforce_sorted=
    False), whose blocking copies of the order to and from the GPU stall every step.
    """
    bf = model.batch_first
    inp = x if bf else x.transpose(0, 1)  # (T, B, F) unless batch_first
    model._note("rnn input", inp)
    if lengths is None:
        return _states(model, *model.rnn(inp))
    batch = 0 if bf else 1
    # on the CPU, as lengths; sorted exactly as pack_padded_sequence(enforce_sorted=False)
    # sorts, so that dropout between layers meets the packed rows in the same order
    order = torch.sort(lengths, descending=True).indices
    back = _on(x.device, torch.argsort(order))
    packed = pack_padded_sequence(inp.index_select(batch, _on(x.device, order)), lengths[order],
                                  batch_first=bf)
    model._note("packed", packed.data)
    out, state = model.rnn(packed)
    state = tuple(s.index_select(1, back) for s in state) if isinstance(state, tuple) else \
        state.index_select(1, back)  # (L*D, B, H) back in the batch's order
    if steps:
        out = pad_packed_sequence(out, batch_first=bf, total_length=x.shape[1])[0]
        out = out.index_select(batch, back)
    return _states(model, out if steps else None, state)


def _stepped_encode(model: SequenceModel, x: torch.Tensor, lengths: torch.Tensor | None,
                    steps: bool):
    """The LSTM stepped by hand takes the lengths directly."""
    inp = x if model.batch_first else x.transpose(0, 1)
    model._note("rnn input", inp)
    return _states(model, *model.rnn(inp, lengths))


def _states(model: SequenceModel, out: torch.Tensor | None, state):
    """Note the shapes, put out batch first, and join the top layer's final hidden states."""
    if out is not None:
        model._note("rnn output", out)
    h_n = state[0] if isinstance(state, tuple) else state  # (L*D, B, H)
    model._note("h_n", h_n)
    if isinstance(state, tuple):
        model._note("c_n", state[1])
    seq = out if model.batch_first or out is None else out.transpose(0, 1)
    last = torch.cat(list(h_n[-model.directions:]), dim=1)  # (B, D*H)
    return seq, last


def _mean_encode(model: SequenceModel, x: torch.Tensor, lengths: torch.Tensor | None,
                 steps: bool):
    return None, model.rnn(x, lengths)


ENCODERS: dict[str, Callable] = {
    "RNN": _torch_encode,
    "LSTM": _torch_encode,
    "GRU": _torch_encode,
    "LSTMCell": _stepped_encode,
    "BagOfWords": _mean_encode,
}


# --- building ------------------------------------------------------------------------------------


def _recurrent_layer(rec: RecurrentSpec, n_in: int) -> nn.Module:
    if rec.cell == "BagOfWords":
        return MeanOverTime()
    kwargs = dict(num_layers=rec.num_layers, bidirectional=rec.bidirectional,
                  dropout=rec.dropout, batch_first=rec.batch_first)  # fmt: skip
    if rec.cell == "LSTMCell":
        return SteppedLSTM(n_in, rec.hidden_size, **kwargs)
    return TORCH_CELLS[rec.cell](n_in, rec.hidden_size, **kwargs)


def build(spec: ExperimentSpec, in_features: int, n_classes: int,
          generator: torch.Generator | None = None) -> SequenceModel:
    """The spec's recurrent model; in_features is the vocabulary size for token inputs.

    Weights are drawn from generator in module order (embedding, recurrent layers, head), as
    PyTorch's own initialisation draws them after torch.manual_seed.
    """
    if generator is None:
        generator = torch.Generator().manual_seed(spec.seed)
    rec = spec.model.recurrent
    embedding = None
    width = in_features
    if spec.data.info.kind == "tokens":
        embedding = nn.Embedding(in_features, rec.embedding_dim, padding_idx=0)
        width = rec.embedding_dim
    rnn = _recurrent_layer(rec, width)
    if rec.cell != "BagOfWords":
        width = rec.hidden_size * (2 if rec.bidirectional else 1)
    for module in (embedding, rnn):
        if module is not None:
            init_(module, generator)
    stack = spec.model_copy(update={"model": spec.model.model_copy(update={"recurrent": None})})
    head = models.build(stack, width, n_classes, generator)
    return SequenceModel(embedding, rnn, head, rec, spec.data.per_step)


def _init_embedding(m: nn.Embedding, g: torch.Generator) -> None:
    nn.init.normal_(m.weight, generator=g)
    if m.padding_idx is not None:
        with torch.no_grad():
            m.weight[m.padding_idx].fill_(0)


def _init_recurrent(m: nn.RNNBase | nn.RNNCellBase, g: torch.Generator) -> None:
    bound = 1.0 / math.sqrt(m.hidden_size) if m.hidden_size > 0 else 0.0
    for p in m.parameters():
        nn.init.uniform_(p, -bound, bound, generator=g)


INITIALISERS: dict[type, Callable[[nn.Module, torch.Generator], None]] = {
    nn.Embedding: _init_embedding,
    nn.RNNBase: _init_recurrent,
    nn.RNNCellBase: _init_recurrent,
}


def init_(model: nn.Module, generator: torch.Generator) -> None:
    """PyTorch's default initialisation of embeddings and recurrent layers, from generator."""
    for module in model.modules():
        for kind, init in INITIALISERS.items():
            if isinstance(module, kind):
                init(module, generator)


# --- the replay: hidden states and gates, step by step ------------------------------------------


def _lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    i, f, g, o = (x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c = f * c + i * g
    return o * torch.tanh(c), c, {"input": i, "forget": f, "output": o}


def _gru_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    x_r, x_z, x_n = (x @ w_ih.T + b_ih).chunk(3, dim=-1)
    h_r, h_z, h_n = (h @ w_hh.T + b_hh).chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h, c, {"reset": r, "update": z}


def _rnn_step(x, h, c, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh), c, {}


STEPS: dict[str, Callable] = {"RNN": _rnn_step, "LSTM": _lstm_step, "GRU": _gru_step,
                              "LSTMCell": _lstm_step}  # fmt: skip


def _weights(rnn: nn.Module, layer: int, sfx: str) -> tuple[torch.Tensor, ...]:
    """(w_ih, w_hh, b_ih, b_hh) of one layer and direction, from nn.RNNBase or SteppedLSTM."""
    if isinstance(rnn, SteppedLSTM):
        cell = rnn.cells[f"l{layer}{sfx}"]
        return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh
    return tuple(getattr(rnn, f"{w}_l{layer}{sfx}")
                 for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))  # fmt: skip


@torch.no_grad()
def replay(model: SequenceModel, x: torch.Tensor) -> list[dict]:
    """Step one unpadded sequence x (T, F), already embedded, through every layer by hand.

    Returns, per layer, {"hidden": (T, D*H), "gates": {name: (T, H)}} where the gates are the
    forward direction's (empty for a plain RNN). The top layer's hidden equals the model's
    output at every step.
    """
    if model.cell == "BagOfWords":
        return []
    rnn, step = model.rnn, STEPS[model.cell]
    layers = []
    suffixes = ("", "_reverse") if model.directions == 2 else ("",)
    for layer in range(rnn.num_layers):
        outputs, gates = [], {}
        for sfx in suffixes:
            w = _weights(rnn, layer, sfx)
            seq = x.flip(0) if sfx else x
            h = x.new_zeros(rnn.hidden_size)
            c = torch.zeros_like(h)
            hs, gs = [], []
            for t in range(seq.shape[0]):
                h, c, g = step(seq[t], h, c, *w)
                hs.append(h)
                gs.append(g)
            hs = torch.stack(hs)
            outputs.append(hs.flip(0) if sfx else hs)
            if not sfx and gs and gs[0]:
                gates = {k: torch.stack([g[k] for g in gs]) for k in gs[0]}
        x = torch.cat(outputs, dim=1)
        layers.append({"hidden": x, "gates": gates})
    return layers


def read_sentence(model: SequenceModel, vocab: tuple[str, ...], text: str,
                  device: torch.device, output: str) -> dict:
    """A typed sentence through a trained token model: the words it knows, those it does not
    (left out), the class probabilities, and the top layer's hidden state per word."""
    ids = {w: i for i, w in enumerate(vocab)}
    words = tokenize(text)
    known = [w for w in words if w in ids and ids[w] > 1]
    unknown = [w for w in words if w not in known]
    result = {"words": known, "unknown": unknown, "probs": None, "hidden": None, "gates": {}}
    if not known:
        return result
    tokens = torch.tensor([[ids[w] for w in known]], device=device)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(tokens)
            layers = replay(model, model.embed(tokens)[0])
    finally:
        model.train(was_training)
    result["probs"] = models.probabilities(out, output)[0].cpu().numpy()
    if layers:
        result["hidden"] = layers[-1]["hidden"].T.cpu().numpy()  # (units, words)
        result["gates"] = {k: v.T.cpu().numpy() for k, v in layers[-1]["gates"].items()}
    return result


def restore(spec: ExperimentSpec, state_dict: dict) -> SequenceModel:
    """A trained model rebuilt on the CPU from its spec and a checkpoint, in eval mode."""
    model = build(spec, spec.data.info.features, spec.data.n_classes)
    model.load_state_dict(state_dict)
    return model.eval()


def try_sentence(spec: ExperimentSpec, state_dict: dict, text: str) -> dict:
    """read_sentence() with a trained run's checkpoint: the model rebuilt on the CPU."""
    output = loss_info(spec.loss.name, spec.task).output
    got = read_sentence(restore(spec, state_dict), VOCAB, text, torch.device("cpu"), output)
    return got | {"classes": SENTIMENT_CLASSES}


def _meanings(model: SequenceModel) -> dict[str, str]:
    """What each axis of each traced tensor is, in the reference's words."""
    d = "2·" if model.directions == 2 else ""
    steps = "(batch, seq_len, {})" if model.batch_first else "(seq_len, batch, {})"
    return {
        "input": "(batch, seq_len): token ids, 0 is padding" if model.embedding is not None
        else "(batch, seq_len, features)",
        "embedding": "(batch, seq_len, embedding_dim): one vector per token",
        "rnn input": steps.format("input_size") + ("" if model.batch_first else
                                                   ": batch_first=False puts time first"),
        "packed": "(sum of lengths, input_size): pack_padded_sequence keeps only real steps",
        "rnn output": steps.format(f"{d}hidden_size") + ": the top layer's h at every step"
        + (", forward and backward side by side" if d else ""),
        "h_n": f"({d}num_layers, batch, hidden_size): each layer's h after its last step",
        "c_n": f"({d}num_layers, batch, hidden_size): each layer's cell state after its last "
               "step",
        "head input": f"(batch, seq_len, {d}hidden_size): every step's output"
        if model.per_step else f"(batch, {d}hidden_size): the top layer of h_n"
        + (" (forward and backward)" if d else "")
        if model.cell != "BagOfWords" else "(batch, features): the mean over the real steps",
        "output": "(batch, seq_len, outputs)" if model.per_step else "(batch, outputs)",
    }  # fmt: skip


def shape_table(model: SequenceModel, x: torch.Tensor, lengths: torch.Tensor | None = None
                    ) -> list[dict]:
    """Each stage of one forward pass on a batch: its name, shape and what the axes are."""
    meanings = _meanings(model)
    return [{"stage": stage, "shape": str(tuple(shape)), "meaning": meanings.get(stage, "")}
            for stage, shape in model.shapes(x, lengths)]  # fmt: skip


@functools.lru_cache(maxsize=16)  # the page asks at every rerun (a slider moved, a click)
def example_shapes(spec: ExperimentSpec) -> tuple[str, list[dict]]:
    """print(model) with its parameter count, and shape_table() on the spec's first batch;
    the model and the batch are built on the meta device, so a preview allocates nothing
    however large the setup (only the real batch's lengths are read). Shared: not to change."""
    ds = datasets.build(spec.data, spec.seed)
    with torch.device("meta"):
        model = build(spec, ds.in_features, ds.n_classes)
    bs = min(spec.train.batch_size, len(ds.x_train))
    x = torch.empty((bs, *ds.x_train.shape[1:]), dtype=ds.x_train.dtype, device="meta")
    lengths = None if ds.lengths_train is None else ds.lengths_train[:bs].cpu()
    return models.printout(model), shape_table(model, x, lengths)
