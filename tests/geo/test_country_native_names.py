"""Countries' long formal and local-script names (issue 10 §2): world-countries' native official and
common names, its names in 23 other languages, and the word for "country" that Thai, Lao, Khmer and
Burmese write onto a country's name. The table is built by tools/build_gazetteer.py."""

import importlib.util
import re
import sys
from pathlib import Path

import pytest

from seekworld.geo.answer import parse_answer
from seekworld.geo.gazetteer import load_gazetteer
from seekworld.geo.normalize import key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location("build_gazetteer", ROOT / "tools" / "build_gazetteer.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_gazetteer", module)
    spec.loader.exec_module(module)
    return module


# --- answers with a formal or local-script country name, and a region ---------------------------


@pytest.mark.parametrize(
    "content, country, place",
    [
        # native official names ("Republic of ..." in the local language and script)
        ("جمهورية مصر العربية, القاهرة", "EG", "EG-C"),
        ("ราชอาณาจักรไทย, ภูเก็ต", "TH", "TH-83"),
        ("Bundesrepublik Deutschland, Bayern", "DE", "DE-BY"),
        ("République française, Bretagne", "FR", "FR-BRE"),
        ("Estados Unidos Mexicanos, Jalisco", "MX", "MX-JAL"),  # "México" is a state too
        ("Repubblica Italiana, Toscana", "IT", "IT-52"),
        ("Kongeriget Danmark, Hovedstaden", "DK", "DK-84"),
        ("المملكة العربية السعودية, الرياض", "SA", "SA-01"),
        ("جمهوری اسلامی ایران, تهران", "IR", "IR-23"),
        ("Κυπριακή Δημοκρατία, Λευκωσία", "CY", "CY-01"),
        ("République démocratique du Congo, Kinshasa", "CD", "CD-KN"),  # holds CG's "République du Congo"
        ("République du Congo, Pool", "CG", "CG-12"),
        ("የኢትዮጵያ ፌዴራላዊ ዲሞክራሲያዊ ሪፐብሊክ, Addis Ababa", "ET", "ET-AA"),
        ("भारत गणराज्य, महाराष्ट्र", "IN", "IN-MH"),
        ("नेपाल संघीय लोकतान्त्रिक गणतन्त्र, Bagmati", "NP", "NP-P3"),
        ("Кыргыз Республикасы, Бишкек", "KG", "KG-GB"),
        ("ދިވެހިރާއްޖޭގެ ޖުމްހޫރިއްޔާ, Malé", "MV", "MV-MLE"),
        ("Jamhuri ya Muungano wa Tanzania, Dar es Salaam", "TZ", "TZ-02"),
        ("الجمهورية العربية السورية, دمشق", "SY", "SY-DI"),
        ("المملكة الأردنية الهاشمية, عمان", "JO", "JO-AM"),
        ("Azərbaycan Respublikası, Bakı", "AZ", "AZ-BA"),
        ("Poblacht na hÉireann, Corcaigh", "IE", "IE-CO"),
        ("Piruw Ripuwlika, Cusco", "PE", "PE-CUS"),
        # a native name outranks a catalog's error (pycountry's Slovak catalog gives it to Gambia)
        ("Slovenská republika, Bratislavský kraj", "SK", "SK-BL"),
        # native common names with a type word, and formal names in other languages
        ("ประเทศไทย, เชียงใหม่", "TH", "TH-50"),
        ("日本国, 東京都", "JP", "JP-13"),
        ("일본국, 오사카부", "JP", "JP-27"),
        ("Арабская Республика Египет, Александрия", "EG", "EG-ALX"),
        # the word for "country" on names the sources give bare
        ("ประเทศญี่ปุ่น, โตเกียว", "JP", "JP-13"),
        ("ប្រទេសកម្ពុជា, ភ្នំពេញ", "KH", "KH-12"),
        ("ປະເທດລາວ, Luang Prabang", "LA", "LA-LP"),
        ("မြန်မာနိုင်ငံ, Yangon", "MM", "MM-06"),
        # no separator: the unspaced cut finds the long country key
        ("ประเทศไทยเชียงใหม่", "TH", "TH-50"),
        ("日本国東京都", "JP", "JP-13"),
        ("中华人民共和国广东省", "CN", "CN-GD"),
        # region first
        ("القاهرة, جمهورية مصر العربية", "EG", "EG-C"),
        # Korean's everyday name for Australia (new), and the state names that contain it
        ("호주, 뉴사우스웨일스주", "AU", "AU-NSW"),
        ("미국, 아이다호주", "US", "US-ID"),
        ("아이다호주, 미국", "US", "US-ID"),
        ("미국아이다호주", "US", "US-ID"),
    ],
)
def test_formal_and_local_country_names_resolve(content, country, place):
    parsed = parse_answer(content)
    assert (parsed.country_id, parsed.place_id, parsed.hedge) == (country, place, False)


@pytest.mark.parametrize(
    "name, country",
    [
        ("Republic of China", "TW"),  # not CN: "People's Republic of China" is
        ("中華民國", "TW"),
        ("Papua Niugini", "PG"),  # not Indonesia, whose region Papua is
        ("Guinea Ecuatorial", "GQ"),  # not Guinea
        ("República Dominicana", "DO"),  # not Dominica
        ("Demokratische Republik Kongo", "CD"),
        ("Республика Южный Судан", "SS"),  # not Sudan
        ("Guyane", "GF"),  # French Guiana in French (a minor babel locale gave it to Guyana)
        ("Guyana", "GY"),
    ],
)
def test_formal_names_that_hold_another_country_name_resolve_to_their_own(gaz, name, country):
    assert gaz.resolve_country(name) == country


# --- what must not resolve ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        "Российская Федерация, Киев",  # a region of another country
        "Bundesrepublik Deutschland, Tirol",
        "ราชอาณาจักรไทย, ວຽງຈັນ",  # Vientiane: Laos
        "ประเทศเชียงใหม่, เชียงใหม่",  # the country word on a province is no country
        "Российская Федерация / Республика Казахстан, Алматы",  # two formal names: a hedge
        "جمهورية مصر العربية / المملكة العربية السعودية, القاهرة",
        "多米尼加, 圣多明各",  # world-countries gives Dominica the Dominican Republic's Chinese name
        "ประเทศคองโก, Kinshasa",  # "country Congo": either Congo
    ],
)
def test_wrong_or_hedged_answers_do_not_resolve(content):
    assert not parse_answer(content).resolved


def test_a_formal_name_in_trailing_prose_is_another_country(gaz):
    parsed = parse_answer("Spain, Andalusia — not the Российская Федерация")
    assert parsed.hedge and not parsed.resolved


@pytest.mark.parametrize(
    "word",
    # words for a kind of state, which world-countries sometimes gives as a common name
    ["کۆماری", "Republic", "République", "Республика", "جمهورية", "共和国", "Kingdom", "Islands"],
)
def test_kinds_of_state_are_not_country_names(gaz, word):
    assert gaz.resolve_country(word) is None


@pytest.mark.parametrize(
    "name",
    [
        "ประเทศคองโก",  # the country word on an ambiguous name stays ambiguous
        "ប្រទេសកូរ៉េ",
        "Guayana",  # Spanish: Guyana, or French Guiana (Guayana Francesa)
        # the shared part of a hand-listed pair ("Congo", "Korea", "Virgin Islands") in other languages
        "Jungferninseln",
        "Virjin Adaları",
        "جزر العذراء",
        "Îles Vierges",
        "کانگو",
        "جمهورية كوريا",  # also part of North Korea's Arabic name
    ],
)
def test_names_of_two_countries_are_ambiguous(gaz, name):
    assert gaz.resolve_country(name) is None
    assert len(gaz.ambiguous_country_keys[key(name)]) == 2


def test_a_source_error_is_left_out(gaz):
    """world-countries gives Guinea Papua New Guinea's Persian names (aliases.toml lists it)."""
    assert gaz.resolve_country("مملکت مستقل پاپوآ گینه نو") is None
    assert gaz.resolve_country("پاپوآ گینه نو") == "PG"
    assert gaz.resolve_country("گینه") == "GN"


def test_new_names_are_credited(gaz):
    assert gaz.sources["world-countries"] == "5.1.0"
    assert "ODbL" in gaz.sources["credits"]


# --- the build's rules, on their own --------------------------------------------------------------


def test_country_word_forms(builder):
    Name = builder.Name
    names = [
        Name("JP", "ญี่ปุ่น", builder.MAJOR, "babel"),
        Name("TH", "ประเทศไทย", builder.SUPPLEMENT, "world-countries-native"),  # has it already
        Name("LA", "ລາວ", builder.PRIMARY, "babel"),
        Name("KH", "កម្ពុជា", builder.HAND, "aliases"),
        Name("MM", "မြန်မာ", builder.MAJOR, "babel"),
        Name("MM", "မြန်မာနိုင်ငံ", builder.SUPPLEMENT, "world-countries-native"),
        Name("JP", "日本", builder.HAND, "aliases"),  # other scripts: no form
        Name("TH", "Thailand ไทย", builder.PRIMARY, "x"),  # mixed scripts: no form
    ]
    forms = {(n.target, n.text, n.tier, n.source) for n in builder.country_word_forms(names)}
    made = builder.SECONDARY  # a made form ranks no better than a translation
    assert forms == {
        ("JP", "ประเทศญี่ปุ่น", made, "babel+country-word"),
        ("LA", "ປະເທດລາວ", made, "babel+country-word"),
        ("KH", "ប្រទេសកម្ពុជា", made, "aliases+country-word"),
        ("MM", "မြန်မာနိုင်ငံ", made, "babel+country-word"),
    }


def test_generic_words_are_dropped_only_from_the_new_source(builder):
    from collections import Counter

    Name, sup = builder.Name, builder.SUPPLEMENT
    names = [
        Name("IQ", "کۆماری", sup, "world-countries-native"),
        Name("AZ", "کۆماری ئازەربایجان", builder.MAJOR, "babel"),
        Name("AF", "کۆماری ئیسلامی ئەفغانستان", builder.MAJOR, "babel"),
        Name("GN", "Guinea", builder.PRIMARY, "iso"),  # a word of GW's, GQ's, PG's names: kept (not new)
        Name("GW", "Guinea-Bissau", builder.PRIMARY, "iso"),
        Name("GQ", "Equatorial Guinea", builder.PRIMARY, "iso"),
        Name("JP", "日本国", sup, "world-countries-translation"),
    ]
    stats = Counter()
    kept = builder.drop_generic_words(names, stats)
    assert [n.text for n in kept] == [n.text for n in names[1:]]
    assert sum(stats.values()) == 1


def _tarball(path, rows):
    import io
    import json
    import tarfile

    data = json.dumps(rows).encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("package/countries.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def test_read_world_countries(builder, tmp_path):
    row = {
        "cca2": "EG",
        "name": {
            "common": "Egypt",
            "official": "Arab Republic of Egypt",
            "native": {"ara": {"official": "جمهورية مصر العربية", "common": "مصر"}},
        },
        "translations": {
            "fra": {"official": "République arabe d'Égypte", "common": "Égypte"},
            "per": {"official": "wrong", "common": "wrong"},
        },
    }
    tarball = _tarball(tmp_path / "wc.tgz", [row])
    got = builder.read_world_countries(tarball, {"EG": ["per"]})
    assert got == {
        "EG": {
            "native": ["جمهورية مصر العربية", "مصر"],
            "translation": ["République arabe d'Égypte", "Égypte"],
            "english": ["Arab Republic of Egypt", "Egypt"],
        }
    }
    with pytest.raises(SystemExit, match="EG has no 'kor'"):  # an erratum a new version fixed
        builder.read_world_countries(tarball, {"EG": ["kor"]})


def test_shared_part_of_a_hand_listed_pair(builder):
    Name, sup = builder.Name, builder.SUPPLEMENT
    names = [
        Name("VI", "Amerikanische Jungferninseln", builder.MAJOR, "babel"),
        Name("VG", "Jungferninseln", sup, "world-countries-translation"),  # the shared part
        Name("VG", "Britische Jungferninseln", sup, "world-countries-translation"),
        Name("CG", "Republic of Congo", builder.WEAK, "countrynames"),  # an older source's key stays
        Name("CG", "Republic of Congo", sup, "world-countries-english"),
        Name("CD", "Democratic Republic of Congo", builder.PRIMARY, "iso"),
    ]
    forced = {"virginislands": ["VG", "VI"], "congo": ["CD", "CG"]}
    assert builder.shared_part_keys(names, forced) == {"jungferninseln": ["VG", "VI"]}


def test_world_countries_pin_is_what_ci_fetches(builder):
    """.ci/run and the requirements note fetch the version the build pins (else the byte-for-byte
    rebuild test would skip in CI)."""
    pinned = f"{builder.WORLD_COUNTRIES}@{builder.WORLD_COUNTRIES_PIN}"
    ci = (ROOT / ".ci" / "run").read_text()
    assert pinned in ci
    assert builder.DEFAULT_WORLD_COUNTRIES.name in ci
    assert pinned in (ROOT / "tools" / "gazetteer" / "requirements.txt").read_text()
    assert re.fullmatch(r"[0-9a-f]{64}", builder.WORLD_COUNTRIES_SHA256)
