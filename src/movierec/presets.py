"""Model presets: the shipped ones (``config.PRESETS``) and the user's, saved by ``movierec tune``.

User presets live in ``<cache dir>/presets.json`` as
``{"presets": {name: {"model": …, "weighting": …, <params>}}, "provenance": {name: {…}}}``;
``provenance`` records how each was found (dataset, protocol, trials, validation NDCG@10).
User presets cannot take a shipped preset's name, so ``default`` always means what movierec
uses when no model is named. :func:`get_preset` is the one way from a preset's name to a model:
it splits the preset into a :class:`Preset` and checks its model, weighting and hyperparameters,
so a hand-edited presets file is refused in one line naming the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import config
from .atomic import write_atomically
from .datasets import cache_root
from .errors import MovieRecError
from .interactions import WEIGHTINGS
from .models import MODELS
from .models.params import Number, ParameterError, shown

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


@dataclass(frozen=True)
class Preset:
    """A preset split into what it decides: the model, its hyperparameters (checked and
    normalized), the input weighting and, when the preset names one, the rating filter."""

    name: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    weighting: str = "rating"
    min_rating: float | None = None


def preset_warning(name: str) -> str | None:
    """The one line a shipped preset whose results mislead comes with (``config.PRESET_WARNINGS``:
    the course notebook's overfitting settings), or None. ``movierec train`` prints it; the
    Python API only offers it, since evaluation and the notebook use such a preset on purpose."""
    return config.PRESET_WARNINGS.get(name)


def get_preset(name: str) -> Preset:
    """The named preset (shipped or the user's), checked: MovieRecError for an unknown name, or
    for a preset whose model, weighting or hyperparameters this movierec refuses."""
    presets = all_presets()
    if name not in presets:
        raise MovieRecError(f"unknown preset {name!r}; choose one of {', '.join(presets)}")
    return checked_preset(name, presets[name], shipped=name in config.PRESETS)


def checked_preset(name: str, preset: dict[str, Any], shipped: bool = False) -> Preset:
    """``preset`` (``{"model": …, "weighting": …, <params>}``) as a checked :class:`Preset`."""
    where = "movierec's config.PRESETS" if shipped else str(user_presets_path())
    way_out = "please report it" if shipped else "fix it there or delete it"
    if not isinstance(preset, dict):
        raise MovieRecError(f"preset {name!r} in {where} is not a mapping; {way_out}")
    settings = dict(preset)
    model = settings.pop("model", None)
    weighting = settings.pop("weighting", "rating")
    min_rating = settings.pop("min_rating", None)
    if not isinstance(model, str) or model not in MODELS:
        raise MovieRecError(
            f"preset {name!r} in {where} names model {shown(model)}, which this movierec "
            f"does not have ({', '.join(MODELS)}); {way_out}"
        )
    if weighting not in WEIGHTINGS:
        raise MovieRecError(
            f"preset {name!r} in {where} has weighting {shown(weighting)}; "
            f"choose one of {', '.join(WEIGHTINGS)} ({way_out})"
        )
    try:
        params = MODELS[model].valid_params(settings)
    except ParameterError as exc:
        raise exc.rephrased(
            f"preset {name!r} in {where} needs e.g. {exc.parameter}={exc.example!r}; {way_out}"
        ) from None
    except MovieRecError as exc:  # a parameter the model does not take
        raise MovieRecError(f"preset {name!r} in {where}: {exc}; {way_out}") from None
    if min_rating is not None:
        try:
            min_rating = Number().normalized(min_rating)
        except ValueError:
            raise MovieRecError(
                f"preset {name!r} in {where} has min_rating {shown(min_rating)}, not a finite "
                f"number; {way_out}"
            ) from None
    return Preset(name, model, params, str(weighting), min_rating)


def save_user_preset(
    name: str, preset: dict[str, Any], provenance: dict[str, Any] | None = None
) -> Path:
    """Add or replace one user preset (``{"model": …, "weighting": …, <params>}``); returns the
    file written. Never touches the shipped ``config.PRESETS``."""
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise MovieRecError(f"a preset name is letters, digits, '-' and '_', got {name!r}")
    if name in config.PRESETS:
        raise MovieRecError(
            f"{name!r} is one of movierec's shipped presets; save under another name, "
            "e.g. --save-preset tuned"
        )
    if "model" not in preset:
        raise MovieRecError("a preset must name its model")
    checked = checked_preset(name, preset)
    path = user_presets_path()
    content = _read(path)
    content["presets"][name] = {
        "model": checked.model,
        "weighting": checked.weighting,
        **checked.params,
        **({} if checked.min_rating is None else {"min_rating": checked.min_rating}),
    }
    content["provenance"][name] = provenance or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(content, indent=2, sort_keys=True) + "\n"
    return write_atomically(path, lambda out: out.write(text.encode("utf-8")))
