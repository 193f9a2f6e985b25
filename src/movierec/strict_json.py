"""Strict shapes for JSON that movierec wrote and reads back (a saved model's ``meta.json``).

A shape is a small declarative value (:class:`Whole`, :class:`Real`, :class:`Flag`,
:class:`Text`, :class:`OneOf`, :class:`AnyOf`, :class:`Items`, :class:`Mapping`,
:class:`Fields`, :class:`Maybe`) and :func:`problem_of` says what is wrong with a parsed value,
naming its place (``settings.min_rating: must be a finite number``), or None. Types are JSON's,
strictly: a bool is no number, ``"5"`` no number, ``5`` a valid real; numbers are finite; an
object has exactly its fields. Written here rather than with pydantic because answering from a
saved model must not pay pydantic's import (about 60 ms of a 0.3 s command).

>>> shape = Fields({"n": Whole(low=1), "name": Text(max_length=3), "w": Maybe(Real(above=0))})
>>> problem_of({"n": 2, "name": "abc", "w": None}, shape) is None
True
>>> problem_of({"n": True, "name": "abc", "w": None}, shape)
'n: must be a whole number'
>>> problem_of({"n": 1, "name": "abcd", "w": -1.0, "x": 0}, shape)
'name: must be at most 3 characters'
>>> problem_of({"n": 1, "name": "abc", "w": 0.5, "y" * 50: 0}, shape)
'yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy…: is not a field of this object'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class Shape:
    """What a JSON value must be."""

    def problem(self, value: Any) -> tuple[str, str] | None:
        """(place, what is wrong) for the first fault in ``value``, or None."""
        raise NotImplementedError


def problem_of(value: Any, shape: Shape) -> str | None:
    """The first fault of ``value`` as ``place: what is wrong`` (the top level unnamed), or
    None when ``value`` has the shape."""
    found = shape.problem(value)
    if found is None:
        return None
    where, what = found
    return f"{where or 'the top level'}: {what}"


def _joined(outer: str, inner: str) -> str:
    return f"{outer}.{inner}" if inner else outer


def _key(key: str, most: int = 40) -> str:
    """An object's key as a place in a message: a tampered file's key may be any length."""
    return key if len(key) <= most else key[:most] + "…"


@dataclass(frozen=True)
class Whole(Shape):
    """A JSON integer (not a bool, not 5.0), from ``low``."""

    low: int | None = None

    def problem(self, value: Any) -> tuple[str, str] | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "", "must be a whole number"
        if self.low is not None and value < self.low:
            return "", f"must be at least {self.low}"
        return None


@dataclass(frozen=True)
class Real(Shape):
    """A finite JSON number (an integer too, not a bool), above ``above`` when given."""

    above: float | None = None

    def problem(self, value: Any) -> tuple[str, str] | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "", "must be a number"
        if not math.isfinite(value):
            return "", "must be a finite number"
        if self.above is not None and not value > self.above:
            return "", f"must be above {self.above:g}"
        return None


@dataclass(frozen=True)
class Flag(Shape):
    """JSON ``true`` or ``false``."""

    def problem(self, value: Any) -> tuple[str, str] | None:
        return None if isinstance(value, bool) else ("", "must be true or false")


@dataclass(frozen=True)
class Text(Shape):
    """A JSON string of ``min_length`` to ``max_length`` characters."""

    min_length: int = 0
    max_length: int | None = None

    def problem(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, str):
            return "", "must be a string"
        if len(value) < self.min_length:
            return "", f"must be at least {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return "", f"must be at most {self.max_length} characters"
        return None


@dataclass(frozen=True)
class OneOf(Shape):
    """One of a few strings."""

    choices: Sequence[str]

    def problem(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, str) or value not in self.choices:
            return "", f"must be one of {', '.join(self.choices)}"
        return None


@dataclass(frozen=True)
class Maybe(Shape):
    """``null``, or a value of ``shape``."""

    shape: Shape

    def problem(self, value: Any) -> tuple[str, str] | None:
        return None if value is None else self.shape.problem(value)


@dataclass(frozen=True)
class AnyOf(Shape):
    """A value of any of ``shapes`` (the first that fits)."""

    shapes: Sequence[Shape]
    described: str

    def problem(self, value: Any) -> tuple[str, str] | None:
        if any(shape.problem(value) is None for shape in self.shapes):
            return None
        return "", f"must be {self.described}"


@dataclass(frozen=True)
class Items(Shape):
    """A JSON array: of ``each`` (a list of any length up to ``max_length``), or, with
    ``fixed``, exactly one value of each of those shapes in order."""

    each: Shape | None = None
    fixed: Sequence[Shape] = ()
    max_length: int | None = None

    def problem(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, list):
            return "", "must be an array"
        if self.fixed and len(value) != len(self.fixed):
            return "", f"must hold {len(self.fixed)} values"
        if self.max_length is not None and len(value) > self.max_length:
            return "", f"must hold at most {self.max_length:,} values"
        shapes: Sequence[Shape | None] = self.fixed or [self.each] * len(value)
        for index, (item, shape) in enumerate(zip(value, shapes)):
            found = shape.problem(item) if shape is not None else None
            if found is not None:
                return _joined(str(index), found[0]), found[1]
        return None


@dataclass(frozen=True)
class Mapping(Shape):
    """A JSON object of any string keys, each value of ``values``."""

    values: Shape

    def problem(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, dict):
            return "", "must be an object"
        for key, item in value.items():
            found = self.values.problem(item)
            if found is not None:
                return _joined(_key(key), found[0]), found[1]
        return None


@dataclass(frozen=True)
class Fields(Shape):
    """A JSON object with exactly these fields; those in ``optional`` may be absent."""

    fields: dict[str, Shape]
    optional: frozenset[str] = frozenset()

    def problem(self, value: Any) -> tuple[str, str] | None:
        if not isinstance(value, dict):
            return "", "must be an object"
        for name, shape in self.fields.items():
            if name not in value:
                if name in self.optional:
                    continue
                return name, "is missing"
            found = shape.problem(value[name])
            if found is not None:
                return _joined(name, found[0]), found[1]
        extra = [key for key in value if key not in self.fields]
        if extra:
            return _key(extra[0]), "is not a field of this object"
        return None
