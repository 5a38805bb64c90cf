"""Accuracy: the verifier RL optimises. One row per case, with why it scores what it scores."""

import pytest

from seekworld.geo.label import parse_label
from seekworld.rewards.accuracy import check, compute_score


def wrap(content: str) -> str:
    return f"<think>I see signs.</think><answer>{content}</answer>"


def score(label: str, content: str, **kw) -> float:
    return compute_score(wrap(content), parse_label(label), **kw)


CORRECT = [
    # issue examples
    ("$spain,galicia$", " $ Spain , Galicia $ "),
    ("$japan,osaka/osaka prefecture$", "日本，大阪府"),
    ("$united arab emirates,dubai$", "UAE, Dubai"),
    ("$germany,saxony/sachsen$", "Deutschland, Sachsen"),
    ("$china,guangdong/guangdong province$", "中国，广东省"),
    ("$united states,texas$", "美国，德克萨斯州"),
    ("$canada,british columbia$", "Canada, BC"),
    ("$italy,sicily/sicilia$", "Italy, Sicilia"),
    # short forms and codes
    ("$united states,california$", "USA, CA"),
    ("$united states,new york$", "US, NY"),
    ("$united kingdom,scotland$", "UK, Scotland"),
    ("$australia,new south wales$", "Australia, NSW"),
    ("$brazil,são paulo$", "Brasil, SP"),
    # exonyms and local names
    ("$germany,bavaria/bayern$", "Germany, Bayern"),
    ("$germany,bavaria$", "Germany, Bayern"),  # alias not in the label: the table knows
    ("$china,inner mongolia$", "中国，内蒙古自治区"),
    ("$china,inner mongolia$", "China, Nei Mongol"),
    ("$austria,upper austria/oberösterreich$", "Austria, Oberösterreich"),
    ("$austria,upper austria$", "Österreich, Oberoesterreich"),  # transliterated umlaut
    ("$russia,moscow oblast$", "Россия, Московская область"),
    ("$france,brittany$", "France, Bretagne"),
    ("$spain,catalonia$", "España, Cataluña"),
    ("$japan,tokyo$", "Japan, Tokyo-to"),
    ("$japan,hokkaido$", "日本，北海道"),
    ("$south korea,gyeonggi-do$", "대한민국, 경기도"),
    # Traditional Chinese, full-width punctuation, no separator
    ("$china,guangdong$", "中國，廣東省"),
    ("$china,sichuan$", "中国四川省"),
    ("$china,sichuan$", "ＣＨＩＮＡ，ＳＩＣＨＵＡＮ"),
    # type words as a second pass
    ("$china,sichuan$", "China, Sichuan Province"),
    ("$china,sichuan$", "China, Sichuan Sheng"),
    ("$mexico,jalisco$", "Mexico, State of Jalisco"),
    # order and wrappers
    ("$china,guangdong$", "Guangdong, China"),
    ("$china,guangdong$", "$China,Guangdong$."),
    ("$china,guangdong$", "Country: China, Region: Guangdong"),
    ("$china,guangdong$", "China, Guangdong, Shenzhen"),  # a city after the region is fine
    ("$china,guangdong$", "China, Guangdong (广东)"),  # a gloss naming the same region
    ("$china,guangdong$", "China, Guangdong/广东"),  # two names of one place is not a hedge
    ("$china,guangdong$", "China, possibly Guangdong"),  # doubt, but one answer
    ("$china,guangdong$", "中国，可能是广东"),
    # territories Google lists as countries
    ("$taiwan,taipei city$", "Taiwan, Taipei"),
    ("$hong kong,hong kong$", "China, Hong Kong"),
    ("$china,hong kong$", "Hong Kong, Hong Kong"),
    # case and spacing of the label
    ("$ SPAIN , Galicia $", "spain, galicia"),
    ("$united states,district of columbia/washington, d.c.$", "United States, Washington, D.C."),
    # structured labels
    ('{"country": "China", "region": "Sichuan", "aliases": ["四川"]}', "中国，四川"),
    ('{"country": "Japan", "region": "Osaka", "lat": 34.69, "lon": 135.5}', "Japan, Osaka"),
]


@pytest.mark.parametrize("label, content", CORRECT)
def test_correct_answers_score_one(label, content):
    result = check(wrap(content), parse_label(label))
    assert result.score == 1.0, result.reason


WRONG = [
    # issue examples
    ("$china,guangdong/guangdong province$", "China, Shandong"),
    ("$austria,upper austria/oberösterreich$", "Austria, Niederösterreich"),
    ("$china,guangdong/guangdong province$", "China, Guangdong or Guangxi"),
    ("$china,guangdong/guangdong province$", "China"),
    # near names the old edit-distance verifier accepted
    ("$china,henan$", "China, Hunan"),
    ("$china,hebei$", "China, Hubei"),
    ("$china,shanxi$", "China, Shaanxi"),
    ("$china,jiangsu$", "China, Jiangxi"),
    ("$united states,kansas$", "USA, Arkansas"),
    ("$ukraine,lviv oblast$", "Ukraine, Kyiv"),
    ("$china,guangdong$", "China, Guangxi"),
    # hedges
    ("$china,guangdong$", "China, Guangdong/Guangxi"),
    ("$china,guangdong$", "China, Guangdong; Guangxi"),
    ("$china,guangdong$", "中国，广东或广西"),
    ("$china,guangdong$", "中国，广东、广西"),
    ("$china,guangdong$", "China, Guangdong, Guangxi"),
    ("$china,guangdong$", "China, Guangdong and Guangxi"),
    ("$china,guangdong$", "China, Guangdong (or Guangxi)"),
    ("$china,guangdong$", "China, Guangdong (maybe Fujian)"),  # a second region in a gloss
    ("$china,guangdong$", "中国，广东（也可能是福建）"),
    ("$china,guangdong$", "China or Vietnam, Guangdong"),
    ("$spain,galicia$", "Spain, Portugal"),
    # wrong country, right-sounding region
    ("$united states,georgia$", "Georgia, Tbilisi"),
    ("$spain,galicia$", "Portugal, Galicia"),
    # region alone, prose, nothing
    ("$china,guangdong$", "Guangdong"),
    ("$china,guangdong$", "somewhere in southern China near Guangdong"),
    ("$china,guangdong$", ""),
    # territory vs its parent
    ("$taiwan,taipei city$", "China, Taiwan"),
]


@pytest.mark.parametrize("label, content", WRONG)
def test_wrong_answers_score_zero(label, content):
    assert score(label, content) == 0.0


def test_several_answer_blocks_score_zero_even_if_one_is_right():
    gold = parse_label("$china,guangdong$")
    response = "<think>x</think><answer>China, Guangxi</answer><answer>China, Guangdong</answer>"
    result = check(response, gold)
    assert result.score == 0.0
    assert "2 <answer> blocks" in result.reason
    assert check("<answer>China, Guangdong</answer><answer>China, Guangdong</answer>", gold).score == 0.0


def test_no_answer_block_scores_zero():
    gold = parse_label("$china,guangdong$")
    assert check("<think>China, Guangdong</think> China, Guangdong", gold).score == 0.0
    assert check("China, Guangdong", gold).reason == "no <answer>...</answer> block"


def test_answer_block_without_think_still_checked_for_location():
    # Accuracy looks at the answer only; format is scored separately.
    assert check("<answer>China, Guangdong</answer>", parse_label("$china,guangdong$")).score == 1.0


def test_region_missing_from_table_falls_back_to_label_aliases():
    # A made-up region: not in any table, so the label's own aliases decide.
    label = "$china,xanadu/上都$"
    gold = parse_label(label)
    assert gold.country_id == "CN" and gold.place_id is None
    assert score(label, "China, Xanadu") == 1.0
    assert score(label, "中国，上都") == 1.0
    assert score(label, "China, Guangdong") == 0.0


def test_country_missing_from_table_falls_back_to_label_text():
    label = "$atlantis,poseidonia$"
    assert score(label, "Atlantis, Poseidonia") == 1.0
    assert score(label, "Atlantis, Elsewhere") == 0.0


@pytest.mark.parametrize(
    "content, expected",
    [
        ("China", 0.3),  # right country, no region
        ("China, Shandong", 0.3),  # right country, wrong region
        ("Japan, Osaka", 0.0),  # wrong country
        ("China, Guangdong or Guangxi", 0.0),  # hedges never earn credit
        ("China, Guangdong", 1.0),
    ],
)
def test_opt_in_country_credit(content, expected):
    assert score("$china,guangdong$", content, country_credit=0.3) == expected


def test_country_alone_scores_zero_by_default():
    assert score("$japan,osaka$", "Japan") == 0.0


def test_reason_names_the_problem():
    gold = parse_label("$china,guangdong$")
    assert "offers several places" in check(wrap("China, Guangdong or Guangxi"), gold).reason
    assert check(wrap("China, Shandong"), gold).reason == "wrong region"
    assert check(wrap("Japan, Osaka"), gold).reason == "wrong country"
