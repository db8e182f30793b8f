"""Whole or not at all: the one staged-write helper (bettercare.data.atomic)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bettercare.data.atomic import staged_directory, staged_entries, staged_file


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_staged_directory_replaces_the_folder_whole(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.html").write_text("old")
    with staged_directory(out) as tmp:
        (tmp / "index.html").write_text("new")
    assert _tree(out) == {"index.html": "new"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old copy left


def test_staged_entries_replace_only_their_names(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "charts").mkdir(parents=True)
    (out / "charts" / "gone.png").write_text("old chart")
    (out / "metrics.csv").write_text("old")
    (out / "notes.txt").write_text("mine")
    with staged_entries(out) as tmp:
        (tmp / "metrics.csv").write_text("new")
        (tmp / "charts").mkdir()
        (tmp / "charts" / "a.png").write_text("chart")
    assert _tree(out) == {"charts/a.png": "chart", "metrics.csv": "new", "notes.txt": "mine"}


@pytest.mark.parametrize("staged", [staged_directory, staged_entries])
def test_a_failure_leaves_what_was_there(tmp_path: Path, staged) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "metrics.csv").write_text("old")
    with pytest.raises(RuntimeError), staged(out) as tmp:
        (tmp / "metrics.csv").write_text("half")
        raise RuntimeError("disk full")
    assert _tree(out) == {"metrics.csv": "old"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging copy left


def test_staged_file_replaces_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "return.xlsx"
    out.write_text("old")
    with pytest.raises(RuntimeError), staged_file(out) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert out.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == [out.name]
    with staged_file(out) as tmp:
        assert tmp.suffix == ".xlsx" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert out.read_text() == "new" and [p.name for p in tmp_path.iterdir()] == [out.name]
