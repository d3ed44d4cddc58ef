"""Re-running the demo never deletes the previous one silently (issue 17, item 6)."""

from __future__ import annotations

from pathlib import Path

from jukinet.runtime.demo import build_demo


def test_a_previous_demo_is_kept_aside_unless_fresh_is_asked(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    folder.mkdir()
    (folder / "from-last-time.txt").write_text("kept", encoding="utf-8")
    said: list[str] = []

    build_demo(folder, residents=10, seed=1, say=said.append)

    kept = tmp_path / "demo.previous"
    assert (kept / "from-last-time.txt").read_text(encoding="utf-8") == "kept"
    assert any(str(kept) in line and "--fresh" in line for line in said)
    assert not (folder / "from-last-time.txt").exists()

    said.clear()
    build_demo(folder, residents=10, seed=1, say=said.append, fresh=True)
    assert any("removed the previous demo" in line for line in said)
    # --fresh deletes the demo it replaces; what was kept aside before stays untouched.
    assert (kept / "from-last-time.txt").exists()
