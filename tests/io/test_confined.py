"""The confined image reader: label paths are hostile (issue 13 §1)."""

from __future__ import annotations

import io
import os
import threading
import time

import pytest
from PIL import Image

from seekworld.io.confined import ConfinedImageReader, ImageRejected


@pytest.fixture
def root(tmp_path):
    d = tmp_path / "images"
    d.mkdir()
    Image.new("RGB", (1600, 1200), (200, 30, 30)).save(d / "big.png")
    Image.new("RGB", (64, 48), (0, 0, 255)).save(d / "small.jpg")
    return d


@pytest.mark.parametrize(
    "path",
    [
        "/proc/self/environ",  # the server's token and judge key, sent as a "JPEG" before
        "/etc/passwd",
        "../../../../etc/passwd",
        "{root}/../outside.png",
        "{root}/link_out.png",  # a symlink inside the root that points out of it
        "{root}/zero",  # a symlink to /dev/zero: read until memory ran out before
        "",
        "{root}/small.jpg\x00.png",
    ],
)
def test_paths_outside_the_roots_are_refused(root, path):
    Image.new("RGB", (8, 8)).save(root.parent / "outside.png")
    os.symlink(root.parent / "outside.png", root / "link_out.png")
    os.symlink("/dev/zero", root / "zero")
    reader = ConfinedImageReader([str(root)])
    with pytest.raises(ImageRejected) as info:
        reader.data_url(path.format(root=root))
    assert info.value.reason == "not_allowed"


def test_outside_and_missing_look_the_same(root):
    reader = ConfinedImageReader([str(root)])
    reasons = set()
    for path in ("/etc/passwd", "/etc/no-such-file", str(root / "no-such.jpg")):
        with pytest.raises(ImageRejected) as info:
            reader.data_url(path)
        reasons.add(str(info.value.reason))
    assert reasons == {"not_allowed"}


def test_a_fifo_never_blocks(root):
    os.mkfifo(root / "pipe.jpg")
    reader = ConfinedImageReader([str(root)])
    outcome = []

    def read():
        try:
            reader.data_url(str(root / "pipe.jpg"))
        except ImageRejected as exc:
            outcome.append(exc.reason)

    t = threading.Thread(target=read, daemon=True)
    start = time.monotonic()
    t.start()
    t.join(5)
    assert outcome == ["not_allowed"] and time.monotonic() - start < 5


def test_a_directory_is_not_an_image(root):
    (root / "dir.jpg").mkdir()
    with pytest.raises(ImageRejected, match="not_allowed"):
        ConfinedImageReader([str(root)]).data_url(str(root / "dir.jpg"))


def test_byte_bound_and_decode_check(root):
    (root / "fake.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg" * 10)
    reader = ConfinedImageReader([str(root)], max_bytes=1000)
    with pytest.raises(ImageRejected, match="unreadable"):
        reader.data_url(str(root / "fake.jpg"))
    (root / "huge.jpg").write_bytes(b"\0" * 2000)
    with pytest.raises(ImageRejected, match="unreadable"):
        reader.data_url(str(root / "huge.jpg"))


def test_images_are_reencoded_small(root):
    reader = ConfinedImageReader([str(root)], max_side=512)
    data = reader.jpeg(str(root / "big.png"))
    img = Image.open(io.BytesIO(data))
    assert img.format == "JPEG" and max(img.size) == 512
    assert reader.data_url("small.jpg").startswith("data:image/jpeg;base64,")  # relative: under a root


def test_several_roots_and_symlinks_inside_them(tmp_path, root):
    other = tmp_path / "other"
    other.mkdir()
    Image.new("RGB", (10, 10)).save(other / "a.png")
    os.symlink(root / "small.jpg", other / "alias.jpg")  # points into another root: allowed
    reader = ConfinedImageReader([str(root), str(other)])
    assert reader.jpeg(str(other / "a.png")) and reader.jpeg(str(other / "alias.jpg"))


def test_no_roots_reads_nothing(root):
    reader = ConfinedImageReader([])
    assert not reader.enabled
    with pytest.raises(ImageRejected):
        reader.data_url(str(root / "small.jpg"))
