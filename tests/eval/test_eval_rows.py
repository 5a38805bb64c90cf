"""Rows -> chat messages: the one conversion every engine uses, checked against upstream's."""

import base64
import json

import pytest

from seekworld.eval.rows import RowError, load_rows, row_id, split_image_tags, to_messages

SYSTEM = {"role": "system", "content": "Geolocate."}


def _row(content, images=("/x.jpg",), **extra):
    return {"prompt": [SYSTEM, {"role": "user", "content": content}], "images": list(images), **extra}


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<image>Where?", [{"type": "image"}, {"type": "text", "text": "Where?"}]),  # image first
        (
            "Look: <image> where?",
            [{"type": "text", "text": "Look:"}, {"type": "image"}, {"type": "text", "text": "where?"}],
        ),
        ("<image><image>Two", [{"type": "image"}, {"type": "image"}, {"type": "text", "text": "Two"}]),
        ("No image here", "No image here"),  # plain text stays a string
    ],
)
def test_split_image_tags(text, expected):
    assert split_image_tags(text) == expected


@pytest.mark.slow
@pytest.mark.parametrize(
    "content,images",
    [("<image>Where was this taken?", ["/a.jpg"]), ("Compare <image> and <image>.", ["/a.jpg", "/b.jpg"])],
)
def test_hf_messages_match_upstream_prompt_dataset(content, images):
    prompts_dataset = pytest.importorskip("openrlhf.datasets.prompts_dataset")
    row = _row(content, images, label="$china,sichuan$")
    # Upstream applies the chat template to its converted messages: an identity "template" shows them.
    upstream, _ = prompts_dataset.preprocess_data(
        row, input_key="prompt", apply_chat_template=lambda chat, **kw: chat
    )
    assert to_messages(row, "hf") == upstream


@pytest.mark.slow
def test_chat_template_text_matches_upstream(tiny_qwen_processor_dir):
    prompts_dataset = pytest.importorskip("openrlhf.datasets.prompts_dataset")
    from transformers import AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_qwen_processor_dir)
    row = _row("<image>Where was this taken?", label="$x$")
    ours = processor.apply_chat_template(to_messages(row, "hf"), tokenize=False, add_generation_prompt=True)
    upstream, _ = prompts_dataset.preprocess_data(
        row, input_key="prompt", apply_chat_template=processor.apply_chat_template
    )
    assert ours == upstream
    assert ours.count("<|image_pad|>") == 1 and ours.endswith("<|im_start|>assistant\n")


def test_openai_messages_carry_the_image_bytes(tmp_path):
    image = tmp_path / "a.png"
    image.write_bytes(b"\x89PNG fake bytes")
    messages = to_messages(_row("<image>Where?", [str(image)]), "openai")
    assert messages[0] == SYSTEM
    part, text = messages[1]["content"]
    assert text == {"type": "text", "text": "Where?"}
    header, data = part["image_url"]["url"].split(",", 1)
    assert header == "data:image/png;base64" and base64.b64decode(data) == image.read_bytes()


def test_tag_and_image_counts_must_agree():
    with pytest.raises(RowError, match="1 <image> tags but the row has 2 images"):
        to_messages(_row("<image>Where?", ["/a.jpg", "/b.jpg"]))
    with pytest.raises(RowError, match="0 <image> tags"):
        to_messages(_row("Where?"))


def test_bare_string_prompt_is_one_user_message():
    row = {"prompt": "<image>Where?", "images": ["/a.jpg"]}
    assert to_messages(row) == [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "Where?"}]}
    ]


def test_load_rows_ids_limit_and_errors(tmp_path):
    rows = [_row("<image>Q", [f"/{i}.jpg"], label="$china,sichuan$") for i in range(3)]
    rows[1]["id"] = "given"
    path = tmp_path / "Global-Test.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    loaded = load_rows([path])
    assert [r["id"] for r in loaded][1] == "given" and loaded[1]["key"] == "Global-Test/given"
    assert loaded[0]["id"] == row_id(rows[0]) and len(loaded[0]["id"]) == 16  # content hash: stable
    assert loaded[0]["datasource"] == "Global-Test"  # a row without one is named after its file
    assert len(load_rows([path], limit=2)) == 2
    copies = tmp_path / "balanced.jsonl"  # prepare --balance repeats rows with copy = 1, 2, ...
    copies.write_text("".join(json.dumps({**rows[1], "copy": c}) + "\n" for c in (0, 1, 2)))
    assert [r["id"] for r in load_rows([copies])] == ["given"]

    dup = tmp_path / "dup.jsonl"
    dup.write_text(json.dumps(rows[0]) + "\n" + json.dumps(rows[0]) + "\n")
    with pytest.raises(RowError, match=r"dup\.jsonl:2: 'dup/.*' repeats"):
        load_rows([dup])
    # The same ids in two files (two test sets numbered alike) are two samples.
    other = tmp_path / "China-Test.jsonl"
    other.write_text(path.read_text())
    both = load_rows([path, other])
    assert len(both) == 6 and len({r["key"] for r in both}) == 6
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": []}\n')
    with pytest.raises(RowError, match=r"bad\.jsonl:1: missing label"):
        load_rows([bad])
