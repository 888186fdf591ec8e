"""Hand-written migrations: run once, in order, tracked with sync in one history, rolled back.

The migrations live in a directory of files, as the CLI writes them; this script writes two
into ./migrations and runs them.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from hedystia_models import Field, Table, database


class Account(Table, table="accounts"):
    id: int | None = Field(default=None, primary_key=True, auto_increment=True)
    full_name: str
    email: str | None = Field(default=None, unique=True)


FILES = {
    "0001_create_accounts.py": """
        from hedystia_models import migration


        def up(ctx):
            ctx.sql(
                "CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL)"
            )
            ctx.sql("INSERT INTO accounts (name) VALUES (?), (?)", ["Ann", "Bo"])


        create_accounts = migration(
            "0001_create_accounts", up=up, down=lambda ctx: ctx.schema.drop_table("accounts")
        )
    """,
    "0002_rename_name.py": """
        from hedystia_models import migration

        rename_name = migration(
            "0002_rename_name",
            up=lambda ctx: ctx.schema.rename_column("accounts", "name", "full_name"),
            down=lambda ctx: ctx.schema.rename_column("accounts", "full_name", "name"),
        )
    """,
}


def main() -> None:
    folder = Path("migrations")
    folder.mkdir(exist_ok=True)
    for name, source in FILES.items():
        (folder / name).write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")

    # Migrations run first (the rename), then sync adds what the model still lacks (email).
    with database(
        schemas=[Account],
        connection="migrations_demo.db",
        migrations=folder,
        run_migrations=True,
        sync_schemas=True,
    ) as db:
        print("accounts:", [a.full_name for a in db.table(Account).find(order_by="id")])
        for entry in db.history():
            print(f"history: {entry.kind:<9} {entry.name}")
        status = db.migration_status()
        print("pending:", status.pending, "clean:", status.clean)

        print("rolled back:", db.migrate_down())
        print("pending after rollback:", db.migration_status().pending)
        print("applied again:", db.migrate_up())


if __name__ == "__main__":
    main()
