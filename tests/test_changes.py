"""Pure changes to table specs, and the SQL-text helpers they rely on.

:mod:`hedystia_models.schema.changes` (a spec in, a spec out), :meth:`Operation.changed` for every
operation kind (which says what an operation does to its table through those functions), and
:mod:`hedystia_models.schema.sqltext` (questions asked of stored SQL, answered on tokens), partly
as properties checked with hypothesis. No database is involved.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hedystia_models.errors import SpecError
from hedystia_models.migrate.operations import (
    AddColumn,
    AlterColumn,
    AlterIndex,
    AlterTable,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
)
from hedystia_models.schema.changes import (
    with_index,
    with_renamed_column,
    with_replaced_column,
    with_table_constraints,
    without_column,
    without_index,
)
from hedystia_models.schema.spec import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexExpression,
    IndexSpec,
    TableSpec,
)
from hedystia_models.schema.sqltext import (
    SQL_TOKEN,
    index_terms,
    index_where,
    mentions,
    rename_identifier,
    same_statement,
    unquote,
)

ID = ColumnSpec("id", "INTEGER", primary_key=True)
EMAIL = ColumnSpec("email", "TEXT", check="length(email) > 3")
NAME = ColumnSpec("name", "TEXT")
CODE = ColumnSpec("code", "TEXT", unique=True)

BY_EMAIL = IndexSpec("users_email_index", ("email",))
BY_NAME_EMAIL = IndexSpec("users_name_email_index", ("name", "email"))
BY_LOWER_EMAIL = IndexSpec("users_lower_email", (IndexExpression("lower(email)"),))
NAMED_WITH_EMAIL = IndexSpec("users_named", ("name",), where="email IS NOT NULL")
BY_NAME = IndexSpec(
    "users_name_desc", ("name",), sql="CREATE INDEX users_name_desc ON users (name DESC)"
)
CODE_UNIQUE = IndexSpec("users_code_unique", ("code",), unique=True)
EMAIL_UNIQUE = IndexSpec("users_email_unique", ("email",), unique=True)

USERS = TableSpec(
    "users",
    (ID, EMAIL, NAME, CODE),
    indexes=(BY_EMAIL, BY_NAME_EMAIL, BY_LOWER_EMAIL, NAMED_WITH_EMAIL, BY_NAME),
    checks=(CheckSpec("email <> name", name="distinct"),),
    foreign_keys=(ForeignKeySpec(("name", "email"), "people", ("name", "mail")),),
    unique_together=(("name", "email"), ("name", "code")),
    triggers=("CREATE TRIGGER users_t AFTER INSERT ON users BEGIN SELECT NEW.email; END",),
    unique_indexes=(CODE_UNIQUE,),
    sql="CREATE TABLE users (...)",
)


# -- without_column ---------------------------------------------------------------------------


def test_without_column_drops_the_column_and_everything_that_needs_it() -> None:
    after = without_column(USERS, "email")
    assert after.column_names == ("id", "name", "code")
    # indexes using it as a key, inside an expression or in their WHERE go with it
    assert after.indexes == (BY_NAME,)
    assert after.unique_together == (("name", "code"),)
    assert after.foreign_keys == ()
    # kept as they are: a CHECK naming the column makes the new table invalid (a rebuild
    # refuses that), and what introspection keeps beside the spec
    assert after.checks == USERS.checks
    assert after.unique_indexes == (CODE_UNIQUE,)
    assert (after.triggers, after.sql) == (USERS.triggers, USERS.sql)
    assert USERS.column_names == ("id", "email", "name", "code")  # frozen input untouched


def test_without_column_drops_its_unique_index_and_matches_case_insensitively() -> None:
    after = without_column(USERS, "CODE")
    assert after.column_names == ("id", "email", "name")
    assert after.unique_indexes == ()
    assert after.unique_together == (("name", "email"),)
    assert after.indexes == USERS.indexes


def test_without_column_refuses_an_unknown_column() -> None:
    with pytest.raises(SpecError, match="has no column 'nope'"):
        without_column(USERS, "nope")
    with pytest.raises(SpecError, match="has no column"):
        without_column(TableSpec("t", (ColumnSpec("CAFÉ", "TEXT"),)), "café")


# -- with_replaced_column ---------------------------------------------------------------------


def test_with_replaced_column_replaces_it_in_its_place() -> None:
    wider = ColumnSpec("EMAIL", "VARCHAR(99)", not_null=True)
    after = with_replaced_column(USERS, wider)
    assert after.columns == (ID, wider, NAME, CODE)
    assert replace(after, columns=USERS.columns) == USERS
    assert after.unique_indexes == USERS.unique_indexes


def test_a_column_that_stops_being_unique_loses_its_unique_index() -> None:
    after = with_replaced_column(USERS, replace(CODE, unique=False))
    assert after.unique_indexes == ()
    still = with_replaced_column(USERS, replace(CODE, type="VARCHAR(9)"))
    assert still.unique_indexes == (CODE_UNIQUE,)


def test_with_replaced_column_refuses_an_unknown_column() -> None:
    with pytest.raises(SpecError, match="has no column 'nope'"):
        with_replaced_column(USERS, ColumnSpec("nope", "TEXT"))


# -- with_renamed_column ----------------------------------------------------------------------


def test_with_renamed_column_renames_it_everywhere_the_table_names_it() -> None:
    after = with_renamed_column(USERS, "email", "mail")
    assert after.column_names == ("id", "mail", "name", "code")
    assert after.column("mail") == ColumnSpec("mail", "TEXT", check='length("mail") > 3')
    assert after.unique_together == (("name", "mail"), ("name", "code"))
    assert after.foreign_keys == (ForeignKeySpec(("name", "mail"), "people", ("name", "mail")),)
    assert after.checks == (CheckSpec('"mail" <> name', name="distinct"),)
    # triggers are left to SQLite, which rewrites them itself on RENAME COLUMN
    assert after.triggers == USERS.triggers


def test_default_named_indexes_take_the_new_column_name() -> None:
    after = with_renamed_column(USERS, "email", "mail")
    by_name = {i.name: i for i in after.indexes}
    assert by_name["users_mail_index"] == IndexSpec("users_mail_index", ("mail",))
    assert by_name["users_name_mail_index"] == IndexSpec("users_name_mail_index", ("name", "mail"))
    assert "users_email_index" not in by_name
    # so a later plan finds the index the models now declare under that name
    assert by_name["users_mail_index"].sql is None


def test_a_default_named_unique_index_takes_the_new_column_name() -> None:
    table = TableSpec(
        "users",
        (ID, replace(EMAIL, unique=True)),
        unique_indexes=(
            replace(EMAIL_UNIQUE, sql="CREATE UNIQUE INDEX users_email_unique ON users (email)"),
        ),
    )
    after = with_renamed_column(table, "Email", "mail")
    assert after.unique_indexes == (IndexSpec("users_mail_unique", ("mail",), unique=True),)


def test_other_indexes_keep_their_name_and_get_their_expression_and_where_renamed() -> None:
    stored = replace(
        BY_LOWER_EMAIL, sql="CREATE INDEX users_lower_email ON users (lower(email) DESC)"
    )
    table = replace(USERS, indexes=(stored, NAMED_WITH_EMAIL, BY_NAME))
    after = with_renamed_column(table, "EMAIL", "mail")
    lower, named, by_name = after.indexes
    assert lower.name == "users_lower_email"
    assert lower.columns == (IndexExpression('lower("mail")'),)
    assert lower.sql == 'CREATE INDEX users_lower_email ON users (lower("mail") DESC)'
    assert named == IndexSpec("users_named", ("name",), where='"mail" IS NOT NULL')
    assert by_name is BY_NAME  # does not use the column: untouched, stored SQL included


def test_an_expression_index_with_a_default_looking_name_keeps_it() -> None:
    index = IndexSpec("users_email_index", (IndexExpression("lower(email)"),))
    after = with_renamed_column(replace(USERS, indexes=(index,)), "email", "mail")
    assert after.indexes == (IndexSpec("users_email_index", (IndexExpression('lower("mail")'),)),)


def test_renaming_to_another_case_of_the_same_name_is_allowed() -> None:
    after = with_renamed_column(USERS, "email", "EMAIL")
    assert after.column_names == ("id", "EMAIL", "name", "code")


def test_with_renamed_column_refuses_a_taken_or_unknown_name() -> None:
    with pytest.raises(SpecError, match="already has column 'NAME'"):
        with_renamed_column(USERS, "email", "NAME")
    with pytest.raises(SpecError, match="has no column 'nope'"):
        with_renamed_column(USERS, "nope", "other")


def test_renaming_a_column_named_like_its_table_keeps_the_table_name_in_index_sql() -> None:
    index = IndexSpec("by_tag", ("tag",), sql="CREATE INDEX by_tag ON tag (tag DESC)")
    table = TableSpec("tag", (ID, ColumnSpec("tag", "TEXT")), indexes=(index,))
    [after] = with_renamed_column(table, "tag", "label").indexes
    assert after.sql is not None
    assert same_statement(after.sql, 'CREATE INDEX by_tag ON tag ("label" DESC)')


def test_renaming_a_column_named_like_its_index_keeps_the_index_name_in_its_sql() -> None:
    index = IndexSpec("email", ("email",), sql="CREATE INDEX email ON users (email DESC)")
    table = TableSpec("users", (ID, ColumnSpec("email", "TEXT")), indexes=(index,))
    [after] = with_renamed_column(table, "email", "mail").indexes
    assert after.name == "email"
    assert after.sql is not None
    assert same_statement(after.sql, 'CREATE INDEX email ON users ("mail" DESC)')


def test_a_renamed_default_named_index_keeps_its_sort_order() -> None:
    index = IndexSpec(
        "users_email_index", ("email",), sql="CREATE INDEX users_email_index ON users (email DESC)"
    )
    table = TableSpec("users", (ID, ColumnSpec("email", "TEXT")), indexes=(index,))
    [after] = with_renamed_column(table, "email", "mail").indexes
    assert after.name == "users_mail_index"
    assert after.sql is not None and "DESC" in after.sql.upper()


# -- indexes and table constraints ------------------------------------------------------------


def test_with_index_adds_an_index_last_and_replaces_one_of_the_same_name() -> None:
    new = IndexSpec("users_code_index", ("code",))
    assert with_index(USERS, new).indexes == (*USERS.indexes, new)
    wider = IndexSpec("USERS_EMAIL_INDEX", ("email", "name"), unique=True)
    after = with_index(USERS, wider)
    assert after.indexes == (BY_NAME_EMAIL, BY_LOWER_EMAIL, NAMED_WITH_EMAIL, BY_NAME, wider)


def test_without_index_removes_an_index_or_a_unique_index_by_name() -> None:
    assert without_index(USERS, "Users_Email_Index").indexes == USERS.indexes[1:]
    after = without_index(USERS, "users_code_unique")
    assert (after.indexes, after.unique_indexes) == (USERS.indexes, ())
    assert without_index(USERS, "no_such_index") == USERS
    assert without_index(USERS, "no_such_index").unique_indexes == USERS.unique_indexes


def test_with_table_constraints_takes_only_the_table_level_constraints() -> None:
    desired = TableSpec(
        "users",
        (ID, NAME),
        indexes=(IndexSpec("x", ("name",)),),
        checks=(CheckSpec("id > 0"),),
        unique_together=(("id", "name"),),
    )
    after = with_table_constraints(USERS, desired)
    assert (after.checks, after.unique_together, after.foreign_keys) == (
        (CheckSpec("id > 0"),),
        (("id", "name"),),
        (),
    )
    assert (after.columns, after.indexes, after.unique_indexes, after.triggers) == (
        USERS.columns,
        USERS.indexes,
        USERS.unique_indexes,
        USERS.triggers,
    )


# -- Operation.changed ------------------------------------------------------------------------

SMALL = TableSpec("users", (ID, NAME), indexes=(IndexSpec("users_name_index", ("name",)),))


def test_create_table_makes_its_spec_and_refuses_an_existing_table() -> None:
    op = CreateTable("users", spec=SMALL)
    assert op.changed(None) == SMALL
    with pytest.raises(SpecError, match="already exists"):
        op.changed(SMALL)


def test_drop_table_leaves_no_table() -> None:
    assert DropTable("users", spec=SMALL).changed(SMALL) is None


@pytest.mark.parametrize(
    "op",
    [
        DropTable("users", spec=SMALL),
        AddColumn("users", spec=EMAIL),
        DropColumn("users", spec=NAME),
        RenameColumn("users", old="name", new="nick"),
        AlterColumn("users", desired=NAME, actual=NAME),
        CreateIndex("users", index=BY_EMAIL),
        DropIndex("users", index=BY_EMAIL),
        AlterIndex("users", desired=BY_EMAIL, actual=BY_EMAIL),
        AlterTable("users", desired=SMALL, actual=SMALL),
    ],
    ids=lambda op: op.kind,
)
def test_every_other_operation_needs_its_table(op: Operation) -> None:
    with pytest.raises(SpecError, match="table 'users' does not exist"):
        op.changed(None)


def test_add_column_appends_the_column() -> None:
    assert AddColumn("users", spec=EMAIL).changed(SMALL) == SMALL.with_column(EMAIL)


def test_adding_a_unique_column_adds_the_unique_index_that_makes_it_so() -> None:
    after = AddColumn("users", spec=CODE).changed(SMALL)
    assert after is not None
    assert after.columns == (ID, NAME, CODE)
    assert after.unique_indexes == (CODE_UNIQUE,)
    assert after.indexes == SMALL.indexes
    # a primary key column is unique through the key itself
    key = ColumnSpec("key", "TEXT", primary_key=True, unique=True)
    keyed = AddColumn("t", spec=key).changed(TableSpec("t", (NAME,)))
    assert keyed is not None and keyed.unique_indexes == ()


def test_drop_column_is_without_column() -> None:
    assert DropColumn("users", spec=EMAIL).changed(USERS) == without_column(USERS, "email")
    with pytest.raises(SpecError):
        DropColumn("users", spec=EMAIL).changed(SMALL)


def test_rename_column_is_with_renamed_column() -> None:
    op = RenameColumn("users", old="name", new="nick")
    after = op.changed(SMALL)
    assert after == with_renamed_column(SMALL, "name", "nick")
    assert after is not None and after.indexes == (IndexSpec("users_nick_index", ("nick",)),)
    assert op.reverse().changed(after) == SMALL


def test_alter_column_is_with_replaced_column() -> None:
    desired = ColumnSpec("name", "VARCHAR(9)", not_null=True)
    op = AlterColumn("users", desired=desired, actual=NAME)
    assert op.changed(SMALL) == with_replaced_column(SMALL, desired)
    assert op.reverse().changed(op.changed(SMALL)) == SMALL


def test_create_index_is_with_index() -> None:
    op = CreateIndex("users", index=BY_EMAIL)
    assert op.changed(USERS) == with_index(USERS, BY_EMAIL)
    assert op.changed(SMALL) == replace(SMALL, indexes=(*SMALL.indexes, BY_EMAIL))


def test_drop_index_is_without_index() -> None:
    op = DropIndex("users", index=IndexSpec("users_name_index", ("name",)))
    assert op.changed(SMALL) == replace(SMALL, indexes=())
    assert op.reverse().changed(replace(SMALL, indexes=())) == SMALL


def test_alter_index_replaces_the_actual_index_by_the_desired_one() -> None:
    actual = IndexSpec("users_name_index", ("name",))
    desired = IndexSpec("users_name_index", ("name", "id"), unique=True)
    op = AlterIndex("users", desired=desired, actual=actual)
    assert op.changed(SMALL) == replace(SMALL, indexes=(desired,))
    assert op.reverse().changed(replace(SMALL, indexes=(desired,))) == SMALL


def test_alter_table_takes_the_desired_table_constraints() -> None:
    desired = replace(SMALL, checks=(CheckSpec("id > 0"),), unique_together=(("id", "name"),))
    op = AlterTable("users", desired=desired, actual=SMALL)
    assert op.changed(SMALL) == with_table_constraints(SMALL, desired) == desired
    assert op.reverse().changed(desired) == SMALL


def test_operations_chain_through_changed_without_a_database() -> None:
    table: TableSpec | None = None
    for op in (
        CreateTable("users", spec=SMALL),
        AddColumn("users", spec=EMAIL),
        CreateIndex("users", index=BY_EMAIL),
        RenameColumn("users", old="email", new="mail"),
        DropColumn("users", spec=NAME),
    ):
        table = op.changed(table)
    assert table == TableSpec(
        "users",
        (ID, ColumnSpec("mail", "TEXT", check='length("mail") > 3')),
        indexes=(IndexSpec("users_mail_index", ("mail",)),),
    )


# -- sqltext ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "column", "expected"),
    [
        ("lower(email)", "email", True),
        ("lower(EMAIL)", "Email", True),
        ('lower("email")', "EMAIL", True),
        ("[email] > 0", "email", True),
        ("`email` > 0", "email", True),
        ("t.email > 0", "email", True),
        ("'email' = x", "email", False),
        ("x -- email", "email", False),
        ("x /* email */ + 1", "email", False),
        ("emails > 0", "email", False),
        ("e_mail > 0", "email", False),
        ('"a""b" > 0', 'a"b', True),
        ('"my col" > 0', "my col", True),
        ("CAFÉ > 0", "café", False),
        ("café > 0", "café", True),
    ],
)
def test_mentions(sql: str, column: str, expected: bool) -> None:
    assert mentions(sql, column) is expected


def test_rename_identifier_renames_every_use_and_quotes_the_new_name() -> None:
    sql = "a /* a */ + 'a' -- a\n+ \"a\" + [a] + `a` + A + aa + t.a"
    assert rename_identifier(sql, "a", "b c") == (
        '"b c" /* a */ + \'a\' -- a\n+ "b c" + "b c" + "b c" + "b c" + aa + t."b c"'
    )
    assert rename_identifier("x", "a", "b") == "x"
    assert rename_identifier('"a" + 1', "a", 'q"q') == '"q""q" + 1'


@pytest.mark.parametrize(
    ("sql", "terms"),
    [
        ("CREATE INDEX i ON t (a)", ["a"]),
        ("CREATE INDEX i ON t(a,b)", ["a", "b"]),
        (
            'CREATE INDEX i ON t (lower(email) DESC, "name" COLLATE NOCASE)',
            ["lower(email)", '"name"'],
        ),
        ("CREATE INDEX i ON t (a, (b + 1), c COLLATE NOCASE ASC)", ["a", "(b + 1)", "c"]),
        (
            "CREATE UNIQUE INDEX IF NOT EXISTS i ON t (coalesce(a, ','), b)",
            ["coalesce(a, ',')", "b"],
        ),
        ('CREATE INDEX "on" ON "t" ("a""b", x) WHERE x > 0', ['"a""b"', "x"]),
        ('CREATE INDEX i ON t ("desc" DESC)', ['"desc"']),
        ("create index i on t (a /* ) */, b)", ["a /* ) */", "b"]),
    ],
)
def test_index_terms(sql: str, terms: list[str]) -> None:
    assert index_terms(sql) == terms


@pytest.mark.parametrize(
    ("sql", "where"),
    [
        ("CREATE INDEX i ON t (a)", None),
        ("CREATE INDEX i ON t (a) WHERE a IS NOT NULL", "a IS NOT NULL"),
        ("create index i on t (a) where\n  a > 0  ", "a > 0"),
        ("CREATE INDEX i ON t (coalesce(a, 'where'))", None),
        ('CREATE INDEX i ON t ("where")', None),
        ("CREATE INDEX i /* where */ ON t (a)", None),
        ("CREATE INDEX i ON t (a) WHERE b = 'WHERE x'", "b = 'WHERE x'"),
        ("CREATE INDEX i ON t (a) WHERE", None),
    ],
)
def test_index_where(sql: str, where: str | None) -> None:
    assert index_where(sql) == where


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ('CREATE INDEX "i" ON "t" ("a")', "create index i on T (a)", True),
        ("CREATE INDEX i ON t (a)", "CREATE   INDEX i\nON t ( a )  -- note", True),
        ("CREATE INDEX i ON t (a) /* x */", "CREATE INDEX i ON t (a)", True),
        ("CREATE INDEX i ON t ([a])", "CREATE INDEX i ON t (`A`)", True),
        ("CREATE INDEX i ON t (a DESC)", "CREATE INDEX i ON t (a)", False),
        ("CREATE INDEX i ON t (a)", "CREATE UNIQUE INDEX i ON t (a)", False),
        ("CREATE INDEX i ON t (a, b)", "CREATE INDEX i ON t (b, a)", False),
        ("CREATE INDEX i ON t (a) WHERE a > 1", "CREATE INDEX i ON t (a) WHERE a > 2", False),
        ('CREATE INDEX i ON t ("CAFÉ")', 'CREATE INDEX i ON t ("café")', False),
    ],
)
def test_same_statement(a: str, b: str, same: bool) -> None:
    assert same_statement(a, b) is same
    assert same_statement(b, a) is same


def test_statements_differing_in_a_string_literal_are_not_the_same() -> None:
    assert not same_statement(
        "CREATE INDEX i ON t (a) WHERE a = 'x'", "CREATE INDEX i ON t (a) WHERE a = 'X'"
    )


# -- sqltext properties -----------------------------------------------------------------------

NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)


def _quoted(name: str, style: int) -> str:
    if style == 0:
        return name
    if style == 1:
        return '"' + name.replace('"', '""') + '"'
    if style == 2:
        return "`" + name.replace("`", "``") + "`"
    return f"[{name}]"


@st.composite
def sql_pieces(draw: st.DrawFn, target: str) -> list[tuple[str, str]]:
    """SQL as (kind, token) pieces: names (``target`` among them, in any case and quoting),
    string literals and comments that may contain ``target``, numbers and operators."""
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)
    pieces: list[tuple[str, str]] = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["name", "target", "string", "line", "block", "op", "number"]))
        if kind == "name":
            pieces.append(("name", _quoted(draw(NAMES), draw(st.integers(0, 3)))))
        elif kind == "target":
            spelled = "".join(c.upper() if draw(st.booleans()) else c.lower() for c in target)
            pieces.append(("name", _quoted(spelled, draw(st.integers(0, 3)))))
        elif kind == "string":
            inner = draw(st.sampled_from([target, f"{target} x", draw(text)]))
            pieces.append(("opaque", "'" + inner.replace("'", "''") + "'"))
        elif kind == "line":
            inner = draw(st.sampled_from([target, draw(text)])).replace("\n", " ")
            pieces.append(("opaque", f"-- {inner}"))
        elif kind == "block":
            inner = draw(st.sampled_from([target, draw(text)])).replace("*", "")
            pieces.append(("opaque", f"/* {inner} */"))
        elif kind == "op":
            pieces.append(("op", draw(st.sampled_from(["+", "=", "(", ")", ",", "<>", "*"]))))
        else:
            pieces.append(("op", str(draw(st.integers(0, 999)))))
    return pieces


def joined(pieces: list[tuple[str, str]]) -> str:
    """The SQL text of ``pieces``: separated by spaces, a line comment ended by a newline."""
    return "".join(token + ("\n" if token.startswith("--") else " ") for _, token in pieces)


def _opaque(sql: str) -> list[str]:
    """The string literals and comments of ``sql``, in order."""
    return [t for t in SQL_TOKEN.findall(sql) if t[0] == "'" or t.startswith(("--", "/*"))]


@given(target=NAMES, new=NAMES, data=st.data())
def test_rename_identifier_never_touches_strings_or_comments(
    target: str, new: str, data: st.DataObject
) -> None:
    pieces = data.draw(sql_pieces(target))
    sql = joined(pieces)
    renamed = rename_identifier(sql, target, new)
    assert _opaque(renamed) == _opaque(sql) == [t for kind, t in pieces if kind == "opaque"]
    # every use is renamed, and only uses
    if new.lower() != target.lower():
        assert not mentions(renamed, target)
    assert mentions(renamed, new) == (mentions(sql, target) or mentions(sql, new))
    names = [unquote(t) for kind, t in pieces if kind == "name"]
    others = [n for n in names if n.lower() != target.lower()]
    assert all(mentions(renamed, n) for n in others)


@given(target=NAMES, new=NAMES, data=st.data())
def test_renaming_there_and_back_gives_the_same_statement(
    target: str, new: str, data: st.DataObject
) -> None:
    pieces = data.draw(sql_pieces(target))
    sql = joined(pieces)
    # renaming back would also rename the uses of new that were there before
    assume(not mentions(sql, new) or new.lower() == target.lower())
    back = rename_identifier(rename_identifier(sql, target, new), new, target)
    assert same_statement(back, sql)


@given(target=NAMES, data=st.data())
def test_mentions_sees_names_only(target: str, data: st.DataObject) -> None:
    pieces = data.draw(sql_pieces(target))
    sql = joined(pieces)
    expected = any(
        kind == "name" and unquote(token).lower() == target.lower() for kind, token in pieces
    )
    assert mentions(sql, target) is expected


KEYS = st.one_of(
    NAMES.map(lambda n: _quoted(n, 1)),
    NAMES.filter(lambda n: n.upper() not in ("ASC", "DESC", "COLLATE", "ON", "WHERE")),
    NAMES.map(lambda n: f"lower({_quoted(n, 1)})"),
    st.tuples(NAMES, st.integers(0, 9)).map(lambda p: f'("{p[0]}" + {p[1]})'),
    NAMES.map(lambda n: f"coalesce(\"{n}\", ',)')"),
)
SUFFIXES = st.sampled_from(["", " ASC", " DESC", " COLLATE NOCASE", " COLLATE NOCASE DESC"])


@given(keys=st.lists(st.tuples(KEYS, SUFFIXES), min_size=1, max_size=4), where=st.booleans())
def test_index_terms_gives_back_the_keys_as_written(
    keys: list[tuple[str, str]], where: bool
) -> None:
    body = ", ".join(key + suffix for key, suffix in keys)
    condition = " WHERE \"x\" = ',' AND y > 0" if where else ""
    sql = f'CREATE INDEX "i" ON "t" ({body}){condition}'
    assert index_terms(sql) == [key for key, _ in keys]
    assert index_where(sql) == ("\"x\" = ',' AND y > 0" if where else None)


@given(data=st.data(), target=NAMES)
def test_same_statement_ignores_spacing_comments_and_the_case_of_names(
    data: st.DataObject, target: str
) -> None:
    pieces = [(k, t) for k, t in data.draw(sql_pieces(target)) if k != "opaque"]
    sql = joined(pieces)

    def respell(token: str) -> str:
        if token[0] in '"`[':
            return _quoted(unquote(token).upper(), 1 if token[0] != '"' else 3)
        return token.swapcase() if token[0].isalpha() or token[0] == "_" else token

    spaces = st.sampled_from([" ", "  ", "\n", " /* c */ ", " -- c\n"])
    other = "".join(respell(token) + data.draw(spaces) for _, token in pieces)
    assert same_statement(sql, other)
