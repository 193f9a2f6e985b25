"""Path and query parameters of the JSON API, read as strictly as its bodies: integers in ASCII
digits within bounds, search text without control characters, and no parameter the route does
not take or one given twice."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Path as PathParam
from fastapi import Query
from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError

from .body import shown
from .schemas import MAX_MOVIE_ID, MAX_QUERY_CHARS, MAX_RESULTS

CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f]"  # C0 and C1: a regex, and the schema's pattern
_CONTROL = re.compile(CONTROL_CHARACTERS)
_DECIMAL = re.compile(r"-?[0-9]+")


def _printable(query: str) -> str:
    """A search query without control characters (they match no title and garble logs)."""
    found = _CONTROL.search(query)
    if found:
        raise PydanticCustomError(
            "control_character",
            "must not hold control characters (found U+{code}); search with plain text",
            {"code": f"{ord(found.group()):04X}"},
        )
    return query


def _decimal(value: Any) -> Any:
    """An integer in a URL is written in ASCII digits: ``5.0``, ``+5``, `` 5`` and ``5_0`` (which
    pydantic would read as 50) are refused, not read."""
    if isinstance(value, str) and not _DECIMAL.fullmatch(value):
        raise PydanticCustomError(
            "int_parsing",
            'input should be a valid integer, written in digits (not "{sent}")',
            {"sent": shown(value, 24)},
        )
    return value


MovieIdPath = Annotated[
    int,
    PathParam(ge=1, le=MAX_MOVIE_ID, description=f"a MovieLens movie_id, 1 to {MAX_MOVIE_ID}"),
    BeforeValidator(_decimal),
]
CountQuery = Annotated[
    int,
    Query(ge=1, le=MAX_RESULTS, description=f"how many results, 1 to {MAX_RESULTS}"),
    BeforeValidator(_decimal),
]
TitleQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_QUERY_CHARS,
        description=f"part of a title, 1 to {MAX_QUERY_CHARS} characters, no control characters",
        json_schema_extra={"pattern": f"^[^{CONTROL_CHARACTERS[1:-1]}]*$"},
    ),
    AfterValidator(_printable),
]
