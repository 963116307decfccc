"""Benchmark: mutation testing of the fuzzer on the state rules and the store, with mutmut 3.

    .venv/bin/python bench/mutation.py [--seed 20261125] [--sequences 100] [--only PATTERN]...
        [--jobs 2] [--ref REF] [--journal FILE] [--out FILE]
    .venv/bin/python bench/mutation.py --render FILE      # the table of a journal

mutmut (the ``bench`` extra) mutates ``validator/state.py`` (ranks, the default
policy, order, PUT replace) and ``validator/server/store.py`` (the SQLite
store). Everything runs in a temporary directory:

- a snapshot of the package, from the work tree or, with ``--ref``, from a
  commit (``git archive``), so edits made during a run change nothing; the
  children run a copy of this script for the same reason;
- mutmut's mutants tree of that snapshot, made by mutmut's own generation step
  (what ``mutmut run`` does before it runs tests), configured by
  ``bench/mutants/setup.cfg``: every function of the two files becomes a
  trampoline that calls the original or one of its mutated copies, chosen by
  the environment variable ``MUTANT_UNDER_TEST``.

Then, for each mutant (``--only``: those whose mutmut name matches a pattern,
such as ``'validator.state.*'`` or ``'*Projectǁreorder*'``), ``--jobs`` at a
time:

- a server of its own: this script (``--serve NAME``) with the mutants tree on
  ``PYTHONPATH`` and ``MUTANT_UNDER_TEST=NAME``, serving the reference app as
  ``tests/server/live.py`` does (uvicorn on a free port of 127.0.0.1, tokens
  writer-token and reader-token, projects default and other, an in-memory
  database). Before it serves it checks that ``validator.state`` and
  ``validator.server.store`` come from the mutants tree and that their
  trampolines know the mutant's name (an unknown name would run the original);
- the fuzzer, on the snapshot of the original package (its own ``PYTHONPATH``,
  no ``MUTANT_UNDER_TEST``), in a worker process that runs
  ``fuzz(Target(url, writer, ("default", "other"), reader), FuzzOptions(seed,
  max_time=600, oracle_sequences=N, phase_examples=5, fixed_work=True))`` for
  one mutant after another. The worker draws the oracle's body pool once (a pure
  function of the seed that takes about 6 s of Schemathesis generation) and
  reuses it; everything else runs anew against each fresh server.

Verdicts: **killed** when the run reports a violation (the table names each
distinct check), when the fuzzer refuses the target (``preflight``: the server
cannot answer a list), or when the server does not even start ("server does
not start": any check sees that). **survived** when it reports nothing.
**crash** when the fuzzer raised instead of reporting (the CLI's exit 3; not
killed, by the definition "the run reports a violation"), **timeout** when it
overstayed ``FUZZ_TIMEOUT`` (its process group is killed). Every child runs in
a process group of its own and is killed with it when it overstays or when the
benchmark stops.

Before the mutants the harness proves itself: a server of the tree with no
mutant selected answers a create 201 with ``_id``; with
``MUTANT_UNDER_TEST=fail`` (mutmut's own setup check: every trampoline raises)
it does not start, because ``Store.__init__`` raises; with the ``WITNESS``
mutant (``Policy.to_json`` spelling ``_id`` "XX_idXX") its create answer has no
``_id``; and the fuzzer against the tree with no mutant (the "control" run)
reports nothing. A harness that served the original code would fail the third
check, and one whose fuzzer ran the mutant would agree with it and fail none of
the mutants.

A survivor is either in ``EQUIVALENT`` below (examined: no request sequence can
tell it from the original, with the reason) or in ``GAPS`` (what the fuzzer
lacks to kill it), keyed by mutmut's name and the change, so an entry stops
applying when the source changes under it. The score is killed / (mutants -
equivalent).

The Markdown table goes to stdout and, for a run of every mutant, to
``bench/results/mutation.md``; ``--journal`` appends each result as it comes,
so a run stopped early can still be shown (``--render``). Progress goes to
stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import fnmatch
import importlib
import io
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
CONFIG = REPOSITORY / "bench" / "mutants" / "setup.cfg"
RESULTS = REPOSITORY / "bench" / "results" / "mutation.md"
MUTATED = ("validator/state.py", "validator/server/store.py")
WRITER, READER = "writer-token", "reader-token"
PROJECTS = ("default", "other")
BASE = "/api/v2/projects/{project}/release-policies"

#: Seconds a server may take to start, a fuzz run to finish, a server to stop when asked.
START_TIMEOUT, FUZZ_TIMEOUT, STOP_TIMEOUT = 30.0, 300.0, 10.0
#: The most a server child serves, whatever happens to its parent.
SERVER_LIFETIME = 900.0

_CASE = "SQL keywords, identifiers, pragma names and their values are case-insensitive in SQLite."
_SYNC = (
    "`PRAGMA synchronous` only decides when SQLite syncs to disk, which shows only after an operating "
    "system crash; the server started with this value, so SQLite took or ignored it."
)
_THREAD = "The writer thread's name is never read."
_DAEMON = (
    "Only whether the interpreter waits for the writer thread at exit; the server closes the store on "
    "shutdown, which stops the thread, and no answer depends on it."
)
_LOAD = (
    "A project is loaded from its rows once, when first used, and is then served from the cache; on the "
    "fresh database the fuzzer gets, that first load finds no row, so this code never runs. Create a "
    "policy, restart the server on its file, GET the policy: wrong or 500. The fuzzer talks to one server "
    "life and never restarts it (tests/server/test_durability.py restarts)."
)

#: Survivors shown equivalent: (mutant name, the change it makes) -> why no request can tell it apart.
EQUIVALENT: dict[tuple[str, str], str] = {
    ("validator.state.xǁStateErrorǁ__init____mutmut_1", "`message` → `None`"): (
        "The exception's args are never shown: the server answers with `error.message`, which the next line "
        "sets."
    ),
    (
        "validator.state.xǁProjectǁlisting__mutmut_1",
        "`False` → `True`",
    ): "The only caller (app.py, the list) always passes `exclude_default`.",
    ("validator.state.xǁProjectǁcreate__mutmut_15", "`key` → `None`"): (
        "The key only spares the default itself (`default.key != key`); a create whose key is the default's "
        "was refused 409 as a duplicate just before, so `!= None` and `!= key` agree."
    ),
    ("validator.state.xǁProjectǁupdate__mutmut_14", "`key` → `None`"): (
        "Reached only when the policy PUT is not the default, so its key differs from the default's and the "
        "comparison is true either way."
    ),
    ("validator.state.xǁProjectǁreorder__mutmut_5", '`f"Duplicate policy key {key}"` → `None`'): (
        "Unreachable over HTTP: the order body's schema has `uniqueItems: true`, so the server answers a "
        "duplicate 400 in request validation, before `reorder`."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_1", "`[]` → `None`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_2",
        "`[policy for policy in self.policies if policy.is_default]` → `None`",
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_3", "`>` → `>=`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_4", "`1` → `2`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_5",
        '`f"{len(defaults)} default policies: {[p.key for p in defaul…` → `None`',
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_6",
        '`f"default policy {p.key} has rank {p.rank}, not 0" for p in…` → `None`',
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_7", "`!=` → `==`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_8", "`0` → `1`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_9",
        "`sorted(policy.rank for policy in self.scoped)` → `None`",
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_10",
        "`policy.rank for policy in self.scoped` → `None`",
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_11", "`!=` → `==`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_12", "`range(1, len(ranks) + 1)` → `None`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_13", "`1` → `None`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_14", "`len(ranks) + 1` → `None`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_15", "`1, len` → `len`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_16", "`len(ranks) + 1` → ``"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_17", "`1` → `2`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_18", "`+` → `-`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_19", "`1` → `2`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_20",
        '`f"scoped ranks are {ranks}, not 1..{len(ranks)}"` → `None`',
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_21",
        "`[policy.key for policy in self.policies]` → `None`",
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_22", "`!=` → `==`"): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.state.xǁProjectǁinvariant_violations__mutmut_23", '`"a key occurs twice"` → `None`'): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_24",
        '`"a key occurs twice"` → `"XXa key occurs twiceXX"`',
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    (
        "validator.state.xǁProjectǁinvariant_violations__mutmut_25",
        '`"a key occurs twice"` → `"A KEY OCCURS TWICE"`',
    ): (
        "Dead code in the server: nothing in validator/ calls `invariant_violations` (only tests do; the "
        "fuzzer at this commit does not either, although the method's docstring says the oracle checks "
        "every answer with it)."
    ),
    ("validator.server.store.xǁStoreǁ__init____mutmut_1", "`False` → `True`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_10", "`isolation_level=None` → ``"): (
        "The store opens and ends every write transaction itself (`BEGIN IMMEDIATE` ... `COMMIT`, `with "
        "connection` in `_migrate`), and sqlite3's default mode opens an implicit one only before a write "
        "outside a transaction, which never happens."
    ),
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_14",
        '`"PRAGMA journal_mode=WAL"` → `"pragma journal_mode=wal"`',
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_15",
        '`journal_mode=WAL"` → `JOURNAL_MODE=WAL"`',
    ): _CASE,
    ("validator.server.store.xǁStoreǁ__init____mutmut_17", "`durable` → `(durable) and False`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_18", "`durable` → `(durable) or True`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_19", "`'FULL'` → `'XXFULLXX'`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_20", "`'FULL'` → `'full'`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_21", "`'NORMAL'` → `'XXNORMALXX'`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_22", "`'NORMAL'` → `'normal'`"): _SYNC,
    ("validator.server.store.xǁStoreǁ__init____mutmut_25", '`"PRAGMA` → `"pragma`'): _CASE,
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_26",
        '`busy_timeout=5000"` → `BUSY_TIMEOUT=5000"`',
    ): _CASE,
    ("validator.server.store.xǁStoreǁ__init____mutmut_28", "`self._version()` → `None`"): (
        "The store drops its cache and reloads the projects from the database inside the transaction; the "
        "database holds exactly what the cache held, so only the time changes. (Once: the first commit sees "
        "a version other than None.)"
    ),
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_31",
        '`name="release-policy-store"` → `name=None`',
    ): _THREAD,
    ("validator.server.store.xǁStoreǁ__init____mutmut_32", "`daemon=True` → `daemon=None`"): _DAEMON,
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_34",
        '`name="release-policy-store", daemon=True` → `daemon=True`',
    ): _THREAD,
    ("validator.server.store.xǁStoreǁ__init____mutmut_35", "`daemon=True` → ``"): _DAEMON,
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_36",
        '`name="release-policy-store"` → `name="XXrelease-policy-storeXX"`',
    ): _THREAD,
    (
        "validator.server.store.xǁStoreǁ__init____mutmut_37",
        '`name="release-policy-store"` → `name="RELEASE-POLICY-STORE"`',
    ): _THREAD,
    ("validator.server.store.xǁStoreǁ__init____mutmut_38", "`daemon=True` → `daemon=False`"): _DAEMON,
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_5",
        '`"SELECT value FROM meta WHERE` → `"select value from meta where`',
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_13",
        '`"INSERT INTO meta VALUES` → `"insert into meta values`',
    ): _CASE,
    ("validator.server.store.xǁStoreǁclose__mutmut_1", "`timeout=30` → `timeout=None`"): (
        "How long `close` waits for the writer thread at shutdown; the thread ends as soon as the queue is "
        "drained."
    ),
    ("validator.server.store.xǁStoreǁclose__mutmut_2", "`timeout=30` → `timeout=31`"): (
        "How long `close` waits for the writer thread at shutdown (31 s, not 30); the thread ends as soon "
        "as the queue is drained."
    ),
    ("validator.server.store.xǁStoreǁ_version__mutmut_4", '`"PRAGMA` → `"pragma`'): _CASE,
    ("validator.server.store.xǁStoreǁ_version__mutmut_5", '`data_version"` → `DATA_VERSION"`'): _CASE,
    (
        "validator.server.store.xǁStoreǁ_load__mutmut_8",
        '`"SELECT id, key, rank, fields FROM policies WHERE` → `"select id, key, rank, fields from policies where`',  # noqa: E501
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ_load__mutmut_9",
        "`id, key, rank, fields FROM policies WHERE project` → `ID, KEY, RANK, FIELDS FROM POLICIES WHERE PROJECT`",  # noqa: E501
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ_run__mutmut_5",
        "`<` → `<=`",
    ): "A batch may hold 257 operations, not 256: only how many share one commit.",
    ("validator.server.store.xǁStoreǁ_run__mutmut_9", "`break` → `return`"): (
        "Only at shutdown: the operations queued with the stop mark are not committed, but uvicorn has "
        "finished every request before it closes the store."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_7", '`"BEGIN IMMEDIATE"` → `"begin immediate"`'): _CASE,
    ("validator.server.store.xǁStoreǁ_commit__mutmut_8", "`self._version()` → `None`"): (
        "The store drops its cache and reloads the projects from the database inside the transaction; the "
        "database holds exactly what the cache held, so only the time changes. (Once.)"
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_9", "`!=` → `==`"): (
        "The store drops its cache and reloads the projects from the database inside the transaction; the "
        "database holds exactly what the cache held, so only the time changes. (On every commit.)"
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_10", "`version` → `None`"): (
        "The store drops its cache and reloads the projects from the database inside the transaction; the "
        "database holds exactly what the cache held, so only the time changes. (On every other commit.)"
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_29", '`"COMMIT"` → `"commit"`'): _CASE,
    ("validator.server.store.xǁStoreǁ_commit__mutmut_32", '`"ROLLBACK"` → `"rollback"`'): _CASE,
    (
        "validator.server.store.xǁStoreǁ_write__mutmut_10",
        '`"DELETE FROM policies WHERE project = ? AND` → `"delete from policies where project = ? and`',
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ_write__mutmut_11",
        "`policies WHERE project = ? AND key` → `POLICIES WHERE PROJECT = ? AND KEY`",
    ): _CASE,
    ("validator.server.store.xǁStoreǁ_write__mutmut_12", "`key` → `None`"): (
        "Every policy of the project is written on every change (`old.get(None)` is never equal): the same "
        "rows, more writes."
    ),
    (
        "validator.server.store.xǁStoreǁ_write__mutmut_19",
        '`"INSERT INTO policies (project, key, id, rank, fields) VALU…` → `"insert into policies (project, key, id, rank, fields) valu…`',  # noqa: E501
    ): _CASE,
    (
        "validator.server.store.xǁStoreǁ_write__mutmut_20",
        "`policies (project, key, id, rank, fields` → `POLICIES (PROJECT, KEY, ID, RANK, FIELDS`",
    ): _CASE,
    ("validator.server.store.xǁStoreǁ_write__mutmut_22", "`ON CONFLICT` → `on conflict`"): _CASE,
    ("validator.server.store.xǁStoreǁ_write__mutmut_23", "`project, key` → `PROJECT, KEY`"): _CASE,
    ("validator.server.store.xǁStoreǁ_write__mutmut_25", "`DO UPDATE SET` → `do update set`"): _CASE,
    (
        "validator.server.store.xǁStoreǁ_write__mutmut_26",
        '`rank = excluded.rank, fields = excluded.fields"` → `RANK = EXCLUDED.RANK, FIELDS = EXCLUDED.FIELDS"`',  # noqa: E501
    ): _CASE,
}

#: Survivors that are not equivalent: (mutant name, change) -> what the fuzzer lacks to kill it.
GAPS: dict[tuple[str, str], str] = {
    ("validator.state.xǁProjectǁreorder__mutmut_9", "`==` → `!=`"): (
        "With a default policy every valid order is refused 400 ('Default policy key is not allowed'): POST "
        'a policy without scope, POST a scoped `a`, POST /order `["a"]`: 200 due, 400 given. The oracle '
        "sent valid orders (`oracle:order-applies` killed 16 other mutants) but, in 100 sequences, none in "
        "a project holding a default policy: its order step is the last of the 12 branches of its `one_of`, "
        "which Hypothesis draws least. It lacks orders drawn more often, or a probe that creates a default "
        "and a scoped policy and orders the scoped one. At 250 sequences `oracle:order-applies` kills it."
    ),
    ("validator.state.xǁProjectǁreorder__mutmut_22", "`rank=rank` → ``"): (
        'An order changes no rank: POST scoped `a`, POST scoped `b`, POST /order `["b", "a"]`: `b` rank 1 '
        "due, the mutant keeps `a` 1 and `b` 2. The oracle's valid orders are rare (the last of the 12 "
        "branches of its `one_of`) and drawn by `st.permutations`, which can draw the "
        "current order, which changes no rank. It lacks orders that move policies: a probe that orders "
        "two or more scoped policies reversed and reads the list back. At 250 sequences `oracle:ranks` "
        "kills it."
    ),
    ("validator.server.store.xǁStoreǁ__init____mutmut_2", "`path` → `None`"): (
        "Runs only at start-up on an existing database file: `self.path` appears only in the message that "
        "refuses a database file of a newer schema. The fuzzer talks to one server life and never restarts "
        "it; a restart of the server on the same file between two requests would show it "
        "(tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_2",
        '`self._connection.execute("SELECT value FROM meta WHERE name…` → `None`',
    ): (
        "Runs only at start-up on an existing database file: the schema version is inserted on every start, "
        "and on an existing file that breaks the primary key: the server cannot start. The fuzzer talks to "
        "one server life and never restarts it; a restart of the server on the same file between two "
        "requests would show it (tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_6",
        "`value FROM meta WHERE name = 'schema_version'\"` → `VALUE FROM META WHERE NAME = 'SCHEMA_VERSION'\"`",  # noqa: E501
    ): (
        "Runs only at start-up on an existing database file: the SELECT looks for 'SCHEMA_VERSION' (string "
        "values are case-sensitive), never finds the row, inserts it again and breaks the primary key: the "
        "server cannot start. The fuzzer talks to one server life and never restarts it; a restart of the "
        "server on the same file between two requests would show it (tests/server/test_durability.py "
        "restarts, the fuzzer cannot)."
    ),
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_14",
        "`meta VALUES ('schema_version'` → `META VALUES ('SCHEMA_VERSION'`",
    ): (
        "Runs only at start-up on an existing database file: the version is stored as 'SCHEMA_VERSION', "
        "which the SELECT never finds, so a database of a newer schema is opened, not refused. The fuzzer "
        "talks to one server life and never restarts it; a restart of the server on the same file between "
        "two requests would show it (tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    ("validator.server.store.xǁStoreǁ_migrate__mutmut_15", "`SCHEMA_VERSION` → `None`"): (
        "Runs only at start-up on an existing database file: the version is stored as 'None', and "
        "`int('None')` stops the next start. The fuzzer talks to one server life and never restarts it; a "
        "restart of the server on the same file between two requests would show it "
        "(tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    ("validator.server.store.xǁStoreǁ_migrate__mutmut_16", "`row[0]` → `None`"): (
        "Runs only at start-up on an existing database file: the version check raises TypeError. The fuzzer "
        "talks to one server life and never restarts it; a restart of the server on the same file between "
        "two requests would show it (tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    ("validator.server.store.xǁStoreǁ_migrate__mutmut_17", "`0` → `1`"): (
        "Runs only at start-up on an existing database file: the version check raises IndexError. The "
        "fuzzer talks to one server life and never restarts it; a restart of the server on the same file "
        "between two requests would show it (tests/server/test_durability.py restarts, the fuzzer cannot)."
    ),
    ("validator.server.store.xǁStoreǁ_migrate__mutmut_18", "`>` → `>=`"): (
        "Runs only at start-up on an existing database file: the server refuses a database of its own "
        "version. The fuzzer talks to one server life and never restarts it; a restart of the server on the "
        "same file between two requests would show it (tests/server/test_durability.py restarts, the fuzzer "
        "cannot)."
    ),
    (
        "validator.server.store.xǁStoreǁ_migrate__mutmut_19",
        '`f"{self.path} has schema version {row[0]}; this server know…` → `None`',
    ): (
        "Runs only at start-up on an existing database file: the refusal of a newer schema has no message. "
        "The fuzzer talks to one server life and never restarts it; a restart of the server on the same "
        "file between two requests would show it (tests/server/test_durability.py restarts, the fuzzer "
        "cannot)."
    ),
    ("validator.server.store.xǁStoreǁ_migrate__mutmut_20", "`0` → `1`"): (
        "Runs only at start-up on an existing database file: the refusal of a newer schema raises "
        "IndexError. The fuzzer talks to one server life and never restarts it; a restart of the server on "
        "the same file between two requests would show it (tests/server/test_durability.py restarts, the "
        "fuzzer cannot)."
    ),
    (
        "validator.server.store.xǁStoreǁ_version__mutmut_1",
        '`self._connection.execute("PRAGMA data_version").fetchone()[…` → `None`',
    ): (
        "`_version` answers None, so the store never notices another connection's commits and writes from a "
        "stale cache. Only a second server on the same database file shows it "
        "(tests/server/test_concurrency.py runs two); the fuzzer talks to one."
    ),
    ("validator.server.store.xǁStoreǁ_load__mutmut_13", "`i` → `None`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_14", "`k` → `None`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_15", "`r` → `None`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_16", "`json.loads(f)` → `None`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_17", "`i, k` → `k`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_18", "`k, r` → `r`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_19", "`r, json` → `json`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_20", "`json.loads(f)` → ``"): _LOAD,
    ("validator.server.store.xǁStoreǁ_load__mutmut_21", "`f` → `None`"): _LOAD,
    ("validator.server.store.xǁStoreǁ_run__mutmut_8", "`None` → `not None`"): (
        "Matters only when two or more operations share one commit (a batch): when a second operation is "
        "waiting, the writer puts its stop mark back in the queue and drops that operation: its request "
        "hangs, and so does every later one. Batches form when requests arrive while the writer commits; "
        "against an in-memory database commits take microseconds, and the concurrent-writes probe's 8 "
        "creates at once formed none here. More writers at once (32-64), or a server on a file with "
        "`--durable` (slower commits), would form batches."
    ),
    ("validator.server.store.xǁStoreǁ_run__mutmut_10", "`more` → `None`"): (
        "Matters only when two or more operations share one commit (a batch): the second job of a batch is "
        "replaced by None, which kills the writer thread, and every later request hangs. Batches form when "
        "requests arrive while the writer commits; against an in-memory database commits take microseconds, "
        "and the concurrent-writes probe's 8 creates at once formed none here. More writers at once "
        "(32-64), or a server on a file with `--durable` (slower commits), would form batches."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_13", "`job.project` → `None`"): (
        "Matters only when two or more operations share one commit (a batch): the second operation of a "
        "batch on the same project starts from the state before the first (`and` for `or`), so one of them "
        "is lost. Batches form when requests arrive while the writer commits; against an in-memory database "
        "commits take microseconds, and the concurrent-writes probe's 8 creates at once formed none here. "
        "More writers at once (32-64), or a server on a file with `--durable` (slower commits), would form "
        "batches."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_18", "`continue` → `break`"): (
        "Matters only when two or more operations share one commit (a batch): after a refused operation (a "
        "409) the rest of the batch gets no answer: those requests hang. Batches form when requests arrive "
        "while the writer commits; against an in-memory database commits take microseconds, and the "
        "concurrent-writes probe's 8 creates at once formed none here. More writers at once (32-64), or a "
        "server on a file with `--durable` (slower commits), would form batches."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_30", '`"ROLLBACK"` → `None`'): (
        "Runs only when SQLite fails inside a batch (a full disk, a locked or broken file): the ROLLBACK "
        "fails (None), so the error escapes the writer thread and every later request hangs. No request can "
        "make a healthy server's database fail; it needs fault injection, which the fuzzer does not do."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_31", '`"ROLLBACK"` → `"XXROLLBACKXX"`'): (
        "Runs only when SQLite fails inside a batch (a full disk, a locked or broken file): the ROLLBACK is "
        "a syntax error, so the error escapes the writer thread and every later request hangs. No request "
        "can make a healthy server's database fail; it needs fault injection, which the fuzzer does not do."
    ),
    (
        "validator.server.store.xǁStoreǁ_commit__mutmut_33",
        '`StoreError(f"database error: {error}")` → `None`',
    ): (
        "Runs only when SQLite fails inside a batch (a full disk, a locked or broken file): the requests of "
        "the failed batch get None for an exception. No request can make a healthy server's database fail; "
        "it needs fault injection, which the fuzzer does not do."
    ),
    ("validator.server.store.xǁStoreǁ_commit__mutmut_34", '`f"database error: {error}"` → `None`'): (
        "Runs only when SQLite fails inside a batch (a full disk, a locked or broken file): the error of "
        "the failed batch has no message. No request can make a healthy server's database fail; it needs "
        "fault injection, which the fuzzer does not do."
    ),
    ("validator.server.store.xǁStoreǁ_write__mutmut_1", "`after` → `not after`"): (
        "Writes never reach (or reach wrongly) the database, while the cache answers every request. (`is "
        "not`: no write at all.) A restart of the server on its file, then a GET of the policy, would show "
        "it; the fuzzer never restarts the server (tests/server/test_durability.py does)."
    ),
    ("validator.server.store.xǁStoreǁ_write__mutmut_13", "`!=` → `==`"): (
        "Writes never reach (or reach wrongly) the database, while the cache answers every request. (`==`: "
        "only unchanged policies are written.) A restart of the server on its file, then a GET of the "
        "policy, would show it; the fuzzer never restarts the server (tests/server/test_durability.py "
        "does)."
    ),
    ("validator.server.store.xǁStoreǁ_write__mutmut_27", "`policy.fields` → `None`"): (
        "Writes never reach (or reach wrongly) the database, while the cache answers every request. (The "
        "fields are stored as `null`.) A restart of the server on its file, then a GET of the policy, would "
        "show it; the fuzzer never restarts the server (tests/server/test_durability.py does)."
    ),
}


# --- the mutants --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's: validator.state.xǁProjectǁcreate__mutmut_3
    file: str
    function: str  # Project.create
    line: int
    change: str  # `old` → `new`, the differing part of the line

    @property
    def short(self) -> str:
        return f"{self.function} #{self.name.rpartition('_')[2]}"


def snapshot(tree: Path, ref: str | None) -> str:
    """Copy the package, as committed at ``ref`` or as in the work tree, to ``tree/original``; say which."""
    original = tree / "original"
    head = _git("rev-parse", "--short", ref or "HEAD")
    if ref is None:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        shutil.copytree(REPOSITORY / "validator", original / "validator", ignore=ignore)
        shutil.copytree(REPOSITORY / "spec", original / "spec")
        dirty = _git("status", "--porcelain", "--", "validator")
        return f"the work tree at {head}" + (" with uncommitted changes to validator/" if dirty else "")
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "validator", "spec"],  # noqa: S607 (a checkout reads spec/)
        cwd=REPOSITORY, capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(original, filter="data")
    return f"commit {head}"


def _git(*arguments: str) -> str:
    command = ["git", *arguments]  # git from PATH, as a user runs it
    answer = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True, check=True, timeout=60)
    return answer.stdout.strip()


def _script(tree: Path) -> Path:
    """The copy of this script the children run, so editing it during a run changes nothing.

    In a folder of its own: the folder of the script a child runs is first on its ``sys.path``.
    """
    script = tree / "bench" / "mutation.py"
    if not script.exists():
        script.parent.mkdir()
        shutil.copy(__file__, script)
    return script


def generate(tree: Path) -> list[Mutant]:
    """Have mutmut generate its mutants of the snapshot in ``tree/mutants``, and describe each."""
    shutil.copytree(tree / "original" / "validator", tree / "validator")
    shutil.copy(CONFIG, tree / "setup.cfg")
    listing = tree / "mutants.json"
    command = [sys.executable, str(_script(tree)), "--generate", str(listing)]
    with _group(command, cwd=tree, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        _, error = process.communicate(timeout=120)
        if process.returncode != 0:
            raise SystemExit(f"mutmut could not generate the mutants:\n{error}")
    # A checkout's package reads the spec from spec/ beside it: the mutants tree is such a checkout.
    shutil.copytree(tree / "original" / "spec", tree / "mutants" / "spec")
    return [Mutant(**entry) for entry in json.loads(listing.read_text(encoding="utf-8"))]


def _generate_here(listing: Path) -> None:
    """In a child whose working directory holds setup.cfg and validator/: mutmut's generation step.

    mutmut and libcst are imported by name, so the type check passes where the ``bench`` extra is
    not installed (CI installs ``all`` and ``test``): their objects are ``Any`` here.
    """
    cst = importlib.import_module("libcst")
    mutmut_main = importlib.import_module("mutmut.__main__")
    data_module = importlib.import_module("mutmut.mutation.data")
    diff_apply = importlib.import_module("mutmut.mutation.diff_apply")
    file_utils = importlib.import_module("mutmut.utils.file_utils")
    format_utils = importlib.import_module("mutmut.utils.format_utils")

    with contextlib.redirect_stdout(sys.stderr):  # as `mutmut run` starts: the package, then the mutants
        Path("mutants").mkdir()
        file_utils.copy_src_dir()
        mutmut_main.create_mutants(1)
    entries = []
    for path in MUTATED:
        data = data_module.SourceFileMutationData(path=path)
        data.load()
        source = Path(path).read_text(encoding="utf-8")
        module = cst.parse_module(source)
        for name in data.exit_code_by_key:
            functions = diff_apply.read_functions_from_index(name, path)
            if functions is None:
                raise SystemExit(f"mutmut wrote no line index for {name}")
            _, mutated = functions
            function, class_name = format_utils.orig_function_and_class_names_from_key(name)
            function = function.rpartition(".")[2]
            body = module.body
            if class_name is not None:  # mutmut's own lookup (diff_apply) ignores the class
                body = next(
                    s.body.body for s in body if isinstance(s, cst.ClassDef) and s.name.value == class_name
                )
            target = next(s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == function)
            changed = module.deep_replace(target, mutated.with_changes(leading_lines=target.leading_lines))
            line, change = _difference(source, changed.code)
            qualified = f"{class_name}.{function}" if class_name else function
            entries.append(
                {"name": name, "file": path, "function": qualified, "line": line, "change": change}
            )
    listing.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")


def _difference(before: str, after: str) -> tuple[int, str]:
    """The first changed line's number and the change, as `old` → `new` trimmed to what differs."""
    old_lines, new_lines = before.splitlines(), after.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    _, i1, i2, j1, j2 = next(op for op in matcher.get_opcodes() if op[0] != "equal")
    old = " ".join(line.strip() for line in old_lines[i1:i2])
    new = " ".join(line.strip() for line in new_lines[j1:j2])
    if not old:
        return i1 + 1, f"add `{new}`"
    if not new:
        return i1 + 1, f"remove `{old}`"
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    # widen to whole words and operators, so `x == 1` → `x != 1` reads `==` → `!=`, not `=` → `!`
    while start > 0 and _joins(old[start - 1]):
        start -= 1
    while end > 0 and _joins(old[len(old) - end]):
        end -= 1
    return i1 + 1, f"`{_clip(old[start : len(old) - end])}` → `{_clip(new[start : len(new) - end])}`"


def _joins(character: str) -> bool:
    return character.isalnum() or character in "_\"'=!<>+-*/%&|^~"


def _clip(text: str, most: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= most else text[: most - 1] + "…"


# --- processes ----------------------------------------------------------------------------------


@contextlib.contextmanager
def _group(command: Sequence[str], **options: Any) -> Iterator[subprocess.Popen[str]]:
    """A child in a process group of its own, killed with its group if still running at the end."""
    process = subprocess.Popen(command, start_new_session=True, text=True, **options)
    LIVE.add(process)
    try:
        yield process
    finally:
        _kill(process)


#: Every child still running, so a SIGTERM of the benchmark can stop them all at once.
LIVE: set[subprocess.Popen[str]] = set()


def _kill(process: subprocess.Popen[str]) -> None:
    LIVE.discard(process)
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _clean_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MUTANT_UNDER_TEST")}


class ServerDidNotStart(Exception):
    pass


@contextlib.contextmanager
def mutant_server(tree: Path, mutant: str) -> Iterator[str]:
    """The URL of the reference server running the mutants tree with ``mutant`` selected ("": none)."""
    environment = _clean_environment() | {"PYTHONPATH": str(tree / "mutants"), "MUTANT_UNDER_TEST": mutant}
    log = (
        tree
        / "logs"
        / f"server-{mutant.rpartition('.')[2] or mutant or 'control'}-{threading.get_ident()}.log"
    )
    log.parent.mkdir(exist_ok=True)
    command = [sys.executable, str(_script(tree)), "--serve", mutant]
    with log.open("w+", encoding="utf-8") as errors, _group(
        command, cwd=tree / "mutants", env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=errors,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        assert process.stdin is not None
        line = _read_line(process, START_TIMEOUT)
        if not line:
            errors.seek(0)
            raise ServerDidNotStart(_last_line(errors.read()) or "no output")
        proof = json.loads(line)
        for module in ("validator.state", "validator.server.store"):
            if not Path(proof[module]).is_relative_to(tree / "mutants"):
                raise SystemExit(f"the server imported {module} from {proof[module]}, not the mutants tree")
        try:
            yield str(proof["url"])
        finally:
            process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT)


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout):
            return ""
    return process.stdout.readline().strip()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def _serve_here(mutant: str) -> None:
    """In a child with the mutants tree on PYTHONPATH: prove where the code comes from, then serve."""
    import socket

    import uvicorn

    import validator.server.store
    import validator.state
    from validator.server import ServerConfig, Store, create_app

    if mutant not in ("", "fail"):
        module_name, _, function = mutant.rpartition(".")
        module = sys.modules[module_name]
        table = getattr(module, "mutants_" + function.partition("__mutmut_")[0] + "__mutmut", {})
        if function not in table:
            raise SystemExit(f"{module.__file__} has no mutant {function}")
    store = Store(":memory:")
    app = create_app(
        store, ServerConfig({WRITER: "writer", READER: "reader"}, frozenset(PROJECTS), body_timeout=1.0)
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", timeout_keep_alive=5)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("uvicorn did not start")
        time.sleep(0.01)
    proof = {
        "url": f"http://127.0.0.1:{port}",
        "validator.state": validator.state.__file__,
        "validator.server.store": validator.server.store.__file__,
    }
    print(json.dumps(proof), flush=True)
    with selectors.DefaultSelector() as selector:  # until the parent closes our stdin, or the lifetime ends
        selector.register(sys.stdin, selectors.EVENT_READ)
        selector.select(SERVER_LIFETIME)
    server.should_exit = True
    thread.join(timeout=STOP_TIMEOUT)
    store.close()


@dataclass
class Outcome:
    status: str  # killed, survived, timeout
    checks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    detail: str = ""


class FuzzWorker:
    """The fuzzer on the snapshot of the original package, in a process of its own that runs one mutant
    after another (one URL a line in, one JSON result a line out).

    A fresh process for each mutant would draw the oracle's body pool again each time: about 6 s of
    Schemathesis generation, a pure function of the seed. The worker draws it once and reuses it
    (``generate_bodies`` memoized); every other part of ``fuzz()`` runs anew for each mutant. A run
    that overstays ``FUZZ_TIMEOUT`` kills the worker's process group; the next mutant starts another.
    """

    def __init__(self, tree: Path, seed: int, sequences: int) -> None:
        self.tree, self.seed, self.sequences = tree, seed, sequences
        self.process: subprocess.Popen[str] | None = None
        self.log = tree / "logs" / f"fuzzer-{threading.get_ident()}.log"
        self.log.parent.mkdir(exist_ok=True)

    def _start(self) -> subprocess.Popen[str]:
        command = [
            sys.executable, str(_script(self.tree)), "--fuzz-worker", "--seed", str(self.seed),
            "--sequences", str(self.sequences),
        ]  # fmt: skip
        with self.log.open("a", encoding="utf-8") as errors:
            environment = _clean_environment() | {"PYTHONPATH": str(self.tree / "original")}
            process = subprocess.Popen(
                command, cwd=self.tree, env=environment, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=errors, text=True, start_new_session=True,
            )  # fmt: skip
        LIVE.add(process)
        return process

    def run(self, url: str) -> Outcome:
        if self.process is None or self.process.poll() is not None:
            self.process = self._start()
        assert self.process.stdin is not None
        started = time.monotonic()
        self.process.stdin.write(url + "\n")
        self.process.stdin.flush()
        line = _read_line(self.process, FUZZ_TIMEOUT)
        seconds = time.monotonic() - started
        if not line:
            overstayed = self.process.poll() is None
            self.close()
            if overstayed:
                return Outcome("timeout", seconds=seconds, detail=f"over {FUZZ_TIMEOUT:.0f} s")
            return Outcome("error", seconds=seconds, detail=_last_line(self.log.read_text(encoding="utf-8")))
        report = json.loads(line)
        if "crash" in report:
            return Outcome("crash", seconds=seconds, detail=report["crash"])
        if "target_error" in report:
            return Outcome("killed", ["preflight"], seconds, report["target_error"])
        checks = sorted({violation["check"] for violation in report["violations"]})
        return Outcome("killed" if checks else "survived", checks, seconds, "; ".join(report["errors"]))

    def close(self) -> None:
        if self.process is not None:
            if self.process.stdin is not None:
                with contextlib.suppress(OSError):
                    self.process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=STOP_TIMEOUT)
            _kill(self.process)
            self.process = None


def _fuzz_worker_here(seed: int, sequences: int) -> None:
    """In a child on the snapshot of the original package: one fuzz run for each URL read."""
    import functools
    import traceback

    import validator.fuzz.body_pool
    import validator.fuzz.oracle
    import validator.state
    from validator.fuzz.run import FuzzOptions, TargetError, fuzz
    from validator.fuzz.target import Target

    if not Path(validator.state.__file__).is_relative_to(Path(os.environ["PYTHONPATH"])):
        raise SystemExit(f"the fuzzer imported {validator.state.__file__}, not the snapshot")
    # the body pool is a pure function of (seed, size): draw it once per worker, not once per mutant
    if getattr(validator.fuzz.oracle, "generate_bodies", None) is validator.fuzz.body_pool.generate_bodies:
        validator.fuzz.oracle.generate_bodies = functools.cache(validator.fuzz.body_pool.generate_bodies)  # type: ignore[attr-defined]
    options = FuzzOptions(
        seed=seed, max_time=600, oracle_sequences=sequences, phase_examples=5, fixed_work=True
    )
    for line in sys.stdin:
        report: dict[str, Any]
        try:
            result = fuzz(Target(line.strip(), WRITER, PROJECTS, READER), options)
        except TargetError as error:
            report = {"target_error": str(error)}
        except Exception as error:  # noqa: BLE001 - the fuzzer itself failed: reported as a crash
            traceback.print_exc()  # into the worker's log
            frames = traceback.extract_tb(error.__traceback__)
            where = next((f for f in reversed(frames) if "/validator/" in f.filename), frames[-1])
            crash = f"{type(error).__name__}: {error} ({Path(where.filename).name}:{where.lineno})"
            report = {"crash": crash}
        else:
            violations = [{"check": v.check, "rule": v.rule, "message": v.message} for v in result.violations]
            report = {"violations": violations, "errors": list(result.errors), "stats": dict(result.stats)}
        print(json.dumps(report), flush=True)


_workers = threading.local()


def run_mutant(tree: Path, mutant: str, seed: int, sequences: int) -> Outcome:
    """The fuzzer (this thread's worker) against a server of its own running ``mutant``."""
    worker: FuzzWorker | None = getattr(_workers, "worker", None)
    if worker is None:
        worker = _workers.worker = FuzzWorker(tree, seed, sequences)
        ALL_WORKERS.append(worker)
    started = time.monotonic()
    try:
        with mutant_server(tree, mutant) as url:
            return worker.run(url)
    except ServerDidNotStart as error:
        return Outcome("killed", ["server does not start"], time.monotonic() - started, str(error))


ALL_WORKERS: list[FuzzWorker] = []


# --- the harness proves itself ------------------------------------------------------------------


def _create(url: str) -> tuple[int, dict[str, Any]]:
    body = json.dumps({"key": "probe", "name": "Probe", "releaseMethod": "guarded-release", "scope": None})
    request = urllib.request.Request(  # noqa: S310 - always http://127.0.0.1 from our own server
        url + BASE.format(project="default"),
        data=body.encode(),
        method="POST",
        headers={"Authorization": WRITER, "LD-API-Version": "beta", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, {}


#: A mutant certain to change an answer: the create's answer names its id "XX_idXX", not "_id".
WITNESS = ("Policy.to_json", '`"_id"` → `"XX_idXX"`')


def verify_harness(tree: Path, mutants: Sequence[Mutant]) -> None:
    """Prove that the servers run the mutants tree, and that selecting a mutant changes what they answer."""
    with mutant_server(tree, "") as url:
        status, answer = _create(url)
        if status != 201 or "_id" not in answer:
            raise SystemExit(f"the unmutated tree answered a create {status} {answer}, expected 201 with _id")
    try:
        with mutant_server(tree, "fail"):
            raise SystemExit("with MUTANT_UNDER_TEST=fail the server started: it runs no trampoline")
    except ServerDidNotStart as error:  # Store.__init__'s trampoline raised, as every trampoline does then
        if "MutmutProgrammaticFailException" not in str(error):
            raise SystemExit(f"with MUTANT_UNDER_TEST=fail the server failed otherwise: {error}") from error
    witness = next((m for m in mutants if (m.function, m.change) == WITNESS), None)
    if witness is None:
        raise SystemExit(f"mutmut no longer makes the witness mutant {WITNESS}; choose another")
    with mutant_server(tree, witness.name) as url:
        status, answer = _create(url)
        if status != 201 or "_id" in answer or "XX_idXX" not in answer:
            raise SystemExit(f"the witness mutant {witness.name} answered a create {status} {answer}")


# --- the report ---------------------------------------------------------------------------------


def _verdict(mutant: Mutant, outcome: Outcome) -> str:
    if outcome.status == "survived" and (mutant.name, mutant.change) in EQUIVALENT:
        return "equivalent"
    return outcome.status


def table(results: Sequence[tuple[Mutant, Outcome]], header: str, seconds: float) -> str:
    lines = [header, ""]
    lines += [
        "| # | file:line | function | change | result | killed by | s |",
        "|--:|---|---|---|---|---|--:|",
    ]
    for number, (mutant, outcome) in enumerate(results, start=1):
        verdict = _verdict(mutant, outcome)
        killers = ", ".join(f"`{check}`" for check in outcome.checks) or (
            outcome.detail and outcome.detail[:80]
        )
        change = mutant.change.replace("|", "\\|")
        lines.append(
            f"| {number} | {mutant.file}:{mutant.line} | `{mutant.short}` | {change} | {verdict} | {killers}"
            f" | {outcome.seconds:.0f} |"
        )
    verdicts = [_verdict(mutant, outcome) for mutant, outcome in results]
    count = {verdict: verdicts.count(verdict) for verdict in ("killed", "survived", "equivalent")}
    others = {v: verdicts.count(v) for v in sorted(set(verdicts) - set(count))}
    scored = len(verdicts) - count["equivalent"]
    score = f"{100 * count['killed'] / scored:.1f}%" if scored else "-"
    lines += [
        "",
        f"**Score: {count['killed']} killed, {count['survived']} survived, {count['equivalent']} equivalent"
        + "".join(f", {n} {verdict}" for verdict, n in others.items())
        + f" of {len(verdicts)} mutants: {score} killed of the non-equivalent; {seconds / 60:.0f} min.**",
    ]
    if others:
        lines += [
            "",
            "A crash is a run in which the fuzzer raised instead of reporting (the CLI's exit 3); a"
            " timeout, one killed after " + f"{FUZZ_TIMEOUT:.0f} s. Neither counts as killed.",
        ]
    explained = [
        (mutant, EQUIVALENT.get((mutant.name, mutant.change)) or GAPS.get((mutant.name, mutant.change), ""))
        for mutant, outcome in results
        if outcome.status == "survived"
    ]
    if explained:
        lines += ["", "| survivor | change | equivalent? | why |", "|---|---|---|---|"]
        for mutant, why in explained:
            kind = "yes" if (mutant.name, mutant.change) in EQUIVALENT else "no"
            change = mutant.change.replace("|", "\\|")
            lines.append(f"| `{mutant.short}` | {change} | {kind} | {why or '?'} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--sequences", type=int, default=100, help="the oracle's sequences per run")
    parser.add_argument("--only", action="append", default=[], help="fnmatch pattern on the mutant name")
    parser.add_argument("--jobs", type=int, default=2, help="mutants run at once")
    parser.add_argument("--ref", help="measure the package as committed at REF (default: the work tree)")
    parser.add_argument("--out", type=Path, help=f"also write the table here (default, full run: {RESULTS})")
    parser.add_argument("--journal", type=Path, help="append each mutant's result to this JSON-lines file")
    parser.add_argument("--render", type=Path, help="print the table of a journal instead of running")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--fuzz-worker", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.generate is not None:
        _generate_here(options.generate)
        return 0
    if options.serve is not None:
        _serve_here(options.serve)
        return 0
    if options.fuzz_worker:
        _fuzz_worker_here(options.seed, options.sequences)
        return 0

    if options.render is not None:
        header, results, seconds = render(options.render)
    else:
        signal.signal(signal.SIGTERM, _stop)  # so the servers and workers are stopped on the way out
        started = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="rpv-mutation-") as directory:
            try:
                header, results = _benchmark(Path(directory), options)
            finally:
                for worker in ALL_WORKERS:
                    worker.close()
        seconds = time.monotonic() - started
    text = table(results, header, seconds)
    print(text, end="")
    out = options.out or (None if options.only else RESULTS)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# Mutation testing of the fuzzer: results\n\n" + text, encoding="utf-8")
    return 0


def _benchmark(tree: Path, options: argparse.Namespace) -> tuple[str, list[tuple[Mutant, Outcome]]]:
    started = time.monotonic()
    source = snapshot(tree, options.ref)
    mutants = generate(tree)
    chosen = [m for m in mutants if not options.only or any(fnmatch.fnmatch(m.name, p) for p in options.only)]
    chosen.sort(key=lambda m: (MUTATED.index(m.file), m.line, m.name))
    say(f"{len(chosen)} of {len(mutants)} mutants; checking the harness")
    verify_harness(tree, mutants)
    control = run_mutant(tree, "", options.seed, options.sequences)
    if control.status != "survived":
        raise SystemExit(
            f"the control run (no mutant) was {control.status}: {control.checks} {control.detail}"
        )
    say(f"harness checked; control run (no mutant): nothing found in {control.seconds:.0f} s")
    header = (
        f"{source}; seed {options.seed}, oracle_sequences {options.sequences}, phase_examples 5, fixed_work, "
        f"{options.jobs} at once; mutmut {_version('mutmut')}; the control run (no mutant) found nothing "
        f"in {control.seconds:.0f} s"
    )
    journal = options.journal.open("a", encoding="utf-8") if options.journal else None
    lock = threading.Lock()
    results: list[tuple[Mutant, Outcome]] = []

    def one(mutant: Mutant) -> None:
        outcome = run_mutant(tree, mutant.name, options.seed, options.sequences)
        with lock:
            results.append((mutant, outcome))
            say(
                f"[{len(results)}/{len(chosen)}] {mutant.file}:{mutant.line} {mutant.short}: {outcome.status}"
                f" {','.join(outcome.checks) or outcome.detail} ({outcome.seconds:.0f} s)"
            )
            if journal is not None:
                entry = {"mutant": asdict(mutant), "outcome": asdict(outcome), "header": header,
                         "elapsed": time.monotonic() - started}  # fmt: skip
                journal.write(json.dumps(entry, ensure_ascii=False) + "\n")
                journal.flush()

    try:
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            list(pool.map(one, chosen))
    finally:
        if journal is not None:
            journal.close()
    order = {mutant.name: number for number, mutant in enumerate(chosen)}
    return header, sorted(results, key=lambda result: order[result[0].name])


def render(journal: Path) -> tuple[str, list[tuple[Mutant, Outcome]], float]:
    """The header, results and seconds of a run from its journal (a run stopped early: those it did)."""
    entries = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines() if line]
    if not entries:
        raise SystemExit(f"{journal} holds no result")
    results = [(Mutant(**entry["mutant"]), Outcome(**entry["outcome"])) for entry in entries]
    results.sort(key=lambda r: (MUTATED.index(r[0].file), r[0].line, int(r[0].name.rpartition("_")[2])))
    return str(entries[-1]["header"]), results, max(float(entry["elapsed"]) for entry in entries)


def _stop(signum: int, frame: Any) -> None:
    for process in list(LIVE):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit(128 + signum)


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
