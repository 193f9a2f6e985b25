"""The page's languages: which one a browser asks for (``Accept-Language``) and where their
catalogues are. Each language's strings live in one JSON catalogue the page loads,
``static/i18n-LANG.json`` (key → text, ``{name}`` placeholders); movie titles stay as the
dataset writes them."""

from __future__ import annotations

LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"


def language_of(accept_language: str | None) -> str:
    """The supported language a browser prefers most (q-values honoured, ``ko-KR`` counts as
    ``ko``), else English.

    >>> language_of("ko-KR,ko;q=0.9,en-US;q=0.8"), language_of("fr, en;q=0.5"), language_of(None)
    ('ko', 'en', 'en')
    """
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for position, part in enumerate((accept_language or "")[:1000].split(",")):
        tag, *parameters = part.strip().split(";")
        language = tag.strip().lower().split("-")[0]
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # earlier entries win ties: the tiny nudge keeps the browser's own order
        quality -= position * 1e-6
        if language in LANGUAGES and quality > best_q:
            best, best_q = language, quality
    return best
