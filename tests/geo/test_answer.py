"""Answer extraction and resolution (the one answer parser)."""

import pytest

from seekworld.geo.answer import AnswerError, extract_answer, parse_answer


@pytest.mark.parametrize(
    "response, content",
    [
        ("<think>a</think><answer>China, Sichuan</answer>", "China, Sichuan"),
        ("<ANSWER>x</ANSWER>", "x"),  # tag case does not matter for extraction
        ("<answer>\nline one\n</answer>", "\nline one\n"),
    ],
)
def test_extract_answer(response, content):
    assert extract_answer(response) == content


@pytest.mark.parametrize(
    "response, message",
    [
        ("no tags", "no <answer>"),
        ("<answer>unclosed", "no <answer>"),
        ("<answer>a</answer><answer>b</answer>", "2 <answer> blocks"),
        ("<answer><answer>a</answer>", "2 <answer> blocks"),
    ],
)
def test_extract_answer_errors(response, message):
    with pytest.raises(AnswerError, match=message):
        extract_answer(response)


@pytest.mark.parametrize(
    "content, country, place",
    [
        ("China, Sichuan", "CN", "CN-SC"),
        ("Sichuan, China", "CN", "CN-SC"),  # region first
        ("中国四川省", "CN", "CN-SC"),  # no separator
        ("China Sichuan", "CN", "CN-SC"),
        ("$china,sichuan$", "CN", "CN-SC"),
        ("Country: China; Region: Sichuan", "CN", "CN-SC"),  # field labels, whatever stands between
        ("China - Sichuan Province", "CN", "CN-SC"),  # no comma: words are cut, type words kept
        ("Sichuan China", "CN", "CN-SC"),
        ("New York USA", "US", "US-NY"),  # a state, not "the US again"
        ("The answer is China, Sichuan", "CN", "CN-SC"),
        ("答案：中国，四川", "CN", "CN-SC"),
        ("China, Hong Kong", "HK", "HK"),  # territory: canonical country ID
        ("China, Taipei", "TW", "TW-TPE"),  # a territory's region said of its parent
        ("Washington, USA", "US", "US-WA"),  # "Washington" is also a name of the US; here the state
        ("USA, Washington, D.C.", "US", "US-DC"),  # a comma inside one region name
        ("Singapore, Singapore", "SG", "SG"),
    ],
)
def test_parse_answer_resolves(content, country, place):
    parsed = parse_answer(content)
    assert (parsed.country_id, parsed.place_id) == (country, place)


@pytest.mark.parametrize(
    "content",
    [
        "China, Guangdong or Guangxi",
        "China, Guangdong / Guangxi",
        "中国，广东还是广西",
        "China or Vietnam, Guangdong",
        "China, Guangdong, Guangxi",
        "Spain, Portugal",
        "USA, California, Nevada",  # "Nevada" is no name of the US (a source lists it as one)
        "California or Nevada, USA",
    ],
)
def test_hedges_resolve_to_nothing(content):
    parsed = parse_answer(content)
    assert parsed.hedge and parsed.place_id is None and not parsed.resolved


def test_two_names_for_one_region_is_not_a_hedge():
    parsed = parse_answer("China, Guangdong or Canton")
    assert not parsed.hedge and parsed.place_id == "CN-GD"


def test_conjunction_inside_a_region_name_is_kept():
    assert parse_answer("Canada, Newfoundland and Labrador").place_id == "CA-NL"
    assert parse_answer("India, Jammu and Kashmir").place_id == "IN-JK"


@pytest.mark.parametrize(
    "content, coords",
    [
        ("30.66, 104.06", (30.66, 104.06)),
        ("China, Sichuan, 30.66, 104.06", (30.66, 104.06)),
        ("33.87S 151.21E", (-33.87, 151.21)),
        ("40.7128° N, 74.0060° W", (40.7128, -74.006)),
        ("China, Sichuan", None),
        ("Route 66, 12", None),  # bare integers are not coordinates
        ("95.0, 10.0", None),  # latitude out of range
    ],
)
def test_coordinates(content, coords):
    assert parse_answer(content).coordinates == coords


def test_coordinates_do_not_disturb_the_region():
    parsed = parse_answer("China, Sichuan, 30.66, 104.06")
    assert parsed.place_id == "CN-SC"


def test_unresolved_answer_keeps_its_words_and_says_why():
    parsed = parse_answer("China, Atlantis")
    assert parsed.country_id == "CN" and parsed.place_id is None
    assert parsed.region_text == "Atlantis"
    assert "not a first-level region of CN" in parsed.error
    nothing = parse_answer("Narnia, Cair Paravel")
    assert (nothing.country_text, nothing.region_text) == ("Narnia", "Cair Paravel")
    assert "no country found" in nothing.error
