"""One photo in, reasoning and a resolved answer out: shared by `seekworld predict` and the demo.

    row = image_row("photo.jpg")
    result = interpret(response_text)

`image_row` gives the training prompt with the photo sized as `prepare` sizes images; `interpret`
gives the reasoning, the answer, its IDs and the English and Chinese names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from seekworld.eval.scoring import describe_place
from seekworld.geo.answer import AnswerError, extract_answer, parse_answer
from seekworld.rewards.format import think_content

__all__ = ["DEFAULT_MODEL", "format_result", "image_row", "interpret", "load_photo"]

DEFAULT_MODEL = "TheEighthDay/SeekWorld_RL_PLUS"  # SeekWorld-7B


def load_photo(source: Any, max_pixels: int | None = None):
    """A photo as an upright RGB PIL image, shrunk as `seekworld prepare` shrinks training images
    (at most max_pixels/28² visual tokens; default prepare's budget), so the model sees what it
    was trained on."""
    from PIL import Image, ImageOps

    from seekworld.eval.rows import RowError
    from seekworld.prepare.images import DEFAULT_MAX_PIXELS, fit_to_budget

    try:
        image = source if isinstance(source, Image.Image) else Image.open(Path(source))
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, Image.DecompressionBombError) as exc:  # missing, unreadable, not an image
        raise RowError(f"cannot read the photo {source}: {exc}") from None
    size = fit_to_budget(image.height, image.width, max_pixels or DEFAULT_MAX_PIXELS)
    if size is not None:
        image = image.resize((size[1], size[0]), Image.Resampling.LANCZOS)
    return image


def image_row(source: Any, max_pixels: int | None = None, prompt_template: str | Path | None = None) -> dict:
    from seekworld.eval.rows import row_for_image

    return row_for_image(load_photo(source, max_pixels), prompt_template)


def interpret(response: str) -> dict:
    """What a person wants from a response: reasoning, answer text, resolved IDs and names."""
    out: dict = {"response": response, "reasoning": think_content(response), "answer": None}
    try:
        out["answer"] = extract_answer(response)
    except AnswerError as exc:
        out["error"] = str(exc)
        return out
    parsed = parse_answer(out["answer"])
    out["hedge"] = parsed.hedge
    out["error"] = parsed.error
    out["place"] = describe_place(parsed.country_id, parsed.place_id if parsed.resolved else None)
    if parsed.coordinates:
        from seekworld.eval.reverse import reverse

        rev = reverse(*parsed.coordinates)
        out["coordinates"] = list(parsed.coordinates)
        out["coordinates_place"] = describe_place(rev.country_id, rev.place_id)
    return out


def _place_line(place: dict) -> str:
    if not place.get("country_id"):
        return "not resolved"
    country = f"{place.get('country_en')} ({place.get('country_zh')})"
    if not place.get("place_id"):
        return f"{place['country_id']} — {country}; no region"
    if place["place_id"] == place["country_id"]:
        return f"{place['place_id']} — {country}"
    return f"{place['place_id']} — {place.get('region_en')} ({place.get('region_zh')}), {country}"


def format_result(result: dict) -> str:
    """The interpreted response as text for a terminal."""
    lines = []
    reasoning = result.get("reasoning")
    if reasoning is None:
        lines += ["Response:", result["response"].strip(), ""]
    else:
        lines += ["Reasoning:", reasoning.strip(), ""]
    lines.append(f"Answer: {result['answer'].strip() if result.get('answer') is not None else '(none)'}")
    if "place" in result:
        lines.append(f"Place: {_place_line(result['place'])}")
    if result.get("coordinates"):
        lat, lon = result["coordinates"]
        lines.append(f"Coordinates: {lat:.4f}, {lon:.4f} — in {_place_line(result['coordinates_place'])}")
    if result.get("error"):
        lines.append(f"Note: {result['error']}")
    return "\n".join(lines)
