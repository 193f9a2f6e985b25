"""Profiles: a person's ratings, "not interested" and watch list kept in a database (SQLite
by default, PostgreSQL by URL), and what they bring: recommendations for one profile, picks
for a movie night of several, and ratings to train on (with consent).

- :mod:`.store` — :class:`ProfileStore`, the Python API over the database;
- :mod:`.database` — opening a database, its migrations (``migrations/``), its errors;
- :mod:`.schema` — the tables;
- :mod:`.picks` — profiles → recommendations and training data.

Importing this package imports SQLAlchemy: the CLI and the web page import it only when a
profile database is asked for.
"""

from .store import Kept, NewProfile, Profile, ProfileData, ProfileStore, Rating

__all__ = ["Kept", "NewProfile", "Profile", "ProfileData", "ProfileStore", "Rating"]
