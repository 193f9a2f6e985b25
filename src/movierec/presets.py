"""Model presets: the shipped ones (``config.PRESETS``) and the user's, saved by ``movierec tune``.

User presets live in ``<cache dir>/presets.json`` as
``{"presets": {name: {"model": …, "weighting": …, <params>}}, "provenance": {name: {…}}}``;
``provenance`` records how each was found (dataset, protocol, trials, validation NDCG@10).
User presets cannot take a shipped preset's name, so ``default`` always means what movierec
uses when no model is named.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from . import config
from .atomic import write_atomically
from .datasets import cache_root
from .errors import MovieRecError

PRESETS_FILE = "presets.json"


def user_presets_path() -> Path:
    """Where ``movierec tune --save-preset`` writes (``MOVIEREC_CACHE_DIR`` moves it)."""
    return cache_root() / PRESETS_FILE


def _read(path: Path) -> dict[str, Any]:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"presets": {}, "provenance": {}}
    except (OSError, ValueError) as exc:
        raise MovieRecError(
            f"cannot read the user presets file {path}: {exc}; fix or delete it"
        ) from None
    if not isinstance(content, dict) or not isinstance(content.get("presets", {}), dict):
        raise MovieRecError(f"the user presets file {path} is not in movierec's format; delete it")
    content.setdefault("presets", {})
    content.setdefault("provenance", {})
    return content


def user_presets() -> dict[str, dict[str, Any]]:
    """The presets saved by ``movierec tune --save-preset`` (empty when none)."""
    return dict(_read(user_presets_path())["presets"])


def all_presets() -> dict[str, dict[str, Any]]:
    """Shipped presets, then the user's (a shipped name always means the shipped preset)."""
    own = {name: preset for name, preset in user_presets().items() if name not in config.PRESETS}
    return {**config.PRESETS, **own}


def save_user_preset(
    name: str, preset: dict[str, Any], provenance: dict[str, Any] | None = None
) -> Path:
    """Add or replace one user preset (``{"model": …, "weighting": …, <params>}``); returns the
    file written. Never touches the shipped ``config.PRESETS``."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise MovieRecError(f"a preset name is letters, digits, '-' and '_', got {name!r}")
    if name in config.PRESETS:
        raise MovieRecError(
            f"{name!r} is a shipped preset (config.PRESETS); save under another name, "
            "e.g. --save-preset tuned"
        )
    if "model" not in preset:
        raise MovieRecError("a preset must name its model")
    path = user_presets_path()
    content = _read(path)
    content["presets"][name] = preset
    content["provenance"][name] = provenance or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(content, indent=2, sort_keys=True) + "\n"
    return write_atomically(path, lambda out: out.write(text.encode("utf-8")))
