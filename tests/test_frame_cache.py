"""The frame cache gives the same arrays as decoding, is invalidated by a changed image, and is atomic."""

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from benchmark.data.labelme import load_dataset
from benchmark.training import frame_cache, pipeline
from benchmark.training.pipeline import prepare


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(frame_cache.ENV, str(folder))
    return folder


@pytest.fixture
def frames(tmp_path, write_frame):
    root = tmp_path / "data"
    for i in range(3):
        write_frame(f"000_{i:08d}", root=root, size=(96, 64))
    return load_dataset(root).frames("Train")


def _entries(cache: Path) -> list[Path]:
    return sorted((cache / "frames").glob("*")) if (cache / "frames").exists() else []


def _count_decodes(monkeypatch) -> list:
    calls = []
    decode_one = pipeline._prepare_one
    monkeypatch.setattr(pipeline, "_prepare_one", lambda *args: calls.append(1) or decode_one(*args))
    return calls


@pytest.mark.parametrize("occlude", [False, True])
def test_cached_frames_equal_decoded_frames(cache, frames, monkeypatch, occlude):
    decodes = _count_decodes(monkeypatch)
    uncached = prepare(frames, 64, occlude=occlude, progress=False, cache=False)
    first = prepare(frames, 64, occlude=occlude, progress=False)
    second = prepare(frames, 64, occlude=occlude, progress=False)
    assert len(decodes) == 6  # the second cached call decodes nothing
    assert len(_entries(cache)) == 1
    for data in (first, second):
        np.testing.assert_array_equal(data.images, uncached.images)
        np.testing.assert_array_equal(data.matrices, uncached.matrices)
        np.testing.assert_array_equal(data.keypoints, uncached.keypoints)
        assert data.images.dtype == np.uint8


def test_entries_differ_by_size_face_setting_and_frames(cache, frames):
    prepare(frames, 64, progress=False)
    prepare(frames, 96, progress=False)
    prepare(frames, 64, occlude=True, progress=False)
    prepare(frames[:2], 64, progress=False)
    assert len(_entries(cache)) == 4


def test_a_changed_image_misses_the_cache(cache, frames, monkeypatch):
    before = prepare(frames, 64, progress=False)
    path = frames[1].image_path
    old = path.stat()
    Image.fromarray(np.full((64, 96, 3), 200, np.uint8)).save(path)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns))  # even with its old time stamp
    decodes = _count_decodes(monkeypatch)
    after = prepare(frames, 64, progress=False)
    assert len(decodes) == 3
    assert not np.array_equal(after.images[1], before.images[1])
    np.testing.assert_array_equal(after.images, prepare(frames, 64, progress=False, cache=False).images)


def test_an_unreadable_entry_is_decoded_again_and_replaced(cache, frames):
    expected = prepare(frames, 64, progress=False)
    (entry,) = _entries(cache)
    entry.write_bytes(b"truncated")
    np.testing.assert_array_equal(prepare(frames, 64, progress=False).images, expected.images)
    assert entry.stat().st_size > len(b"truncated")


def test_writes_leave_no_temporary_files(cache):
    arrays = {"a": np.arange(5)}
    frame_cache.load_or_compute("key", lambda: arrays)
    assert [p.name for p in _entries(cache)] == ["key.npz"]
    np.testing.assert_array_equal(frame_cache.load_or_compute("key", lambda: {"a": np.zeros(1)})["a"], arrays["a"])


def test_off_disables_and_unwritable_folder_only_warns(tmp_path, monkeypatch):
    monkeypatch.setenv(frame_cache.ENV, "off")
    assert frame_cache.cache_dir() is None
    assert frame_cache.load_or_compute("key", lambda: {"a": np.ones(2)})["a"].sum() == 2
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(frame_cache.ENV, str(blocker))
    with pytest.warns(UserWarning, match="not writable"):
        assert frame_cache.load_or_compute("key", lambda: {"a": np.ones(3)})["a"].sum() == 3


def test_default_folder_honours_xdg_cache_home(tmp_path, monkeypatch):
    monkeypatch.delenv(frame_cache.ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert frame_cache.cache_dir() == tmp_path / "infant-pose-benchmark"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert frame_cache.cache_dir() == Path.home() / ".cache" / "infant-pose-benchmark"
