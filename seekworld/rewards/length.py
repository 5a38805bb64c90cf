"""Length incentive: pays for the new text of the reasoning, never for characters.

    compute_score(response)           # 0.0011 per new letter of the reasoning, capped at 1.0
    count_new_letters(reasoning)      # the measure
    seekworld_score(response)         # SeekWorld's exact rule (gameable: pays padding)

The measure (docs/rewards.md says why):
1. The reasoning (the text of the one `<think>` block; only its first MAX_CHARS characters) is read
   canonically (seekworld.text.canonical: NFKC, invisible characters removed), case folded, and
   look-alike letters folded. Tokens that look encoded (12+ of letters, digits and `+/=_-` holding
   a digit or changing case twice inside: base64, hex) are removed first.
2. Only letters and their marks are text: digits, symbols, emoji, box drawing and other non-text
   characters are removed (a word split by them joins up again); marks on Latin, Greek and
   Cyrillic letters or on no letter, and the combining marks of no script (U+0300-036F and their
   supplements), are removed; at most two of a script's own marks stay on a letter (a vowel sign
   and a tone mark). Whitespace and punctuation separate words; clause
   punctuation and line breaks separate clauses.
3. A word is a run of letters; in scripts written without spaces (Chinese, Japanese, Thai ...) each
   character is a word, known by the character before it. Runs longer than 12 letters made of one
   repeated unit ("xxxx...", "abab..."), and runs longer than MAX_WORD letters, are not words.
4. A word is new when both pairs it is in, (the word before it, it) and (it, the word after it),
   occur for the first time in the reasoning; a clause's first and last words pair with the
   clause's boundary, so pairs never span clauses. Clauses are cut into windows of WINDOW words.
   A window pays the letters of its new words when they are at least half of its letters and it
   holds more than one new word (or is a single word); otherwise it is a near-copy of text
   already read (a counter, one word changed) and pays nothing.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from itertools import compress, count, islice, pairwise, repeat
from operator import add, and_, eq, getitem, mul, ne, not_
from typing import Any, NamedTuple

from seekworld.geo.normalize import ASTRAL, bmp_class
from seekworld.rewards.format import think_content
from seekworld.text import canonical

__all__ = [
    "MAX_CHARS",
    "PER_LETTER",
    "compute_score",
    "count_new_letters",
    "count_reasoning_chars",
    "measured",
    "seekworld_measured",
    "seekworld_score",
]

# Per new letter: genuine reasoning's letters are ~90% new (a word beside a repeated pair such as
# "of the" is not), so 0.0011 pays it what SeekWorld's 0.001 per character did (docs/rewards.md).
PER_LETTER = 0.0011
MAX_CHARS = 16_384  # reasoning past this is not read (genuine reasoning reaches the cap far sooner)
MAX_WORD = 40  # letters; longer runs are not words ("x" * 2000, a base64 blob without digits)
WINDOW = 16  # words per window of a clause
_BOUNDARY = ""  # between clauses: the neighbour of a clause's first and last word (or a line break)

# ASCII text is read as bytes, in one `bytes.translate`: letters lower-cased, clause punctuation to
# a line break, other punctuation and whitespace to a space, digits and symbols removed.
_ASCII_CLAUSE = b'.,;:!?()[]{}"\r'
_ASCII_SPACE = b"#%&'*-/@\\_\t\x0b\x0c"
_ASCII_MAP = bytes.maketrans(
    string.ascii_uppercase.encode() + _ASCII_CLAUSE + _ASCII_SPACE,
    string.ascii_lowercase.encode() + b"\n" * len(_ASCII_CLAUSE) + b" " * len(_ASCII_SPACE),
)
_ASCII_DELETE = (string.digits + "$+<=>^`|~").encode()
# Other scripts' clause punctuation: full stops, commas, semicolons, brackets.
_CLAUSE_CHARS = "。，、；：！？「」『』（）【】《》〈〉۔।॥։።፧፣។៕။၊؛؟،"
# Encoded-looking tokens: 12+ of letters, digits and `+/=_-` with a digit or two changes of case.
_ENCODED = re.compile(r"[A-Za-z0-9+/=_-]{12,}")
_CASE_CHANGE = re.compile(r"[a-z][A-Z]")


def _encoded(match: re.Match[str]) -> str:
    token = match[0]
    if any(c.isdigit() for c in token) or len(_CASE_CHANGE.findall(token)) >= 2:
        return " "
    return token


def _category(ch: str) -> str:
    return unicodedata.category(ch)


_CASED = ("LATIN", "GREEK", "CYRILLIC")  # scripts whose accents do not make another word
# The combining marks of no script (diacritics, their supplements, marks for symbols, half marks):
# another script's letters do not take them ("zalgo" text stacks them).
_GENERIC_MARKS = frozenset(
    cp
    for first, end in ((0x300, 0x370), (0x1AB0, 0x1B00), (0x1DC0, 0x1E00), (0x20D0, 0x2100), (0xFE20, 0xFE30))
    for cp in range(first, end)
)
# Scripts written without spaces between words: each letter is a word.
_UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "YI", "TANGUT")


def _unspaced(ch: str) -> bool:
    return _category(ch)[0] == "L" and unicodedata.name(ch, "").startswith(_UNSPACED)


class _Classes(NamedTuple):
    """Non-ASCII text's classes. Each is searched for one character first (a class of single
    characters within the BMP is a bitmap `re` skips through), and replaced only where found."""

    drop: re.Pattern[str]  # removed: digits, symbols, controls (within the BMP)
    drop_astral: re.Pattern[str]  # the same, and every character past U+FFFF
    space: re.Pattern[str]  # punctuation that separates words (not clauses)
    clause: re.Pattern[str]  # clause breaks: line breaks and clause punctuation
    mark: re.Pattern[str]  # a mark
    latin_marks: re.Pattern[str]  # marks on a Latin, Greek or Cyrillic letter or on no letter; generic marks
    mark_runs: re.Pattern[str]  # three marks or more in a row
    unspaced: re.Pattern[str]  # a letter of an unspaced script
    word: re.Pattern[str]  # (a letter of an unspaced script | other letters | a clause break)


@lru_cache(maxsize=1)
def _classes() -> _Classes:
    """Built once (~0.3 s)."""
    clause_chars = frozenset(_CLAUSE_CHARS + _ASCII_CLAUSE.decode() + "\n\u2028\u2029")

    def removed(ch: str) -> bool:
        return _category(ch)[0] in "NSC" and not ch.isspace() and not "\ud800" <= ch <= "\udfff"

    def separates(ch: str) -> bool:
        return (_category(ch)[0] == "P" or ch.isspace()) and ch not in clause_chars

    def one(test: Callable[[str], bool]) -> str:
        return bmp_class(test, runs=False).pattern

    mark = one(lambda ch: _category(ch)[0] == "M")
    generic = one(lambda ch: _category(ch)[0] == "M" and ord(ch) in _GENERIC_MARKS)
    letter = one(lambda ch: _category(ch)[0] == "L" and not _unspaced(ch))
    latin = one(lambda ch: _category(ch)[0] == "L" and unicodedata.name(ch, "").startswith(_CASED))
    unspaced = one(_unspaced)
    letter_or_mark = one(lambda ch: _category(ch)[0] in "LM")
    return _Classes(
        # Past U+FFFF every character is removed (emoji; letters of rare scripts do not count).
        bmp_class(removed, runs=False),
        bmp_class(removed, astral=True),
        bmp_class(separates, runs=False),
        bmp_class(lambda ch: ch in clause_chars, runs=False),
        re.compile(mark),
        re.compile(f"(?:(?<={latin})|(?<!{letter_or_mark})){mark}+|{generic}+"),
        re.compile(f"{mark}{{3,}}"),
        re.compile(unspaced),
        re.compile(f"({unspaced}{mark}*)|({letter}(?:{letter}|{mark})*)|(\n)"),
    )


def _two_marks(match: re.Match[str]) -> str:
    return match[0][:2]


def _sub(pattern: re.Pattern[str], replacement: str, text: str) -> str:
    return pattern.sub(replacement, text) if pattern.search(text) else text


def _prepared(reasoning: str) -> tuple[Any, bool]:
    """Steps 1 and 2: the reasoning as the measure reads it, with clause punctuation turned into
    line breaks and word punctuation into spaces (ASCII text as bytes: no str made per word), and
    whether it holds letters of an unspaced script."""
    text = reasoning[:MAX_CHARS]
    if _ENCODED.search(text):
        text = _ENCODED.sub(_encoded, text)
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_MAP, _ASCII_DELETE), False
    classes = _classes()
    text = canonical.fold(canonical.read(text).casefold())
    if canonical.may_hold_astral(text):
        text = classes.drop_astral.sub("", text)
    else:
        text = _sub(classes.drop, "", text)
    if classes.mark.search(text):
        text = _sub(classes.latin_marks, "", text)
        if classes.mark_runs.search(text):
            text = classes.mark_runs.sub(_two_marks, text)
    text = _sub(classes.clause, "\n", _sub(classes.space, " ", text))
    return text, classes.unspaced.search(text) is not None


def _words(tokens: list[Any], unspaced: list[bool] | None) -> tuple[list[Any], list[bool] | None]:
    """Step 3: runs that are not words left out. A run of one repeated unit longer than 12 letters
    ("xxxx...", "abab...") or longer than MAX_WORD is no word; nor is a word that comes three
    times or more in a row (的的的, "very very very"): its neighbours then meet."""
    keep = None
    if max(map(len, tokens)) > 12:
        keep = [len(t) <= 12 or (len(t) <= MAX_WORD and t not in (t + t)[1:-1]) for t in tokens]
    if len(tokens) > 2 and any(map(eq, tokens, islice(tokens, 2, None))):
        again = [a == b == c for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False)]
        in_run = [False] * len(tokens)
        for i in compress(range(len(again)), again):
            in_run[i] = in_run[i + 1] = in_run[i + 2] = True
        keep = [not r for r in in_run] if keep is None else [k > r for k, r in zip(keep, in_run, strict=True)]
    if keep is None:
        return tokens, unspaced
    return list(compress(tokens, keep)), None if unspaced is None else list(compress(unspaced, keep))


def _stream(reasoning: str) -> tuple[list[Any], list[int], list[tuple[int, int]]]:
    """The words of all clauses in order, each clause closed by a boundary (so a word's
    neighbours never reach into another clause); each word's letters; where each clause lies. In
    unspaced scripts a character is a word, known by the character before it (路牌: 牌 after 路).
    One pass of C-level loops for the whole text; clause by clause only where step 3 leaves
    something out."""
    text, has_unspaced = _prepared(reasoning)
    # "|" is a removed symbol, so it stands for the clause breaks alone.
    if isinstance(text, bytes):
        boundary = b"|"
        tokens = text.replace(b"\n", b" | ").split()
    elif not has_unspaced:
        boundary = "|"
        tokens = text.replace("\n", " | ").split()
    else:
        boundary = "|"
        found = _classes().word.findall(text)
        tokens = [u or w or "|" for u, w, _ in found]
    if not tokens:
        return [], [], []
    if max(map(len, tokens)) > 12 or any(map(eq, tokens, islice(tokens, 2, None))):
        clauses = text.split(b"\n" if isinstance(text, bytes) else "\n")
        if not has_unspaced:
            return _stream_by_clause([clause.split() for clause in clauses], None)
        split = [[(u, w) for u, w, _ in _classes().word.findall(clause)] for clause in clauses]
        flags = [[bool(u) for u, _ in c] for c in split]
        return _stream_by_clause([[u or w for u, w in c] for c in split], flags)
    tokens.append(boundary)
    words = list(map(ne, tokens, repeat(boundary)))
    weights = [0, *map(mul, map(len, tokens), words)]
    ends = [0, *compress(count(1), map(not_, words))]
    spans = [(a + 1, b) for a, b in pairwise(ends) if b > a + 1]
    if has_unspaced:  # a letter of an unspaced script is known by the token before it
        unspaced = [bool(u) for u, _, _ in found]
        unspaced.append(False)
        pairs = zip(tokens, map(add, [boundary, *tokens[:-1]], tokens), strict=True)
        tokens = list(map(getitem, pairs, unspaced))
    return [boundary, *tokens], weights, spans


def _stream_by_clause(
    clauses: list[list[Any]], unspaced: list[list[bool]] | None
) -> tuple[list[Any], list[int], list[tuple[int, int]]]:
    ids: list[Any] = [_BOUNDARY]
    weights: list[int] = [0]
    spans: list[tuple[int, int]] = []
    for n, found in enumerate(clauses):
        if not found:
            continue
        tokens, flags = _words(found, None if unspaced is None else unspaced[n])
        if not tokens:
            continue
        spans.append((len(ids), len(ids) + len(tokens)))
        weights += map(len, tokens)
        if flags is None or not any(flags):
            ids += tokens
        else:
            before = [_BOUNDARY, *tokens[:-1]]
            ids += [b + t if u else t for b, t, u in zip(before, tokens, flags, strict=True)]
        ids.append(_BOUNDARY)
        weights.append(0)
    return ids, weights, spans


def count_new_letters(reasoning: str) -> int:
    """The letters of the reasoning's new words in windows that are mostly new (module docstring)."""
    ids, weights, spans = _stream(reasoning)
    n = len(ids) - 1  # pairs of neighbours
    if n < 2:
        return 0
    # Pair j is (ids[j], ids[j + 1]); it is new at its first occurrence. The dict keeps each pair's
    # first position (built from the end, earlier positions overwrite later ones). C-level loops.
    pairs = list(zip(ids, islice(ids, 1, None), strict=False))
    first = dict(zip(reversed(pairs), range(n - 1, -1, -1), strict=True))
    new = list(map(eq, map(first.__getitem__, pairs), range(n)))
    # Word i is new when both its pairs are: (i - 1, i) and (i, i + 1).
    credit = [0, *map(mul, islice(weights, 1, n), map(and_, new, islice(new, 1, None)))]
    paid = 0
    for start, end in spans:
        for at in range(start, end, WINDOW):
            window = credit[at : min(at + WINDOW, end)]
            got = sum(window)
            # Mostly new, and not one new word among old ones (a copy with one word changed).
            size = len(window)
            if got and 2 * got >= sum(weights[at : at + size]) and (size == 1 or size - window.count(0) > 1):
                paid += got
    return paid


def compute_score(response: str, per_char: float = PER_LETTER, cap: float = 1.0) -> float:
    """`per_char` per new letter of the reasoning (`count_new_letters`), capped at `cap`; 0 without
    exactly one `<think>` block."""
    return measured(response, per_char, cap)[0]


def measured(response: str, per_char: float = PER_LETTER, cap: float = 1.0) -> tuple[float, int, int]:
    """(`compute_score`, characters of reasoning, the new letters paid for before the cap, at most
    that many: a ligature read as two letters stays one character). The counts are what the
    padding monitor reads (`seekworld.rewards.monitors`): the rest of the reasoning is padding."""
    think = think_content(response)
    if think is None or per_char <= 0:
        return 0.0, 0, 0
    new = count_new_letters(think)
    return min(cap, per_char * new), len(think), min(len(think), new)


# --- SeekWorld's exact rule (the `rule+seekworld-length` variant; gameable) --------------------

# Uncounted: whitespace, ASCII punctuation and symbols, and every Unicode punctuation character
# (categories P*). Counting is done by C-level scans, not a `unicodedata` call per character:
# - ASCII: `str.encode("ascii", "ignore")` keeps the ASCII characters, `bytes.translate` drops the
#   uncounted ones, and the lengths tell how many went;
# - the rest of the Basic Multilingual Plane: one regex of single characters finds the uncounted
#   ones (a class of single characters lets `re` skip through the text with its bitmap);
# - past U+FFFF (emoji, rare scripts): only in a text that holds such characters, each is checked
#   by its Unicode category. Leaving them out of the regex's class makes it ~30% faster.
_ASCII_UNCOUNTED = bytes(c for c in range(128) if chr(c).isspace() or chr(c) in string.punctuation)


def _uncounted(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch)[0] == "P" or ch in string.punctuation


@lru_cache(maxsize=1)
def _non_ascii_uncounted() -> re.Pattern[str]:
    def test(ch: str) -> bool:
        return not "\ud800" <= ch <= "\udfff" and _uncounted(ch)

    return bmp_class(test, runs=False, start=0x80)


_SLICE = 1 << 16  # characters per `findall`


def count_reasoning_chars(text: str) -> int:
    """SeekWorld's count: characters that are neither whitespace nor punctuation (any script)."""
    ascii_part = text.encode("ascii", "ignore")
    count = len(text) - len(ascii_part) + len(ascii_part.translate(None, _ASCII_UNCOUNTED))
    if len(ascii_part) == len(text):
        return count
    findall = _non_ascii_uncounted().findall
    # By slices: each match is a string in a list, so a whole long run of "，" at once would hold
    # ~85 bytes per character; a slice bounds that to a few MB.
    if len(text) <= _SLICE:
        count -= len(findall(text))
    else:
        for start in range(0, len(text), _SLICE):
            count -= len(findall(text, start, start + _SLICE))
    if canonical.may_hold_astral(text):
        for start in range(0, len(text), _SLICE):
            count -= sum(1 for ch in ASTRAL.findall(text, start, start + _SLICE) if _uncounted(ch))
    return count


def seekworld_score(response: str, per_char: float = 0.001, cap: float = 1.0) -> float:
    """SeekWorld's length incentive exactly: 0.001 per reasoning character that is neither
    whitespace nor punctuation, capped at 1.0. Padding of any other kind earns it (`x` * 2000,
    zero-width joiners, emoji): for replicating the paper only."""
    return seekworld_measured(response, per_char, cap)[0]


def seekworld_measured(response: str, per_char: float = 0.001, cap: float = 1.0) -> tuple[float, int, int]:
    """(`seekworld_score`, characters of reasoning, those it counts), as `measured`."""
    think = think_content(response)
    if think is None:
        return 0.0, 0, 0
    counted = count_reasoning_chars(think)
    return min(cap, per_char * counted), len(think), counted
