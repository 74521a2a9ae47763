"""Atomic output: a file or folder appears complete, with ordinary permissions, or not at all."""

from __future__ import annotations

import os
import stat

import pytest

from benchmark.common.atomic import staged_file, staged_folder, swap_in


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_staged_file_appears_whole_with_the_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        out = tmp_path / "sub" / "table.csv"
        with staged_file(out) as tmp:
            assert tmp.parent == out.parent and tmp.suffix == ".csv" and not out.exists()
            tmp.write_text("a,b\n")
        assert out.read_text() == "a,b\n" and _mode(out) == 0o644
        with pytest.raises(RuntimeError), staged_file(out) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
        assert out.read_text() == "a,b\n" and sorted(p.name for p in out.parent.iterdir()) == ["table.csv"]
    finally:
        os.umask(umask)


def test_staged_folder_replaces_only_when_asked_and_leaves_nothing_on_failure(tmp_path):
    out = tmp_path / "report"
    with staged_folder(out) as tmp:
        (tmp / "index.html").write_text("v1")
    assert (out / "index.html").read_text() == "v1" and _mode(out) & 0o755 == 0o755
    with pytest.raises(OSError):  # not empty, and no replace: refused after the work, old kept
        with staged_folder(out) as tmp:
            (tmp / "index.html").write_text("v2")
    with pytest.raises(KeyboardInterrupt), staged_folder(out, replace=True) as tmp:
        (tmp / "index.html").write_text("v2")
        raise KeyboardInterrupt
    assert (out / "index.html").read_text() == "v1"
    with staged_folder(out, replace=True) as tmp:
        (tmp / "index.html").write_text("v3")
    assert (out / "index.html").read_text() == "v3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]  # no temporary left behind


def test_swap_in_replaces_files_and_folders(tmp_path):
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "a").write_text("new")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "b").write_text("old")
    swap_in(tmp_path / "new", tmp_path / "old")
    assert [p.name for p in (tmp_path / "old").iterdir()] == ["a"] and not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]
