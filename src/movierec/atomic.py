"""Writing a file so that no reader sees half of it: a temporary file beside it, then a rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: str | Path, write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write`` with a binary file that becomes ``path`` only once ``write`` returns;
    on any failure the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.chmod(temp, 0o644)  # mkstemp's 0600 would hide reports from a web server
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
