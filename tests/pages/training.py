"""Training a run on the Playground under AppTest, as several page tests begin."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest


def finished(at: AppTest) -> bool:
    """The page says its run finished."""
    return any("Finished" in e.value for e in at.success)


def train_to_end(app: AppTest, poll: Callable[..., AppTest], dataset: str = "xor",
                 epochs: int = 2) -> AppTest:
    """The Playground with dataset and epochs chosen, Train pressed, polled until Finished."""
    at = app.run()
    at.selectbox(key="data.name").set_value(dataset).run()
    at.number_input(key="train.epochs").set_value(epochs).run()
    at.button(key="train").click().run()
    return poll(at, finished)
