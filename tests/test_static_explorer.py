"""oversmoothing.plotting.static_explorer: one call, live widgets or pre-rendered HTML (the page test drives the
HTML in Chromium: tests/book/test_html.py::test_static_explorers_move_without_a_kernel)."""

from __future__ import annotations

import json
import re

import ipywidgets as widgets
import matplotlib.pyplot as plt
import pytest

from oversmoothing.plotting import Control, static_explorer
from oversmoothing.plotting.static_explorer import STATIC_ENV, is_static


def render(slope, kind="line"):
    fig, ax = plt.subplots(figsize=(2, 1.5))
    ax.plot([0, 1], [0, slope], "-" if kind == "line" else "o")
    return fig


def describe(slope, kind="line"):
    return f"slope {slope}, {kind}: {'rising' if slope > 0 else 'falling'}"


CONTROLS = {"slope": Control("slope", [-1.0, 0.5, 2.0], default=0.5), "kind": Control("kind", ["line", "dots"])}


def frames(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" class="static-explorer-frames">(.*?)</script>',
                                html, re.S)[1])


def test_static_mode_renders_every_grid_point_with_its_label():
    html = static_explorer(render, CONTROLS, describe=describe, static=True).data
    data = frames(html)
    assert sorted(data["frames"]) == [f"{i},{j}" for i in range(3) for j in range(2)]
    assert len({frame["src"] for frame in data["frames"].values()}) == 6              # six distinct images
    assert data["frames"]["2,1"]["label"] == "slope 2.0, dots: rising"
    assert data["values"] == {"slope": ["-1", "0.5", "2"], "kind": ["line", "dots"]}
    # the page opens on the defaults: the second slope, the first kind
    assert 'value="1" data-control="slope"' in html and '<option value="0" selected>line</option>' in html
    assert data["frames"]["1,0"]["src"] in html.split('class="static-explorer-frames"')[0]
    assert 'aria-live="polite">slope 0.5, line: rising</output>' in html
    assert int(re.search(r'data-bytes="(\d+)"', html)[1]) > 0
    assert plt.get_fignums() == []                                                     # every figure closed


def test_live_mode_gives_a_slider_and_a_menu():
    box = static_explorer(render, CONTROLS, describe=describe, static=False)
    slider, menu = box.children[0].children
    assert isinstance(slider, widgets.SelectionSlider) and slider.value == 0.5 and slider.description == "slope"
    assert isinstance(menu, widgets.Dropdown) and menu.value == "line"
    assert box.children[1].value == "slope 0.5, line: rising"
    menu.value = "dots"
    assert box.children[1].value == "slope 0.5, dots: rising"
    plt.close("all")


def test_the_mode_follows_the_environment(monkeypatch):
    monkeypatch.setenv(STATIC_ENV, "1")
    assert is_static()
    assert "data-static-explorer" in static_explorer(render, {"slope": CONTROLS["slope"]}, describe=describe).data
    monkeypatch.delenv(STATIC_ENV)
    assert not is_static()


@pytest.mark.parametrize(("arguments", "error", "message"), [
    (dict(controls={}), ValueError, "controls"),
    (dict(controls={"a": CONTROLS["slope"], "b": CONTROLS["kind"], "c": CONTROLS["kind"]}), ValueError, "controls"),
    (dict(controls={"slope": [1, 2]}), TypeError, "controls\\['slope'\\]"),
    (dict(max_bytes=0), ValueError, "max_bytes"),
    (dict(max_bytes=100), ValueError, "max_bytes"),
    (dict(describe="not callable"), TypeError, "describe"),
])
def test_bad_arguments_are_named(arguments, error, message):
    options = dict(controls=CONTROLS, describe=describe, static=True) | arguments
    controls = options.pop("controls")
    with pytest.raises(error, match=message):
        static_explorer(render, controls, **options)
    plt.close("all")


def test_render_must_return_a_figure():
    with pytest.raises(TypeError, match="Figure"):
        static_explorer(lambda slope: None, {"slope": CONTROLS["slope"]}, describe=describe, static=True)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(label="", values=[1]), "label"),
    (dict(label="x", values=[]), "values"),
    (dict(label="x", values=[1, 1]), "repeats"),
    (dict(label="x", values=[1, 2], default=3), "default"),
])
def test_controls_check_their_values(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Control(**kwargs)
