"""Reading SQL text as tokens: the few questions schema code asks of stored SQL.

SQLite keeps every ``CREATE`` statement as written. A few facts that no pragma reports have to
be read from that text: the expression of an index key, the ``WHERE`` of a partial index,
whether an expression mentions a column. These helpers answer them on tokens (quoted names,
strings and comments are single opaque tokens), never by searching raw text, so a column named
in a string literal or a comment is never mistaken for a use of it.
"""

from __future__ import annotations

import re

from .quoting import fold_identifier, quote_identifier

__all__ = [
    "SQL_TOKEN",
    "column_clauses",
    "created_table",
    "deferred_foreign_keys",
    "index_terms",
    "index_where",
    "mentions",
    "rename_identifier",
    "rename_in_index_sql",
    "same_statement",
    "sql_words",
    "table_definitions",
    "unquote",
]

#: Quoted names, strings and comments (opaque), words, then any other single character.
SQL_TOKEN = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/|\w+|.""",
    re.S,
)


def unquote(token: str) -> str:
    """The identifier a name token stands for: ``"a""b"`` -> ``a"b``, ``[x]`` -> ``x``.

    >>> unquote('"order"'), unquote("[my col]"), unquote("plain")
    ('order', 'my col', 'plain')
    """
    if len(token) >= 2 and token[0] in '"`' and token[-1] == token[0]:
        return token[1:-1].replace(token[0] * 2, token[0])
    if len(token) >= 2 and token[0] == "[" and token[-1] == "]":
        return token[1:-1]
    return token


def _is_name(token: str) -> bool:
    return bool(token) and (token[0] in '"`[' or token[0].isalpha() or token[0] == "_")


def mentions(sql: str, column: str) -> bool:
    """True when ``sql`` uses the identifier ``column`` (compared as SQLite compares names).

    >>> mentions("lower(email) = 'email'", "EMAIL"), mentions("'email' -- email", "email")
    (True, False)
    """
    folded = fold_identifier(column)
    return any(
        _is_name(token) and fold_identifier(unquote(token)) == folded
        for token in SQL_TOKEN.findall(sql)
    )


def rename_identifier(sql: str, old: str, new: str) -> str:
    """``sql`` with every use of the identifier ``old`` replaced by ``new`` (quoted).

    >>> rename_identifier("lower(email) > 'email'", "email", "mail")
    'lower("mail") > \\'email\\''
    """
    folded = fold_identifier(old)
    return "".join(
        quote_identifier(new)
        if _is_name(token) and fold_identifier(unquote(token)) == folded
        else token
        for token in SQL_TOKEN.findall(sql)
    )


def sql_words(sql: str) -> tuple[str, ...]:
    """``sql`` as the words SQLite reads: spacing and comments dropped, names unquoted and
    folded as SQLite folds them (ASCII letters only), keywords folded the same way; string
    literals kept exactly, since their case is their value.

    >>> sql_words("lower(Name) = 'Ann'  -- note")
    ('lower', '(', 'name', ')', '=', "'Ann'")
    """
    return tuple(
        token if token.startswith("'") else fold_identifier(unquote(token))
        for token in SQL_TOKEN.findall(sql)
        if token.strip() and not token.startswith(("--", "/*"))
    )


def same_statement(a: str, b: str) -> bool:
    """True when two statements (or expressions) are the same but for spacing, comments, the
    case of keywords and names, and how names are quoted.

    >>> same_statement('CREATE INDEX "i" ON "t" ("a")', "create index i on T (a)")
    True
    >>> same_statement("CREATE INDEX i ON t (a DESC)", "CREATE INDEX i ON t (a)")
    False
    >>> same_statement("a = 'x'", "a = 'X'")
    False
    """
    return sql_words(a) == sql_words(b)


def created_table(sql: str) -> str | None:
    """The table a ``CREATE TABLE`` statement creates (``None`` for any other statement).

    >>> created_table('create table if not exists "Users" (id)'), created_table("DROP TABLE t")
    ('Users', None)
    """
    words = [t for t in SQL_TOKEN.findall(sql) if t.strip() and not t.startswith(("--", "/*"))]
    upper = [w.upper() for w in words]
    if upper[:1] != ["CREATE"]:
        return None
    rest = upper[1:]
    position = 1
    if rest[:1] in (["TEMP"], ["TEMPORARY"]):
        position += 1
    if upper[position : position + 1] != ["TABLE"]:
        return None
    position += 1
    if upper[position : position + 3] == ["IF", "NOT", "EXISTS"]:
        position += 3
    if position >= len(words):
        return None
    if upper[position + 1 : position + 2] == ["."]:  # main."name"
        position += 2
    return unquote(words[position]) if position < len(words) else None


_CONSTRAINTS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})


def table_definitions(create_sql: str) -> list[list[str]]:
    """The definitions of a ``CREATE TABLE`` (its columns and table constraints), each as its
    word tokens (spacing and comments left out), split at the top-level commas of the body."""
    words = [
        t for t in SQL_TOKEN.findall(create_sql) if t.strip() and not t.startswith(("--", "/*"))
    ]
    if "(" not in words:
        return []
    parts: list[list[str]] = [[]]
    depth = 0
    for word in words[words.index("(") + 1 :]:
        if word == "(":
            depth += 1
        elif word == ")":
            if depth == 0:
                break
            depth -= 1
        elif word == "," and depth == 0:
            parts.append([])
            continue
        parts[-1].append(word)
    return [part for part in parts if part]


def _top_level(words: list[str]) -> list[str]:
    """``words`` without what stands inside parentheses (upper-cased)."""
    kept: list[str] = []
    depth = 0
    for word in words:
        if word == "(":
            depth += 1
        elif word == ")":
            depth -= 1
        elif depth == 0:
            kept.append(word.upper())
    return kept


def _deferred(words: list[str]) -> bool:
    """True when a foreign-key clause says ``DEFERRABLE INITIALLY DEFERRED``."""
    upper = _top_level(words)
    for i, word in enumerate(upper):
        if word == "DEFERRABLE" and upper[i - 1 : i] != ["NOT"]:
            return upper[i + 1 : i + 3] == ["INITIALLY", "DEFERRED"]
    return False


def column_clauses(create_sql: str) -> dict[str, tuple[str | None, bool]]:
    """For each column of a ``CREATE TABLE`` (folded name): its ``COLLATE`` (``None`` when it
    has none) and whether its ``REFERENCES`` clause is ``DEFERRABLE INITIALLY DEFERRED``.

    >>> column_clauses('CREATE TABLE t (a TEXT COLLATE nocase, "b" INT REFERENCES p(id) '
    ...                'DEFERRABLE INITIALLY DEFERRED, CHECK (a <> b))')
    {'a': ('nocase', False), 'b': (None, True)}
    """
    found: dict[str, tuple[str | None, bool]] = {}
    for words in table_definitions(create_sql):
        if words[0].upper() in _CONSTRAINTS:
            continue
        collate = None
        depth = 0
        for i, word in enumerate(words[1:-1], start=1):
            depth += (word == "(") - (word == ")")
            if depth == 0 and word.upper() == "COLLATE":
                collate = unquote(words[i + 1])
        found[fold_identifier(unquote(words[0]))] = (collate, _deferred(words))
    return found


def deferred_foreign_keys(create_sql: str) -> set[tuple[str, ...]]:
    """The column lists (folded) of the table ``FOREIGN KEY`` constraints of a ``CREATE
    TABLE`` that are ``DEFERRABLE INITIALLY DEFERRED``."""
    found: set[tuple[str, ...]] = set()
    for words in table_definitions(create_sql):
        upper = [w.upper() for w in words]
        if "FOREIGN" not in upper or "(" not in words:
            continue
        start = words.index("(", upper.index("FOREIGN"))
        end = words.index(")", start)
        columns = tuple(fold_identifier(unquote(w)) for w in words[start + 1 : end] if w != ",")
        if _deferred(words):
            found.add(columns)
    return found


def _index_parts(tokens: list[str]) -> tuple[int | None, int]:
    """In a ``CREATE INDEX``'s tokens: the position of the index name token (``None`` when
    not found) and the position where the key list starts (the ``(`` after ``ON <table>``)."""
    upper = [t.upper() for t in tokens]
    words = [i for i, t in enumerate(tokens) if t.strip()]
    name_at: int | None = None
    if "INDEX" in upper:
        after = [i for i in words if i > upper.index("INDEX")]
        if len(after) >= 3 and [upper[i] for i in after[:3]] == ["IF", "NOT", "EXISTS"]:
            after = after[3:]
        name_at = after[0] if after else None
    start = upper.index("ON") if "ON" in upper else 0
    while start < len(tokens) and tokens[start] != "(":
        start += 1
    return name_at, start


def rename_in_index_sql(sql: str, old: str, new: str, *, name: str | None = None) -> str:
    """A stored ``CREATE INDEX`` after its table's column ``old`` became ``new``: the column
    renamed in the keys and the ``WHERE`` only (never the index's or the table's own name),
    and the index itself called ``name`` when given.

    >>> rename_in_index_sql("CREATE INDEX tag ON tag (tag DESC)", "tag", "label")
    'CREATE INDEX tag ON tag ("label" DESC)'
    >>> rename_in_index_sql("CREATE INDEX t_a_index ON t (a)", "a", "b", name="t_b_index")
    'CREATE INDEX "t_b_index" ON t ("b")'
    """
    tokens = SQL_TOKEN.findall(sql)
    name_at, start = _index_parts(tokens)
    head, keys = tokens[:start], "".join(tokens[start:])
    if name is not None and name_at is not None:
        head[name_at] = quote_identifier(name)
    return "".join(head) + rename_identifier(keys, old, new)


def _after_on_table(tokens: list[str]) -> int:
    """Index of the token after ``ON <table>`` in a ``CREATE INDEX`` (0 when not found)."""
    upper = [t.upper() for t in tokens]
    return upper.index("ON") + 1 if "ON" in upper else 0


def index_terms(sql: str) -> list[str]:
    """The key terms of a ``CREATE INDEX`` statement, as written, without a trailing
    ``COLLATE``/``ASC``/``DESC``.

    >>> index_terms('CREATE INDEX i ON t (lower(email) DESC, "name" COLLATE NOCASE)')
    ['lower(email)', '"name"']
    """
    tokens = SQL_TOKEN.findall(sql)
    position = _after_on_table(tokens)
    while position < len(tokens) and tokens[position] != "(":
        position += 1
    terms: list[list[str]] = [[]]
    depth = 0
    for token in tokens[position + 1 :]:
        if token == "(":
            depth += 1
        elif token == ")":
            if depth == 0:
                break
            depth -= 1
        elif token == "," and depth == 0:
            terms.append([])
            continue
        terms[-1].append(token)
    return [_strip_order(term) for term in terms if "".join(term).strip()]


def _strip_order(term: list[str]) -> str:
    """A key term's text without a trailing ``ASC``/``DESC`` and ``COLLATE <name>``."""
    words = [i for i, token in enumerate(term) if token.strip()]
    end = len(words)
    if end and term[words[end - 1]].upper() in ("ASC", "DESC"):
        end -= 1
    if end >= 2 and term[words[end - 2]].upper() == "COLLATE":
        end -= 2
    return "".join(term[: words[end - 1] + 1]).strip() if end else ""


def index_where(sql: str) -> str | None:
    """The ``WHERE`` condition of a partial index's ``CREATE INDEX`` (``None`` for a full one).

    >>> index_where("CREATE INDEX i ON t (a) WHERE a IS NOT NULL")
    'a IS NOT NULL'
    """
    for token in SQL_TOKEN.finditer(sql):
        if token.group().upper() == "WHERE":
            return sql[token.end() :].strip() or None
    return None
