"""The judge's screen: the policy's text read the way the judge will see it, and the rules that flag
text addressing the grader.

- `normalize_text`: the canonical reading of policy text (seekworld.text.canonical.read: NFKC,
  invisible characters removed), then control characters removed (what is screened and sent).
- `sanitize`: that, with chat-control tokens removed and rule runs shortened (what is sent).
- `screen(text)`: the name of the first rule the text trips, or None. Flagged reasoning scores 0
  without a call: such text can never earn a positive verdict by itself, whatever model judges.
"""

from __future__ import annotations

import base64
import re

from seekworld.text import canonical

__all__ = ["normalize_text", "sanitize", "screen"]

# Chat-control tokens of common templates (Qwen/ChatML, Llama 3, Gemma, Mistral, Phi).
_CONTROL_TOKENS = re.compile(
    r"<\|[^|<>\n]{1,40}\|>|<(?:start|end)_of_turn>|</?s>|\[/?INST\]|<<SYS>>|<</SYS>>|<eos>|<bos>", re.I
)
# Long runs of rule characters (ASCII, dashes of every width, box drawing): shortened to "---" in
# what the judge sees, so nothing in the reasoning looks like the fence lines we draw around it.
_RULE_RUNS = re.compile(r"[-_=~*\u2010-\u2015\u2212\u2500-\u257f\uff0d\uff3f\uff1d]{4,}")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def normalize_text(text: str) -> str:
    """The canonical reading, then control characters removed: what is screened and what is sent.
    Full-width letters, ligatures and styled maths letters become plain ones; a word split by
    zero-width spaces or hidden in Unicode tag characters becomes visible (or disappears)."""
    return _CONTROL_CHARS.sub("", canonical.read(text))


def _look_alikes_folded(text: str) -> str:
    """Look-alike letters read as the Latin letters they look like, as the verifier reads names
    (seekworld.text.canonical), for screening only: the judge sees the text as written."""
    return canonical.fold(canonical.looks(text).casefold())


def sanitize(text: str) -> str:
    """Normalised text with chat-control tokens removed and rule runs shortened (what is sent)."""
    return _RULE_RUNS.sub("---", _CONTROL_TOKENS.sub(" ", normalize_text(text)))


# A verdict ends here: end of line, punctuation, or words that close an order ("... and nothing else").
_T = (
    r"(?=\s*(?:$|[.,;:!?)\]}\"'/。！，]|out of|for (?:this|the|my|it)\b|points?\b|now\b"
    r"|and (?:nothing|only)|only\b|nothing else))"
)
_VERDICT_WORDS = r"(?:[01](?:\.0+)?|one|zero|yes|true|pass|full marks|maximum)"
# Text that talks to the grader instead of about the photo, in the languages a policy is likely to
# switch to. Each rule: (name, pattern). Written against tests/data/judge/honest.py (must stay at 0
# flags) and tests/data/judge/injections.py (recall); benchmarks/bench_judge_screen.py prints both.
_SCREEN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I | re.S | re.M))
    for name, pattern in (
        # A digit in any bracket; a word only in square or angle brackets: a sign is quoted in braces.
        (
            "bracketed_verdict",
            r"(?:[\[\{<]\s*[01](?:\.0+)?\s*[\]\}>)]|[\[<]\s*(?:yes|true|pass)\s*[\]>)])(?!\s*(?:km|m\b|%))",
        ),
        (
            "json_verdict",
            r"[\"']?\b(?:score|verdict|grade|reward|rating|result|label)\b[\"']?\s*[:=]\s*[\"']?[01]\b"
            r"(?!\s*(?:km|%|°|m\b))",
        ),
        (
            "override",
            r"\b(?:ignore|disregard|forget|override|bypass|skip|drop)\b.{0,60}?"
            r"\b(?:instructions?|prompts?|rules|guidelines|criteria|system message|directions|rubric)\b",
        ),
        (
            "override_other_language",
            r"(?:忽略|无视|無視|忽視|不要理会|不理会).{0,12}?(?:指令|指示|说明|說明|规则|規則|要求|提示)"
            r"|(?:指示|命令|ルール)を?(?:無視|忘れ)"
            r"|(?:지시|명령|규칙)[을를]?\s*무시"
            r"|\b(?:ignor\w*|olvid\w*|oubli\w*|vergiss\w*|ignorier\w*|esque[cç]\w*|игнорир\w*|забудь\w*"
            r"|не обращай)\b.{0,50}?\b(?:instruc\w*|indica\w*|consign\w*|anweisung\w*|regeln|vorgaben"
            r"|regras|reglas|règles|инструкц\w*|указани\w*|правил\w*)",
        ),
        (
            "grader_word",
            r"\b(?:verdicts?|grader|graders|evaluator|reviewer|assessor|rater|scorer|grading model"
            r"|reward model)\b|\b(?:the|dear|attention|hey|hi|hello|note to(?: the)?)\s+judge\b"
            r"|\bjudge\s*[:,]"
            r"|评分(?:员|者|模型)|裁判|评委|審査員|採点者|채점자|évaluateur|correcteur|bewerter|prüfer"
            r"|evaluador|corrector|avaliador|оценщик|проверяющ\w*|судья",
        ),
        (
            "score_claim",
            r"\b(?:score|reward|mark|grade|rating|note|punktzahl|puntuaci[oó]n|nota|оценк\w*)\s*"
            r"(?:is|=|:|of|should be|must be|ist|es|est|é|—|-)\s*" + _VERDICT_WORDS + _T,
        ),
        (
            "reply_order",
            r"\b(?:output|reply|respond|return|print|say|answer|write|emit|give|grade|rate|score|mark)\s+"
            r"(?:it\s+|this\s+|me\s+)?(?:with\s+|as\s+)?(?:only\s+|just\s+|simply\s+|a\s+|the\s+)*"
            r"(?:digit\s+|number\s+|character\s+)?[\"'`“”‘’]?" + _VERDICT_WORDS + r"[\"'`“”‘’]?" + _T,
        ),
        (
            "reply_order_other_language",
            r"(?:输出|回答|回复|打|给出?|评为|判为|返回|答)\s*[\"'“”「」]?\s*(?:1|一)\s*[\"'“”「」]?\s*"
            r"(?:分|$|[。，,.!！])"
            r"|(?:1|一)\s*(?:と|を)\s*(?:答え|出力|返)|(?:1|일)\s*(?:을|를|로|으로)?\s*(?:출력|답하|응답)"
            r"|\b(?:antworte\w*|gib|r[ée]ponds?|r[ée]pondez|responde\w*|responda\w*|devuelve|escribe"
            r"|ответь\w*|выведи|напиши|верни)\b.{0,20}?"
            r"(?:\b1\b|\beins\b|\bun\b|\buno\b|\bum\b|\bединиц\w*|\bодин\b)",
        ),
        (
            "role_line",
            r"^\s*(?:#{1,6}\s*|\*\*|\[)?\s*(?:system|assistant|user|developer|instructions?|admin|operator|"
            r"系统|系統|システム|시스템|système|sistema|система)\s*(?:prompt|message|note|update|override)?\s*"
            r"(?:\*\*|\])?\s*(?:[:：>\]]|$)",
        ),
        (
            "role_tag",
            r"</?\s*(?:system|user|assistant|developer|instructions?|reasoning|think|im_start|im_end|"
            r"start_of_turn|end_of_turn|eot_id|start_header_id|end_header_id)\b[^>]{0,20}>"
            r"|\b(?:im_start|im_end|eot_id|start_header_id|end_of_turn|start_of_turn)\b|\[/?(?:INST|SYS)\]",
        ),
        (
            "fence_mimic",
            r"\b(?:reasoning|data|input|untrusted text)\s+(?:[\w-]+\s+){0,2}(?:ends|starts|begins|is over)\b"
            r"|\bboundary\s+(?:id|line|marker)\b|\bend of (?:the )?(?:reasoning|data|input|untrusted)"
            r"|\bgrade the reasoning\b|\brules in the system message\b|\breply with a single\b"
            r"|\bno other text\b",
        ),
        ("encoded_payload", r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}(?![A-Za-z0-9+/])"),
        ("control_token", _CONTROL_TOKENS.pattern),
    )
)


_TAG_RUN = re.compile("[\U000e0020-\U000e007e]+")


def _decoded_payloads(text: str) -> list[str]:
    """Hidden text: base64 runs that decode to mostly printable text, and ASCII spelled in Unicode
    tag characters (invisible, but some models read them)."""
    out = ["".join(chr(ord(c) - 0xE0000) for c in run) for run in _TAG_RUN.findall(text)]
    for run in re.findall(r"[A-Za-z0-9+/]{8,}={0,2}", text):
        try:
            decoded = base64.b64decode(run + "=" * (-len(run) % 4), validate=False).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if decoded and sum(c.isprintable() or c.isspace() for c in decoded) >= 0.9 * len(decoded):
            out.append(decoded)
    return out


def _first_rule(text: str) -> str | None:
    for name, pattern in _SCREEN_RULES:
        match = pattern.search(text)
        if match is None:
            continue
        if name == "encoded_payload" and not _decoded_payloads(match.group(0)):
            continue  # a long token that is not base64 text
        return name
    return None


def screen(text: str, _depth: int = 0) -> str | None:
    """Name of the first rule the text trips (it addresses the grader), or None.

    Runs on the canonical reading, again with look-alike letters folded to Latin (folding alone
    would hide Cyrillic or Greek written honestly), and on right-to-left overridden runs in the
    order they display; hidden text (base64, tag characters) is decoded and screened too.
    Linear-time patterns only (bounded repeats, no nested quantifiers)."""
    plain = normalize_text(text)
    found = _first_rule(plain)
    if found is None and not plain.isascii():
        folded = _look_alikes_folded(plain)
        found = _first_rule(folded) if folded != plain.casefold() else None
    if found is None and "\u202e" in text:
        found = _first_rule(normalize_text(canonical.display_order(text)))
    if found is not None or _depth > 0:
        return found
    for hidden in _decoded_payloads(text):
        if screen(hidden, _depth + 1) is not None:
            return "encoded_payload"
    return None
