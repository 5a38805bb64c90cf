"""Gold labels: SeekWorld's string form and the structured form."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seekworld.geo.gazetteer import load_gazetteer
from seekworld.geo.label import LabelError, format_label, parse_label


@pytest.mark.parametrize(
    "label, country, regions",
    [
        ("$china,guangdong/guangdong province$", "china", ("guangdong", "guangdong province")),
        ("$ Japan , Osaka / Osaka Prefecture $", "Japan", ("Osaka", "Osaka Prefecture")),
        ("china,guangdong", "china", ("guangdong",)),  # no dollar signs
        ("$中国，广东$", "中国", ("广东",)),  # full-width comma
        ("$united states,washington, d.c.$", "united states", ("washington, d.c.",)),  # comma in a region
        ("$singapore$", "singapore", ()),
    ],
)
def test_string_labels(label, country, regions):
    gold = parse_label(label)
    assert gold.country == country
    assert gold.regions == regions


def test_string_label_resolves_ids():
    gold = parse_label("$china,guangdong/guangdong province$")
    assert (gold.country_id, gold.place_id) == ("CN", "CN-GD")
    assert parse_label("$Taiwan,Taipei City$").place_id == "TW-TPE"


def test_territory_labels_are_canonical():
    # Google says "Hong Kong" is a country; ISO says CN-HK. Both labels name one place.
    assert parse_label("$china,hong kong$").place_id == parse_label("$hong kong,hong kong$").place_id == "HK"


def test_structured_label_dict_and_string_agree():
    obj = {"country": "China", "region": "Sichuan", "aliases": ["四川"], "lat": 30.66, "lon": 104.06}
    a, b = parse_label(obj), parse_label(json.dumps(obj, ensure_ascii=False))
    assert a == b
    assert (a.country_id, a.place_id, a.lat, a.lon) == ("CN", "CN-SC", 30.66, 104.06)
    assert a.regions == ("Sichuan", "四川")


def test_structured_label_carries_image_and_extras():
    gold = parse_label({"label": "$japan,osaka$", "image": "/data/1.jpg", "source": "global"})
    assert gold.place_id == "JP-27"
    assert gold.image == "/data/1.jpg"
    assert dict(gold.extra) == {"label": "$japan,osaka$", "source": "global"}


def test_aliases_as_slash_string():
    assert parse_label({"country": "Japan", "region": "Osaka", "aliases": "大阪/Ōsaka"}).regions == (
        "Osaka",
        "大阪",
        "Ōsaka",
    )


@pytest.mark.parametrize(
    "label, message",
    [
        ("", "empty label"),
        ("$ $", "empty label"),
        ("$,guangdong$", "no country"),
        ('{"country": 3}', "non-empty string 'country'"),
        ('{"country": "China", "lat": 1}', "only one of"),
        ('{"country": "China", "lat": 100, "lon": 0}', "out of range"),
        ('{"country": "China", "lat": "north", "lon": 0}', "must be a number"),
        ('{"country": "China", "aliases": [1]}', "'aliases'"),
        ("{not json", "does not parse"),
        ("[1, 2]", "no country"),
        (42, "string or an object"),
    ],
)
def test_bad_labels_say_what_is_wrong(label, message):
    with pytest.raises(LabelError, match=message):
        parse_label(label)


def test_format_label_round_trips():
    text = format_label("china", ["guangdong", "guangdong province"])
    assert text == "$china,guangdong/guangdong province$"
    assert parse_label(text).regions == ("guangdong", "guangdong province")


# --- free text is no label ---------------------------------------------------------------------

WORDS = st.text(
    alphabet=st.characters(categories=("L", "N", "Zs", "P"), exclude_characters="$,{/"), max_size=40
)


@given(WORDS)
def test_text_naming_no_known_country_and_in_no_known_form_is_a_label_error(text):
    # not `$...$`, not JSON, and no country the gazetteer knows: a label error (it pays nothing)
    if load_gazetteer().resolve_country(text.strip()) is None and any(ch.isalpha() for ch in text):
        with pytest.raises(LabelError, match="names no known country"):
            parse_label(text)


@given(WORDS.filter(lambda t: any(ch.isalpha() for ch in t)))
def test_the_dollar_form_is_a_label_whatever_its_country(country):
    # a country missing from the gazetteer must not fail a correct answer: names are compared
    assert parse_label(f"${country},some region$").regions == ("some region",)


def test_free_text_and_known_countries():
    with pytest.raises(LabelError, match="not a label X"):
        parse_label("not a label X")
    assert parse_label("Japan").country_id == "JP"  # a known country alone is a label
    assert parse_label("$atlantis,x$").country_id is None  # the dollar form, an unknown country
