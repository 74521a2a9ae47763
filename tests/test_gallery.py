"""The generalisation gallery: grid size, titles, and faces never shown in the clear."""

from __future__ import annotations

import shutil

import numpy as np
from PIL import Image
from test_predict import model, results, synth  # noqa: F401  (fixtures)

from benchmark.apply.gallery import gallery_image, spread
from benchmark.commands import main
from benchmark.data.drawing import grid
from benchmark.data.labelme import load_image
from benchmark.privacy.faces import check_face


def cell_of(picture: np.ndarray, image: np.ndarray, index: int, cols: int, cell: int) -> np.ndarray:
    """Where ``image`` lies in grid cell ``index`` of ``picture``, for a ``cell`` as large as the
    image's longer side (no scaling)."""
    bar = max(12, cell // 14)  # the title bar of benchmark.data.drawing.grid
    row, col = divmod(index, cols)
    height, width = image.shape[:2]
    y = row * (cell + bar) + bar + (cell - height) // 2
    x = col * cell + (cell - width) // 2
    return picture[y:y + height, x:x + width]


def test_gallery_cli_writes_a_grid_of_the_expected_size(synth, model, tmp_path, capsys):
    folder = tmp_path / "frames"
    folder.mkdir()
    for frame in synth[:5]:
        shutil.copy(frame.image_path, folder)
    out = tmp_path / "figures" / "gallery.png"
    assert main(["gallery", "--model", str(model), "--input", str(folder), "--out", str(out),
                 "--cols", "3", "--cell", "96"]) == 0
    picture = np.array(Image.open(out))
    bar = max(12, 96 // 14)
    assert picture.shape == (2 * (96 + bar), 3 * 96, 3)
    assert "5 pictures" in capsys.readouterr().out
    assert main(["gallery", "--model", str(model), "--input", str(folder), "--out", str(out),
                 "--cols", "4", "--cell", "64", "--limit", "2"]) == 0
    assert np.array(Image.open(out)).shape == (64 + max(12, 64 // 14), 2 * 64, 3)
    assert sorted(p.name for p in out.parent.iterdir()) == ["gallery.png"]


def test_gallery_faces_are_mosaicked_from_the_predictions(synth):
    frames = [f for f in synth if f.video == synth[0].video]
    images = [load_image(f) for f in frames]
    truths = np.stack([f.truth for f in frames])
    cell = max(images[0].shape[:2])
    # An untrained model's predictions: never confident, so the whole picture is mosaicked.
    predictions = truths + 40.0
    unsure = gallery_image(images, predictions, np.zeros(truths.shape[:2]), [f.id for f in frames], 2, cell)
    # Confident, correct predictions: only the face is mosaicked.
    sure = gallery_image(images, truths, np.ones(truths.shape[:2]), [f.id for f in frames], 2, cell)
    plain = grid(images, 2, [f.id for f in frames], cell)
    assert unsure.shape == sure.shape == plain.shape
    for i, (image, truth) in enumerate(zip(images, truths)):
        np.testing.assert_array_equal(cell_of(plain, image, i, 2, cell), image)
        assert not check_face(cell_of(plain, image, i, 2, cell), truth).mosaicked
        assert check_face(cell_of(unsure, image, i, 2, cell), truth).mosaicked
        assert check_face(cell_of(sure, image, i, 2, cell), truth).mosaicked
    # Only the face region of the confident cells changed; the whole picture of the unsure ones.
    assert np.mean(sure != plain) < 0.5 * np.mean(unsure != plain)


def test_spread_picks_frames_across_the_input():
    assert spread(100, 5).tolist() == [0, 25, 50, 74, 99]
    assert spread(3, 5).tolist() == [0, 1, 2]
    assert spread(None, 4).tolist() == [0, 1, 2, 3]
