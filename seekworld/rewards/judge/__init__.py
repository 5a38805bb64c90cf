"""LLM judge of the reasoning (SeekWorld's process reward), behind any OpenAI-compatible endpoint.

    judge = Judge(JudgeConfig(url="http://127.0.0.1:8001/v1", model="Qwen/Qwen2.5-3B-Instruct"))
    judge.score_many([JudgeItem(reasoning, answer, image_path)])  # -> [JudgeResult(score=1.0), ...]

The judge is asked whether the reasoning inside `<think>` is sound, examines visual clues, verifies
its hypotheses and explains the answer, and must reply with a bare verdict, "0" or "1". Anything
else is a malformed verdict. In `score` mode the question is the same, and the score is the
judge's probability of "1" against "0" at the verdict token, P(1) / (P(0) + P(1)), read from the
top logprobs the endpoint returns; without usable logprobs the parsed verdict is the score.

The policy's text is untrusted; three layers keep it from grading itself:
1. `sanitize` removes chat-control tokens (`<|im_start|>` ...): vLLM parses them as special tokens
   even inside a message's content, so they could open a fake system turn.
2. `screen` flags text that addresses the grader ("ignore the instructions", "[1]", "verdict: 1",
   role tags, our own boundary words). Flagged reasoning scores 0 without any call: such text can
   never produce a positive verdict by itself, whatever model sits behind the endpoint.
3. The rest is fenced between boundary lines carrying a fresh random id the policy cannot know,
   and the instructions are repeated after it.

Failures (timeout, HTTP error, malformed verdict, missing image, batch deadline) give a score of 0
with `error` set; nothing raises to the caller. Successful verdicts are cached by the hash of the
exact judge input (reasoning, answer, image path), so a retried request costs no second call.

Modules: `screen` (the untrusted text), `prompt` (what is asked, how the reply is read), `client`
(calls, deadlines), `flow` (how many calls go out: the adaptive limit and the circuit breaker),
`cache` (verdicts).
"""

from seekworld.rewards.judge.client import Judge, JudgeConfig, JudgeItem, JudgeResult
from seekworld.rewards.judge.flow import AdaptiveLimit, CircuitBreaker
from seekworld.rewards.judge.prompt import (
    VerdictError,
    build_messages,
    parse_verdict,
    response_format,
    score_from_logprobs,
)
from seekworld.rewards.judge.screen import normalize_text, sanitize, screen

__all__ = [
    "AdaptiveLimit",
    "CircuitBreaker",
    "Judge",
    "JudgeConfig",
    "JudgeItem",
    "JudgeResult",
    "VerdictError",
    "build_messages",
    "normalize_text",
    "parse_verdict",
    "response_format",
    "sanitize",
    "score_from_logprobs",
    "screen",
]
