"""The reading table is generated, from pinned sources, and what it holds is what the canonical
reading promises."""

import importlib.util
from pathlib import Path

import pytest

from seekworld.text import canonical

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "seekworld" / "text" / "data" / "reading.json.gz"


def _builder():
    spec = importlib.util.spec_from_file_location("build_reading", ROOT / "tools" / "build_reading.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rebuild_is_byte_identical(tmp_path):
    builder = _builder()
    if builder.missing():
        pytest.skip("pinned reading sources not fetched: " + ", ".join(builder.missing()))
    out = tmp_path / "reading.json.gz"
    assert builder.main(["--out", str(out)]) == 0
    assert out.read_bytes() == TABLE.read_bytes()


@pytest.mark.parametrize(
    "text, read",
    [
        ("Gal\u200bicia", "Galicia"),  # zero-width space
        ("Gal\u00adicia\ufe0f", "Galicia"),  # soft hyphen, variation selector
        ("ｇａｌｉｃｉａ，", "galicia,"),  # full width
        ("x\U000e0041\U000e0042y", "xy"),  # tag characters
        ("a\u3164b\u115fc", "abc"),  # Hangul fillers
        ("\u202eaicilaG\u202c", "aicilaG"),  # bidi controls go; the order stays as stored
        ("Москва", "Москва"),  # read keeps letters as written
    ],
)
def test_read(text, read):
    assert canonical.read(text) == read


@pytest.mark.parametrize(
    "text, folded",
    [
        ("gаlicia", "galicia"),  # Cyrillic а
        ("pοrtugal", "portugal"),  # Greek ο
        ("ꓮꓢturias", "asturias"),  # Lisu
        ("ɑsturiɑs", "asturias"),  # Latin alpha
        ("москва", canonical.fold("мocквa")),  # the reverse: Latin o, c, a in a Cyrillic word
        ("գամբիա", "գամբիա"),  # Armenian is not folded (գ and զ would merge Gambia and Zambia)
        ("广东", "广东"),
    ],
)
def test_fold(text, folded):
    assert canonical.fold(text) == folded


def test_looks_reads_capitals_as_they_look():
    assert canonical.looks("Вerlin") == "Berlin"  # Cyrillic В
    assert canonical.fold("вerlin") != "berlin"  # its small letter reads as no Latin letter
    assert canonical.looks("ΗOKKAIDO") == "HOKKAIDO"  # Greek Η


def test_reorders_and_display_order():
    assert canonical.reorders("Spain \u202elagutroP\u202c") and not canonical.reorders("Spain \u200f")
    assert canonical.display_order("Spain, \u202elagutroP\u202c.") == "Spain, Portugal."
