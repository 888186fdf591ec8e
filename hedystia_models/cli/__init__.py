"""The ``hedystia-models`` command line (also ``python -m hedystia_models``); its entry point is
:func:`main`.

Every command reads its settings through :mod:`.config`. User mistakes print one line on stderr
(followed by indented details when the error has them) and exit with status 2; ``check`` exits 1
when something differs; a bug exits 3 with its traceback; ``--verbose`` shows tracebacks.

Modules, by job:

- :mod:`.program`: the top-level group, its global options, the commands it holds;
- :mod:`.scaffold`: ``schema create`` and ``migration create``, and their templates;
- :mod:`.migrate`: ``migrate up``, ``migrate down``, ``migrate status`` and ``history``;
- :mod:`.sync`: ``sync`` and ``check``;
- :mod:`.project`: the settings, schemas module and database a command works on;
- :mod:`.config`: settings from flags, the environment and pyproject.toml;
- :mod:`.options`: the global options as the commands receive them;
- :mod:`.errors`: user mistakes as one ``error:`` line and exit status 2;
- :mod:`.output`: JSON output and paths as shown to the user.
"""

from __future__ import annotations

from .program import main

__all__ = ["main"]
