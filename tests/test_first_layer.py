"""Tests for nnplay.first_layer and nnplay.charts.weights: an image model's first-layer weights as
one tile per unit, each tile the unit's weight row reshaped to the image, drawn as one PNG on one
scale centred on 0; computed in the training thread and reaching a run's snapshot."""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from nnplay import first_layer, runs, store, train
from nnplay.charts import weights
from nnplay.spec import ExperimentSpec

torch.set_num_threads(1)
CPU = torch.device("cpu")


def digits_spec(units: int = 16, **changes: object) -> ExperimentSpec:
    return ExperimentSpec().with_changes({
        "data.name": "digits", "train.max_steps": 6, "train.batch_size": 32,
        "model.layers": [{"type": "linear", "units": units},
                         {"type": "activation", "name": "ReLU"}],
        **changes,
    })  # fmt: skip


def decode_png(uri: str) -> np.ndarray:
    """The palette indices of a PNG written by weights.png (8-bit, filter byte 0 per row)."""
    data = base64.b64decode(uri.split(",", 1)[1])
    pos, idat, size = 8, b"", (0, 0)
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])  # width, height
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h = size
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, w + 1)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:]


def test_the_tile_of_unit_j_is_its_weight_row_reshaped():
    ds, model, _ = train.prepare(digits_spec(units=20), CPU)
    assert first_layer.applies(model, ds.kind, ds.image_shape)
    found = first_layer.weight_tiles(model, ds.image_shape)
    w = model.fc1.weight.detach().numpy()
    assert found["layer"] == "fc1" and found["units"] == 20
    assert found["tiles"].shape == (20, 8, 8)
    for j in range(20):
        np.testing.assert_array_equal(found["tiles"][j], w[j].reshape(8, 8))


def test_a_wide_layer_shows_its_first_64_units():
    ds, model, _ = train.prepare(digits_spec(units=100), CPU)
    found = first_layer.weight_tiles(model, ds.image_shape)
    assert found["tiles"].shape == (64, 8, 8) and found["units"] == 100
    np.testing.assert_array_equal(found["tiles"][63], model.fc1.weight[63].detach().reshape(8, 8))


def test_no_hidden_layer_draws_the_output_layer():
    ds, model, _ = train.prepare(digits_spec().with_changes({"model.layers": []}), CPU)
    found = first_layer.weight_tiles(model, ds.image_shape)
    assert found["layer"] == "out" and found["tiles"].shape == (10, 8, 8)


@pytest.mark.parametrize("name", ["spiral", "circle"])
def test_only_image_sets_get_tiles(name):
    spec = ExperimentSpec().with_changes({"data.name": name, "data.n_samples": 100})
    ds, model, _ = train.prepare(spec, CPU)
    assert not first_layer.applies(model, ds.kind, ds.image_shape)


def test_the_sheet_puts_tile_j_at_its_place_with_gaps_between():
    tiles = np.random.default_rng(0).normal(size=(20, 8, 8)).astype(np.float32)
    sheet = weights.sheet(tiles)
    cols, rows, g = weights.layout(20, 8, 8)
    assert (cols, rows, g) == (5, 4, 1)
    assert sheet.shape == (4 * 9 - 1, 5 * 9 - 1)
    for j in range(20):
        r, c = divmod(j, cols)
        np.testing.assert_array_equal(sheet[r * 9:r * 9 + 8, c * 9:c * 9 + 8], tiles[j])
    assert np.isnan(sheet[8]).all() and np.isnan(sheet[:, 8]).all()  # the gaps
    assert weights.layout(64, 28, 28) == (8, 8, 4) and weights.layout(10, 8, 8)[:2] == (4, 3)
    assert np.isnan(weights.sheet(tiles[:18])[27:, 3 * 9:]).all()  # no tile after the last


def test_the_chart_is_one_image_on_a_scale_centred_on_0_and_hover_names_the_unit():
    tiles = np.random.default_rng(1).normal(size=(64, 28, 28)).astype(np.float32)
    tiles[5, 0, 0] = 40.0  # one outlier saturates rather than setting the scale
    fig = weights.weights_chart({"tiles": {"kind": "weights", "layer": "fc1", "units": 128,
                                           "tiles": tiles}})  # fmt: skip
    go.Figure(fig.to_dict())  # valid for plotly
    images = [t for t in fig.data if t.type == "image"]
    assert len(images) == 1
    pixels = decode_png(images[0].source)
    zmax = weights.scale_end(tiles)
    assert zmax == pytest.approx(np.percentile(np.abs(tiles), 99)) and zmax < 4
    np.testing.assert_array_equal(pixels, weights.indices(weights.sheet(tiles), zmax))
    cols, _, g = weights.layout(64, 28, 28)
    j = 37
    r, c = divmod(j, cols)
    block = pixels[r * (28 + g):r * (28 + g) + 28, c * (28 + g):c * (28 + g) + 28]
    np.testing.assert_array_equal(block, weights.indices(tiles[j], zmax))
    assert weights.indices(np.array([0.0]), zmax)[0] == 128  # 0 is white, mid-scale
    assert pixels[28, 0] == 0  # a gap is transparent
    assert block.max() == 255 and weights.indices(np.array([40.0]), zmax)[0] == 255
    scale = next(t for t in fig.data if t.name == "scale")
    assert scale.marker.cmin == -scale.marker.cmax == pytest.approx(-zmax)
    units = next(t for t in fig.data if t.name == "units")
    assert units.text[j].startswith("unit 37 of fc1")
    x, y = units.x[j], units.y[j]  # the hover point sits on its tile
    assert c * (28 + g) <= x <= c * (28 + g) + 27 and r * (28 + g) <= y <= r * (28 + g) + 27
    assert "first 64 of 128 units" in fig.layout.title.text


def test_no_tiles_no_chart():
    assert weights.weights_chart({}) is None
    assert weights.weights_chart({"tiles": None}) is None


def test_a_digits_run_sends_its_tiles_from_the_training_thread_to_the_snapshot():
    run = runs.Run(digits_spec())
    run.execute(CPU, threads=1)
    snap = run.snapshot()
    assert snap["status"] == "finished", snap["message"]
    tiles = snap["tiles"]
    assert tiles is not None and tiles["tiles"].shape == (16, 8, 8)
    assert weights.weights_chart(snap) is not None


def test_the_tiles_follow_training_and_the_last_equals_the_final_weights():
    class Keep(train.Callback):
        def __init__(self):
            self.seen: list[np.ndarray] = []

        def on_flush(self, chunk: dict) -> None:
            if chunk.get("tiles") is not None:
                self.seen.append(chunk["tiles"]["tiles"])

    spec = digits_spec(**{"optimizer.lr": 0.5})
    ds, model, device = train.prepare(spec, CPU)
    start = model.fc1.weight.detach().clone()
    keep = Keep()
    train.fit(model, ds, spec, device, [keep])
    assert keep.seen  # the final flush at least
    final = model.fc1.weight.detach().numpy().reshape(16, 8, 8)
    np.testing.assert_array_equal(keep.seen[-1], final)
    assert not np.array_equal(keep.seen[-1], start.numpy().reshape(16, 8, 8))


def test_stored_tiles_come_back_as_the_same_chart():
    ds, model, _ = train.prepare(digits_spec(), CPU)
    snap = {"tiles": first_layer.weight_tiles(model, ds.image_shape)}
    back = store.loads(store.dumps({"final": snap}))["final"]  # as a finished run keeps them
    np.testing.assert_array_equal(back["tiles"]["tiles"], snap["tiles"]["tiles"])
    assert weights.weights_chart(back).to_json() == weights.weights_chart(snap).to_json()
