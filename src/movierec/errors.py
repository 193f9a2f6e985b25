"""The one exception type meant for people: its message names the problem and the way out."""


class MovieRecError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits with code 2."""


class DataError(MovieRecError):
    """A dataset is missing, malformed, or failed verification."""


class TitleError(MovieRecError):
    """A movie title could not be resolved to exactly one movie."""


class ModelError(MovieRecError):
    """A saved model is corrupt, or does not match the data it is used with."""


def shown(value: object, limit: int = 60) -> str:
    """User input quoted for a message: its repr, cut to ``limit`` characters."""
    text = repr(value) if isinstance(value, str) else repr(str(value))
    return text if len(text) <= limit else f"{text[: limit - 2]}…{text[0]}"
