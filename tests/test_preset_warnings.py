"""A preset whose results mislead says so where it is trained: `train --preset notebook` warns
in one line on stderr that the course notebook's settings overfit, and names what to use."""

from __future__ import annotations

from pathlib import Path

import pytest

from movierec import config
from movierec.cli import main
from movierec.presets import preset_warning


def test_every_warning_belongs_to_a_shipped_preset() -> None:
    assert set(config.PRESET_WARNINGS) <= set(config.PRESETS)
    assert preset_warning("notebook") and preset_warning("default") is None
    assert all("\n" not in text for text in config.PRESET_WARNINGS.values())


@pytest.mark.parametrize(("preset", "warned"), [("notebook", True), ("als-tuned", False)])
def test_train_warns_once_about_a_preset_that_overfits(
    capsys, tmp_path: Path, monkeypatch, preset: str, warned: bool
) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    args = ["train", "--preset", preset, "-d", "ml-latest-small", "--factors", "4"]
    code = main([*args, "--iterations", "1", "--out", str(tmp_path / "model")])
    out, err = capsys.readouterr()
    assert code == 0 and out.startswith("Trained ")
    warnings = [line for line in err.splitlines() if line.startswith("movierec: warning:")]
    if warned:
        (warning,) = warnings
        assert "overfit" in warning and "use the default preset" in warning
    else:
        assert warnings == []
