"""The edges a policy under RL finds first: answer placement, markup, brackets, trailing prose,
degenerate length. One table per category; each row says what it checks."""

import pytest

from seekworld.geo.answer import (
    MAX_ANSWER_CHARS,
    TOO_LONG,
    AnswerError,
    AnswerTooLong,
    extract_answer,
    parse_answer,
)
from seekworld.geo.label import parse_label
from seekworld.rewards.accuracy import check

# --- 1. only the answer after the reasoning counts ---------------------------------------------


@pytest.mark.parametrize(
    "response, content",
    [
        # a guess inside the reasoning, then the real answer: the real one counts
        (
            "<think>Perhaps <answer>Spain, Murcia</answer>? No.</think><answer>Spain, Andalusia</answer>",
            "Spain, Andalusia",
        ),
        # several guesses inside the reasoning do not make the final answer a hedge
        (
            "<think><answer>A</answer><answer>B</answer></think>\n<answer>Japan, Osaka</answer>",
            "Japan, Osaka",
        ),
        # Qwen3-style: the <think> is in the prompt, only </think> is in the response
        ("the signs are Cyrillic</think><answer>Russia, Tatarstan</answer>", "Russia, Tatarstan"),
        # no reasoning tags at all: the one block is the answer
        ("Answer: <answer>China, Sichuan</answer>", "China, Sichuan"),
        # several think blocks: the answer follows the last </think>
        (
            "<think>a <answer>X</answer></think><think>b</think><answer>Spain, Galicia</answer>",
            "Spain, Galicia",
        ),
    ],
)
def test_answer_after_the_reasoning_is_read(response, content):
    assert extract_answer(response) == content


@pytest.mark.parametrize(
    "response, message",
    [
        # the reward hole: the only <answer> is a guess inside the reasoning
        ("<think>Perhaps <answer>$Spain,Murcia$</answer>... no, Andalusia</think>", "inside <think>"),
        # a never-closed <think> holds everything after it
        ("<think>hmm <answer>Spain, Murcia</answer>", "inside <think>"),
        # an answer before the reasoning is not after it
        ("<answer>Spain, Murcia</answer><think>because</think>", "inside <think>|must follow"),
        # two blocks after the reasoning are still a hedge
        (
            "<think>x</think><answer>Spain, Murcia</answer><answer>Spain, Andalusia</answer>",
            "2 <answer> blocks",
        ),
        # an answer opened after </think> and never closed
        ("<think>x <answer>Spain, Murcia</answer></think><answer>Spain", "never closed"),
    ],
)
def test_answer_inside_the_reasoning_never_counts(response, message):
    with pytest.raises(AnswerError, match=message):
        extract_answer(response)


def test_guess_inside_reasoning_is_not_paid():
    gold = parse_label("$spain,murcia$")
    hole = "<think>Perhaps <answer>$Spain,Murcia$</answer>... no, the plates say Andalusia</think>"
    result = check(hole, gold)
    assert result.score == 0.0 and "inside <think>" in result.reason
    # writing the guess inside and another answer after it pays only the answer after it
    both = hole + "<answer>Spain, Andalusia</answer>"
    assert check(both, gold).score == 0.0
    assert check(both, parse_label("$spain,andalusia$")).score == 1.0


# --- 2a. brackets: a native-script gloss inside $...$ ------------------------------------------


@pytest.mark.parametrize(
    "content, place",
    [
        ("$China, Guangdong (广东)$", "CN-GD"),  # the prompt's own example
        ("$Spain, Catalonia (Catalunya)$", "ES-CT"),
        ("$Russia, Tatarstan (Татарстан)$", "RU-TA"),
        ("$Japan, Hokkaido (北海道)$", "JP-01"),
        ("$Greece, Crete (Κρήτη)$", "GR-M"),
        ("$Germany, Bavaria [Bayern]$", "DE-BY"),  # square brackets are a gloss too
        ("$中国，四川（四川省）$", "CN-SC"),  # full-width brackets
    ],
)
def test_gloss_in_brackets_inside_dollars(content, place):
    parsed = parse_answer(content)
    assert (parsed.place_id, parsed.hedge) == (place, False), parsed.error


@pytest.mark.parametrize(
    "content",
    [
        "$China, Guangdong (Fujian)$",  # the gloss names a second region
        "$Spain, Catalonia (or Valencia)$",
        "$Russia, Tatarstan [Bashkortostan]$",
    ],
)
def test_gloss_naming_another_region_is_a_hedge(content):
    assert parse_answer(content).hedge


# --- 2b. markup around the answer --------------------------------------------------------------


@pytest.mark.parametrize(
    "content, place",
    [
        ("<i>Spain, Andalusia</i>", "ES-AN"),  # HTML tags
        ("<b>Country:</b> Japan<br/><b>Region:</b> Osaka", "JP-27"),
        ("`Spain, Andalusia`", "ES-AN"),  # a code span
        ("**Spain**, **Andalusia**", "ES-AN"),  # bold
        ("_Brazil_, _Bahia_", "BR-BA"),  # underscores for emphasis
        ("* Country: Spain\n* Region: Andalusia", "ES-AN"),  # bullets with field labels
        ("- **Country**: Italy\n- **Region**: Sicily", "IT-82"),
        ("1. Country: Mexico\n2. State: Jalisco", "MX-JAL"),  # numbered list
        ("__Country__: Spain; __Region__: Andalusia", "ES-AN"),  # `;` between fields, not alternatives
        ("### Final answer: China, Yunnan", "CN-YN"),  # a heading
        ("> India, Kerala", "IN-KL"),  # a quote
    ],
)
def test_markup_is_read_through(content, place):
    parsed = parse_answer(content)
    assert (parsed.place_id, parsed.hedge) == (place, False), parsed.error


@pytest.mark.parametrize(
    "content",
    [
        "<i>Spain, Andalusia</i> or <i>Spain, Murcia</i>",  # markup does not hide a hedge
        "* Country: Spain\n* Region: Andalusia\n* Region: Murcia",
        "__Country__: Spain; __Region__: Andalusia; Murcia",  # a bare `;` alternative is still one
    ],
)
def test_markup_does_not_hide_a_hedge(content):
    assert parse_answer(content).hedge


# --- 2c. trailing prose: a sentence break ends the answer ----------------------------------------


@pytest.mark.parametrize(
    "content, place",
    [
        ("Spain, Andalusia, judging by the whitewashed villages", "ES-AN"),
        ("Spain, Andalusia: the olive groves give it away", "ES-AN"),
        ("Spain, Andalusia — white villages", "ES-AN"),
        ("Spain, Andalusia - white villages on the hills", "ES-AN"),
        ("Spain, Andalusia. The architecture is typical of the south.", "ES-AN"),
        ("Spain, Andalusia; the vegetation is dry", "ES-AN"),
        ("Japan, Hokkaido! Snow poles everywhere", "JP-01"),
        ("中国，广东省。因为招牌是粤语", "CN-GD"),  # Chinese full stop
        ("Russia, St. Petersburg. The domes and canals", "RU-SPE"),  # "St." is not the break
        ("Spain, Andalusia: Andalucía, the south", "ES-AN"),  # the same region named again
        ("China, Guangdong — Canton, China's south", "CN-GD"),  # the country named again
    ],
)
def test_trailing_prose_naming_nothing_else_is_ignored(content, place):
    parsed = parse_answer(content)
    assert (parsed.place_id, parsed.hedge) == (place, False), parsed.error


@pytest.mark.parametrize(
    "content",
    [
        # how a policy would use prose to hedge: a second region or country after the break
        "Spain, Andalusia — or maybe Murcia",
        "Spain, Andalusia: possibly Murcia instead",
        "Spain, Andalusia, near the border with Murcia",
        "Spain, Andalusia. Could also be Portugal",
        "Spain, Andalusia; Extremadura is close",
        "China, Guangdong. 不是广西就是广东",
        "中国，广东省。也可能是广西",
        "USA, Texas — maybe New Mexico",
    ],
)
def test_trailing_prose_naming_another_place_stays_a_hedge(content):
    parsed = parse_answer(content)
    assert parsed.hedge and parsed.place_id is None, parsed


def test_prose_ignores_short_words_that_are_also_postal_codes():
    # "in", "or", "me" are US state codes; prose is not searched for keys under 4 letters
    parsed = parse_answer("USA, Texas: big skies in the south, or so it seems to me")
    assert (parsed.place_id, parsed.hedge) == ("US-TX", False)


# --- 3. degenerate length -----------------------------------------------------------------------


@pytest.mark.parametrize("n", [MAX_ANSWER_CHARS + 1, 16_000, 1_000_000])
def test_answer_over_the_cap_scores_zero_with_a_reason(n):
    body = ("Spain, Andalusia " * (n // 17 + 1))[:n]
    response = f"<think>x</think><answer>{body}</answer>"
    with pytest.raises(AnswerTooLong, match=TOO_LONG):
        extract_answer(response)
    result = check(response, parse_label("$spain,andalusia$"))
    assert result.score == 0.0 and result.too_long and result.reason.startswith(TOO_LONG)
    assert parse_answer(body).error.startswith(TOO_LONG)


def test_answer_at_the_cap_is_parsed():
    body = "Spain, Andalusia, " + "x" * (MAX_ANSWER_CHARS - len("Spain, Andalusia, "))
    assert len(body) == MAX_ANSWER_CHARS
    assert parse_answer(body).place_id == "ES-AN"


# --- 2d. names with and without their type word, in scripts the type-word list now covers --------


@pytest.mark.parametrize(
    "content, place",
    [
        ("Egypt, الجيزة", "EG-GZ"),  # the table has "محافظة الجيزة"; the bare name now resolves
        ("مصر، محافظة الجيزة", "EG-GZ"),
        ("السعودية، الرياض", "SA-01"),  # "منطقة الرياض" without "منطقة"
        ("Turkey, ولاية إسطنبول", "TR-34"),
        ("Japan, محافظة أوساكا", "JP-27"),
        ("Iran, تهران", "IR-23"),  # Persian "استان تهران" without "استان"
        ("Thailand, จังหวัดเชียงใหม่", "TH-50"),  # Thai type word written without a space
        ("Thailand, เชียงใหม่", "TH-50"),
        ("Greece, Περιφέρεια Κρήτης", "GR-M"),  # Greek type word
        ("Israel, מחוז הצפון", "IL-Z"),  # Hebrew type word
        ("Canada, QC", "CA-QC"),  # postal abbreviations in everyday use
        ("Australia, VIC", "AU-VIC"),
        ("Brazil, MG", "BR-MG"),
        ("India, Orissa", "IN-OD"),  # a former official name
        ("Kazakhstan, Aqmola", "KZ-11"),  # romanisation variants
        ("Kyrgyzstan, Issyk-Kul", "KG-Y"),
    ],
)
def test_names_in_many_forms(content, place):
    parsed = parse_answer(content)
    assert (parsed.place_id, parsed.hedge) == (place, False), parsed.error


def test_stripping_a_type_word_never_names_a_second_region():
    # the second pass only runs when the exact name fails, and a stripped key that fits two
    # regions of one country is dropped: an exact name keeps its region
    from seekworld.geo.gazetteer import load_gazetteer

    gaz = load_gazetteer()
    for cc, keys in gaz.region_keys_stripped.items():
        for k, rid in keys.items():
            exact = gaz.region_keys.get(cc, {}).get(k)
            assert exact is None or exact == rid or gaz.resolve_region(cc, k) == exact, (cc, k)


# --- every reader of answers follows the placement rule --------------------------------------------

HOLE = "<think>Perhaps <answer>$Spain,Murcia$</answer>... no, Andalusia</think>"


def test_eval_reads_no_answer_from_inside_the_reasoning():
    from seekworld.eval.inference import interpret

    out = interpret(HOLE)
    assert out["answer"] is None and "inside <think>" in out["error"]
    assert interpret(HOLE + "<answer>Spain, Andalusia</answer>")["answer"] == "Spain, Andalusia"


def test_zoom_episode_and_its_judge_item_follow_the_rule():
    from seekworld.zoom.protocol import ZoomEpisode
    from seekworld.zoom.reward import judge_item, score_episode

    episode = ZoomEpisode()
    episode.step(HOLE)
    gold = parse_label("$spain,murcia$")
    assert episode.final_turn == HOLE
    score = score_episode(episode, gold)
    assert score.components["accuracy"] == 0.0
    item = judge_item(episode, score)  # the judge is not shown a reasoning guess
    assert item.answer == "(no answer the checker could read)" and item.raw_answer is None
