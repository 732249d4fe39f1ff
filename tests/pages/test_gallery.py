"""The class-presets gallery under AppTest: a card per preset, Open loads it on its page, the
teacher link, and presentation mode."""

from __future__ import annotations

from pathlib import Path

from nnplay import presets

PAGE = "views/6_Gallery.py"
ROOT = Path(__file__).resolve().parents[2]


def open_gallery(at):
    at.run()
    return at.switch_page(PAGE).run()


def test_a_card_per_preset_with_its_goal(app):
    at = open_gallery(app)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    for preset in presets.all_presets():
        button = at.button(key=f"open.{preset.name}")
        assert preset.goal in text
        page_file = {"Playground": "views/1_Playground.py", "Compare": "views/3_Compare.py",
                     "Sequences": "views/2_Sequences.py"}[preset.page]  # fmt: skip
        assert button.disabled is not (ROOT / page_file).is_file()


def test_open_loads_a_playground_preset(app):
    at = open_gallery(app)
    at.button(key="open.dead-relus").click().run()
    assert not at.exception
    assert at.title[0].value == "Playground"
    assert at.selectbox(key="data.name").value == "circle"
    assert at.selectbox(key="optimizer.name").value == "SGD"
    assert at.select_slider(key="optimizer.lr").value == 2.0
    assert any("Dead ReLUs at a high learning rate" in i.value for i in at.info)


def test_open_loads_a_race_on_compare(app):
    at = open_gallery(app)
    at.button(key="open.sgd-vs-adam-digits").click().run()
    assert not at.exception
    assert at.title[0].value == "Compare optimisers"
    assert at.selectbox(key="compare.base").value == "sgd-vs-adam-digits"
    assert at.select_slider(key="c2.lr").value == 0.003


def test_teacher_link_names_the_preset_and_the_hidden_controls(app):
    at = open_gallery(app)
    at.selectbox(key="teach.preset").set_value("dropout").run()
    at.multiselect(key="teach.hide").set_value(["layers", "optimizer.lr"]).run()
    link = at.code[-1].value
    assert link.endswith("/?preset=dropout&hide=layers,optimizer.lr")  # Playground: the root
    at.selectbox(key="teach.preset").set_value("sgd-vs-adam-digits").run()
    assert at.code[-1].value.endswith("/compare?preset=sgd-vs-adam-digits&hide=layers,"
                                      "optimizer.lr")


def test_presentation_mode_enlarges_text_on_every_page(app):
    at = open_gallery(app)
    assert not any("font-size: 22px" in h.proto.body for h in at.get("html"))
    at.toggle(key="presentation").set_value(True).run()
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))
    at.switch_page("views/4_Activations.py").run()
    assert at.toggle(key="presentation").value is True
    assert any("font-size: 22px" in h.proto.body for h in at.get("html"))


def test_hide_hides_playground_controls_and_lasts_the_session(app):
    app.query_params["hide"] = "layers,optimizer.lr"
    at = app.run()
    assert not at.exception
    css = " ".join(h.proto.body for h in at.get("html"))
    assert '[class*="st-key-add-"]' in css and ".st-key-optimizer-lr" in css
    assert at.select_slider(key="optimizer.lr").value  # hidden, still set
    at.query_params.pop("hide")
    at.switch_page("views/3_Compare.py").run()  # another page, the link's params gone
    css = " ".join(h.proto.body for h in at.get("html"))
    assert ".st-key-optimizer-lr" in css
