"""The one ``Database`` of the app, shared by every request, thread and coroutine.

Built at import, but nothing is synced or migrated here: the app's ``lifespan`` does that (see
app.py). So importing this module (a test, a script, a shell) never changes the file.
"""

from __future__ import annotations

import os

from hedystia_models import database, migration

from .models import Post, User

# sync adds the tables and columns the models declare; anything else is a migration. This one
# fixes the rows written before User.email was lower-cased by its validator.
lowercase_emails = migration(
    "lowercase_emails", up=lambda ctx: ctx.sql("UPDATE users SET email = lower(email)")
)

db = database(
    schemas=[User, Post],
    connection=os.environ.get("APP_DATABASE", "app.db"),
    migrations=[lowercase_emails],
    journal_mode="wal",  # the default for a file: readers never wait for the one writer
)
