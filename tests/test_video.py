"""Streamed frames of videos and image folders: order, times, colour, orientation, and errors that
keep the frames decoded before them."""

from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import ExifTags, Image

from benchmark.data.video import Frames, VideoError, batches, read_frames

SIZE = (48, 32)  # width, height


def colour_frame(i: int, width: int = SIZE[0], height: int = SIZE[1]) -> np.ndarray:
    """An RGB frame whose red level encodes ``i``, green 0, blue 200: order and channels show."""
    image = np.zeros((height, width, 3), np.uint8)
    image[..., 0], image[..., 2] = 10 * i, 200
    return image


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0, fourcc: str = "mp4v") -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened()
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def tag_rotation(path: Path) -> Path:
    """Mark an mp4 written by OpenCV as "display turned 90 degrees clockwise", as phones store
    portrait videos: the track header's matrix becomes a quarter turn."""
    data = bytearray(path.read_bytes())
    header = data.index(b"tkhd") + 4
    matrix = header + (52 if data[header] == 1 else 40)  # after version, flags, times, ids, volume
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 1 << 16, 0, -1 << 16, 0, 0, 0, 0, 1 << 30)
    path.write_bytes(bytes(data))
    return path


def truncate(path: Path, fraction: float = 0.6) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return path


@pytest.mark.parametrize("suffix, fourcc", [(".mp4", "mp4v"), (".avi", "MJPG"), (".mov", "mp4v")])
def test_video_frames_are_rgb_in_order_with_their_timestamps(tmp_path, suffix, fourcc):
    video = write_video(tmp_path / f"clip{suffix}", [colour_frame(i) for i in range(12)], 10.0, fourcc)
    frames = Frames(video)
    assert frames.is_video and frames.count == 12 and frames.fps == pytest.approx(10.0)
    read = list(frames)
    assert [index for index, _, _ in read] == list(range(12))
    np.testing.assert_allclose([t for _, t, _ in read], np.arange(12) / 10.0, atol=1e-6)
    for i, (_, _, image) in enumerate(read):
        assert image.shape == (SIZE[1], SIZE[0], 3) and image.dtype == np.uint8
        red, green, blue = image.reshape(-1, 3).mean(axis=0)
        assert abs(red - 10 * i) < 8 and green < 8 and abs(blue - 200) < 8
    assert frames.name(3) == "clip_00000003"


def test_portrait_video_gives_portrait_frames(tmp_path):
    video = write_video(tmp_path / "portrait.mp4", [colour_frame(i, 32, 64) for i in range(3)])
    assert {image.shape for _, _, image in read_frames(video)} == {(64, 32, 3)}


def test_a_video_tagged_as_turned_comes_upright(tmp_path):
    """A phone's portrait video: landscape frames and a 90-degree display rotation."""
    frame = colour_frame(0, 64, 32)
    frame[:, :8] = (255, 0, 0)  # a red band on the left edge ends up along the top
    video = tag_rotation(write_video(tmp_path / "phone.mp4", [frame] * 3))
    images = [image for _, _, image in read_frames(video)]
    assert [image.shape for image in images] == [(64, 32, 3)] * 3
    red = images[0][..., 0].astype(int) - images[0][..., 2]
    assert red[:6].mean() > 200 and red[-6:].mean() < -100


def test_folder_is_read_in_natural_order_at_the_given_rate(tmp_path):
    for i in (10, 2, 1):
        Image.fromarray(colour_frame(i)).save(tmp_path / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    frames = Frames(tmp_path, fps=4)
    assert not frames.is_video and frames.count == 3
    read = list(frames)
    assert [frames.name(index) for index, _, _ in read] == ["img1", "img2", "img10"]
    assert [t for _, t, _ in read] == [0.0, 0.25, 0.5]
    assert [int(image[0, 0, 0]) for _, _, image in read] == [10, 20, 100]


def test_folder_images_are_turned_as_exif_says(tmp_path):
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # displayed = stored turned 90 degrees clockwise
    Image.fromarray(colour_frame(1)).save(tmp_path / "turned.jpg", exif=exif)
    [(_, _, image)] = list(Frames(tmp_path))
    assert image.shape == (SIZE[0], SIZE[1], 3)


def test_a_truncated_video_yields_its_decodable_frames_then_fails(tmp_path):
    video = truncate(write_video(tmp_path / "cut.avi", [colour_frame(i) for i in range(20)], fourcc="MJPG"))
    read = []
    with pytest.raises(VideoError, match="cut.avi") as caught:
        for frame in Frames(video):
            read.append(frame)
    assert 0 < len(read) < 20 and caught.value.decoded == len(read)
    assert f"after {len(read)} of the 20 frames" in str(caught.value)


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 500])
def test_an_unreadable_file_fails_before_any_frame(tmp_path, content):
    path = tmp_path / "broken.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match="broken.mp4") as caught:
        Frames(path)
    assert caught.value.decoded == 0


def test_missing_inputs_and_empty_folders_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        Frames(tmp_path / "nowhere.mp4")
    with pytest.raises(VideoError, match="no images"):
        Frames(tmp_path)


def test_a_corrupt_image_stops_the_folder_after_the_images_before_it(tmp_path):
    for i in range(3):
        Image.fromarray(colour_frame(i)).save(tmp_path / f"{i}.png")
    (tmp_path / "1.png").write_bytes(b"not a png")
    frames = Frames(tmp_path)
    with pytest.raises(VideoError, match="1.png") as caught:
        list(frames)
    assert caught.value.decoded == 1
    assert [i for i, _, _ in frames.select([0, 2])] == [0, 2]  # the corrupt image is not touched


def test_select_reads_only_the_picked_frames(tmp_path):
    video = write_video(tmp_path / "clip.mp4", [colour_frame(i) for i in range(10)])
    picked = list(Frames(video).select([7, 2, 2]))
    assert [i for i, _, _ in picked] == [2, 7]
    assert abs(picked[1][2][..., 0].mean() - 70) < 8


def test_batches_hand_over_the_items_read_before_an_error():
    def items():
        yield from range(5)
        raise VideoError("stopped", 5)

    seen = []
    with pytest.raises(VideoError):
        for batch in batches(items(), 2):
            seen.append(batch)
    assert seen == [[0, 1], [2, 3], [4]]
    assert list(batches(range(4), 2)) == [[0, 1], [2, 3]]
