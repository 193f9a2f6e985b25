"""Alembic's environment for movierec's profile database.

movierec runs the migrations itself (:func:`movierec.profiles.database.migrate`), handing the
open connection over in ``config.attributes["connection"]``; no ``alembic.ini`` is needed.
"""

from alembic import context

from movierec.profiles.schema import VERSION_TABLE

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
