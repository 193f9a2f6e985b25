"""Hyperparameters, checked in one place.

Each model declares one :class:`Constraint` per ``__init__`` parameter (``Model.constraints``);
:func:`validate` checks a set of values against them and returns them normalized (whole numbers
as ``int``, numbers as ``float``, switches as ``bool``). A value of the wrong type or outside its
range is a :class:`ParameterError`, one line naming the parameter, the value, what is allowed
and a valid value to use instead.

>>> validate("als", {"factors": Whole(1, 4096)}, {"factors": 0}, {"factors": 64})
Traceback (most recent call last):
...
movierec.models.params.ParameterError: factors must be a whole number from 1 to 4096, got 0; \
use e.g. factors=64 (the default)
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import numpy as np

from ..errors import MovieRecError

SHOWN_CHARS = 40
"""Values longer than this (as ``repr`` writes them) are cut in messages."""


def shown(value: object) -> str:
    """``repr(value)`` on one line, cut to :data:`SHOWN_CHARS` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


class ParameterError(MovieRecError):
    """A hyperparameter of the wrong type or outside its range.

    ``way_out`` defaults to the Python spelling (``factors=64``); callers that know how the
    value was given rephrase it, e.g. ``error.rephrased("pass e.g. --factors 64")``.
    """

    def __init__(
        self, parameter: str, value: object, rule: str, example: object, way_out: str = ""
    ) -> None:
        self.parameter = parameter
        self.value = value
        self.rule = rule
        self.example = example
        default = f"use e.g. {parameter}={example!r} (the default)"
        self.way_out = way_out or (default if example is not None else "see the model's docstring")
        super().__init__(f"{parameter} must be {rule}, got {shown(value)}; {self.way_out}")

    def rephrased(self, way_out: str) -> ParameterError:
        """The same error with another way out (how the caller's user gives the value)."""
        return ParameterError(self.parameter, self.value, self.rule, self.example, way_out)


class Constraint(ABC):
    """What one hyperparameter accepts: a type and a range or a set of choices."""

    @property
    @abstractmethod
    def rule(self) -> str:
        """What is allowed, as the end of "factors must be …"."""

    @abstractmethod
    def normalized(self, value: object) -> Any:
        """``value`` in its canonical type; ValueError when it is not allowed."""


def _is_bool(value: object) -> bool:
    return isinstance(value, (bool, np.bool_))


@dataclass(frozen=True)
class Whole(Constraint):
    """A whole number from ``low`` to ``high`` (both included). An integral float (``64.0``, as
    JSON may write it) counts; a fraction, a string or a bool does not."""

    low: int
    high: int

    @property
    def rule(self) -> str:
        return f"a whole number from {self.low} to {self.high}"

    def normalized(self, value: object) -> int:
        if _is_bool(value) or not isinstance(value, Real):
            raise ValueError(value)
        if isinstance(value, Integral):
            number = int(value)
        elif float(value).is_integer():  # not for a fraction, NaN or an infinity
            number = int(float(value))
        else:
            raise ValueError(value)
        if not self.low <= number <= self.high:
            raise ValueError(value)
        return number


def _bound(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Number(Constraint):
    """A finite real number within ``low``/``high``; ``above`` makes ``low`` itself excluded
    (``alpha`` > 0), ``below`` ``high`` (a dropout probability < 1). NaN, infinities, strings
    and bools are refused."""

    low: float = -math.inf
    high: float = math.inf
    above: bool = False
    below: bool = False

    @property
    def rule(self) -> str:
        if self.below:
            return f"a number {'>' if self.above else '≥'} {_bound(self.low)} and < {self.high:g}"
        if math.isinf(self.high):
            return f"a finite number {'>' if self.above else '≥'} {_bound(self.low)}"
        if self.above:
            return f"a number > {_bound(self.low)} and ≤ {_bound(self.high)}"
        return f"a number from {_bound(self.low)} to {_bound(self.high)}"

    def normalized(self, value: object) -> float:
        if _is_bool(value) or not isinstance(value, Real):
            raise ValueError(value)
        number = float(value)
        if not math.isfinite(number) or number > self.high:
            raise ValueError(value)
        if self.below and number == self.high:
            raise ValueError(value)
        if number < self.low or (self.above and number == self.low):
            raise ValueError(value)
        return number


@dataclass(frozen=True)
class OneOf(Constraint):
    """One of a few names."""

    choices: tuple[str, ...]

    @property
    def rule(self) -> str:
        return f"one of {', '.join(self.choices)}"

    def normalized(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.choices:
            raise ValueError(value)
        return value


@dataclass(frozen=True)
class Switch(Constraint):
    """True or false (not 0/1, not "yes")."""

    @property
    def rule(self) -> str:
        return "true or false"

    def normalized(self, value: object) -> bool:
        if not _is_bool(value):
            raise ValueError(value)
        return bool(value)


SEED = Whole(0, 2**32 - 1)
"""Every seed: what NumPy's legacy ``RandomState`` (used by ``implicit``) accepts."""
FACTORS = Whole(1, 4096)
"""Latent factors; beyond a few thousand each ALS user solve alone takes seconds."""
ITERATIONS = Whole(1, 100_000)
REGULARIZATION = Number(low=0.0)


def unknown_parameter(model: str, parameter: str, accepted: Mapping[str, object]) -> str:
    """The message for a parameter ``model`` does not take."""
    return f"model {model!r} has no parameter {parameter!r}; it takes {', '.join(accepted)}"


def validate(
    model: str,
    constraints: Mapping[str, Constraint],
    params: Mapping[str, Any],
    defaults: Mapping[str, Any],
) -> dict[str, Any]:
    """``params`` checked against ``constraints`` and normalized. MovieRecError for a name that
    is not a parameter; ParameterError (with ``defaults`` as the example) for a bad value."""
    out = {}
    for name, value in params.items():
        if name not in constraints:
            raise MovieRecError(unknown_parameter(model, name, constraints))
        constraint = constraints[name]
        try:
            out[name] = constraint.normalized(value)
        except (ValueError, TypeError, OverflowError):
            raise ParameterError(name, value, constraint.rule, defaults.get(name)) from None
    return out
