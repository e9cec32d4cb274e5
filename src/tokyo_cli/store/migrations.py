"""The history schema: sqlite-utils ``Migrations("tokyo")``, append-only and named.

Rules: a migration that has shipped is never edited or renamed; a schema change is a new
function ``mNNN_what`` registered after the last one. Each migration spells out its own
column dicts (it never imports them from elsewhere), so a fresh database and an upgraded one
end with the same schema. sqlite-utils records each applied name in ``_sqlite_migrations``
(``migration_set = "tokyo"``) in the same transaction as the migration. ``store.db.open_db``
decides *when* to apply them (under a file lock, so concurrent first opens do not race).

Tables created by ``m001_initial`` (every child row cascades on ``DELETE FROM runs``)::

    runs       one row per run: target, workflow, status, timestamps (ISO 8601 text),
               totals (tokens, USD, seconds), merged-finding counts per severity
    steps      one row per workflow step; list fields (credential_env, files, analyzers) as JSON
    llm_calls  one row per provider call, linked to its run and its step row
    findings   scope 'run' = the run's merged list (step_row_id NULL);
               scope 'step' = one step's raw findings (step_row_id set); agents as JSON
    files      every changed file: status, line counts, skipped reason (NULL = reviewed)

Row order inside a run is insertion order (``ORDER BY id``), which ``history.save_run``
makes equal to list order. Run ids are ``AUTOINCREMENT`` (``m005_run_ids``): an id is never
given to a second run, even after ``tokyo history prune`` deleted the newest runs.

The schema version of a database is the number of these migrations applied to it;
``store.db`` refuses a database with a migration not listed here (a newer tokyo's).
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations
from sqlite_utils.db import ForeignKey, Table

MIGRATIONS = Migrations("tokyo")
"""The one migration set of the history database, in application order."""


def migration_names(migrations: Migrations = MIGRATIONS) -> list[str]:
    """The names of ``migrations``, in application order (its length is the schema version)."""
    return [m.name for m in migrations._migrations]  # sqlite-utils keeps no public list


def _table(db: Database, name: str) -> Table:
    table = db[name]
    assert isinstance(table, Table)
    return table


def _cascade(table: str, column: str, other: str) -> ForeignKey:
    return ForeignKey(table, column, other, "id", on_delete="CASCADE")


@MIGRATIONS(name="m001_initial")
def m001_initial(db: Database) -> None:
    """runs, steps, llm_calls, findings, files and their indexes."""
    _table(db, "runs").create(
        {
            "id": int,
            "repo": str,
            "target": str,
            "target_description": str,
            "target_chosen_by_default": int,
            "base_sha": str,
            "head_sha": str,
            "workflow": str,
            "workflow_hash": str,
            "fail_on": str,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "seconds": float,
            "tokens_in": int,
            "tokens_out": int,
            "cost_usd": float,
            "findings_critical": int,
            "findings_high": int,
            "findings_medium": int,
            "findings_low": int,
            "findings_info": int,
            "summary": str,
            "error": str,
            "offline": int,
        },
        pk="id",
        not_null=["repo", "target", "workflow", "status", "started_at"],
    )
    _table(db, "steps").create(
        {
            "id": int,
            "run_id": int,
            "step_id": str,
            "agent": str,
            "agent_name": str,
            "task": str,
            "status": str,
            "model": str,
            "configured_model": str,
            "credential_env": str,
            "files": str,
            "dropped_findings": int,
            "analyzers": str,
            "summary": str,
            "error": str,
            "seconds": float,
        },
        pk="id",
        foreign_keys=[_cascade("steps", "run_id", "runs")],
        not_null=["run_id", "step_id", "agent", "status"],
    )
    _table(db, "llm_calls").create(
        {
            "id": int,
            "run_id": int,
            "step_row_id": int,
            "step_id": str,
            "agent": str,
            "model": str,
            "provider": str,
            "tokens_in": int,
            "tokens_out": int,
            "cost_usd": float,
            "latency_s": float,
            "attempts": int,
            "status": str,
            "error": str,
            "cache_hit": int,
        },
        pk="id",
        foreign_keys=[
            _cascade("llm_calls", "run_id", "runs"),
            _cascade("llm_calls", "step_row_id", "steps"),
        ],
        not_null=["run_id", "model"],
    )
    _table(db, "findings").create(
        {
            "id": int,
            "run_id": int,
            "scope": str,
            "step_row_id": int,
            "fingerprint": str,
            "path": str,
            "line": int,
            "end_line": int,
            "severity": str,
            "category": str,
            "title": str,
            "body": str,
            "suggestion": str,
            "confidence": float,
            "agent": str,
            "agents": str,
            "step": str,
            "source": str,
            "rule": str,
            "anchor_text": str,
            "status": str,
        },
        pk="id",
        foreign_keys=[
            _cascade("findings", "run_id", "runs"),
            _cascade("findings", "step_row_id", "steps"),
        ],
        not_null=["run_id", "scope", "path", "severity", "title", "agent"],
    )
    _table(db, "files").create(
        {
            "id": int,
            "run_id": int,
            "path": str,
            "status": str,
            "old_path": str,
            "added": int,
            "removed": int,
            "skipped": str,
        },
        pk="id",
        foreign_keys=[_cascade("files", "run_id", "runs")],
        not_null=["run_id", "path", "status"],
    )
    runs = _table(db, "runs")
    for column in ("started_at", "repo", "workflow", "status"):
        runs.create_index([column], index_name=f"idx_runs_{column}")
    _table(db, "steps").create_index(["run_id"], index_name="idx_steps_run_id")
    calls = _table(db, "llm_calls")
    calls.create_index(["run_id"], index_name="idx_llm_calls_run_id")
    calls.create_index(["step_row_id"], index_name="idx_llm_calls_step_row_id")
    findings = _table(db, "findings")
    findings.create_index(["run_id"], index_name="idx_findings_run_id")
    findings.create_index(["fingerprint"], index_name="idx_findings_fingerprint")
    findings.create_index(["step_row_id"], index_name="idx_findings_step_row_id")
    _table(db, "files").create_index(["run_id"], index_name="idx_files_run_id")


@MIGRATIONS(name="m004_cache")
def m004_cache(db: Database) -> None:
    """The response cache, per-file coverage, per-step unreviewed files, branch and notices.

    cache       key (sha256 of model + messages + output-shaping params) -> the usable reply
                as JSON; created_at ISO 8601 text
    runs        + branch (for ``--since-last``), + notices (JSON list of one-line facts)
    steps       + not_reviewed (JSON object path -> reason: budget, provider failure, ...)
    files       + reviewed_by (JSON list of agent ids that reviewed the file in full)
    """
    _table(db, "cache").create(
        {"key": str, "model": str, "reply": str, "created_at": str},
        pk="key",
        not_null=["key", "reply"],
    )
    _table(db, "runs").add_column("branch", str)
    _table(db, "runs").add_column("notices", str, not_null_default="[]")
    _table(db, "steps").add_column("not_reviewed", str, not_null_default="{}")
    _table(db, "files").add_column("reviewed_by", str, not_null_default="[]")
    _table(db, "runs").create_index(["repo", "branch"], index_name="idx_runs_repo_branch")


@MIGRATIONS(name="m003_evidence")
def m003_evidence(db: Database) -> None:
    """Provenance of analyzer findings a model reviewed as evidence.

    findings   + corroborated (0/1: a model confirmed or refined the analyzer finding)
               + dismissed_reason (the model's reason when it dismissed one; the finding's
                 status is then "dismissed", kept in the step's findings only)
    """
    _table(db, "findings").add_column("corroborated", int, not_null_default=0)
    _table(db, "findings").add_column("dismissed_reason", str)


@MIGRATIONS(name="m002_ledger")
def m002_ledger(db: Database) -> None:
    """The findings ledger: one row per fingerprint, with a person's decision about it.

    runs           + suppressed (merged findings left out of the run because the ledger
                   had them dismissed)
    ledger         fingerprint (pk), status open | accepted | dismissed, reason, decided_by,
                   decided_at; the finding as last seen (repo, path, line, rule, agent,
                   severity, category, title); first/last seen (ISO 8601 text and run id,
                   plain integers: pruning runs keeps the ledger) and ``seen`` (runs that
                   reported it)
    ledger_events  every decision ever made (action dismiss | accept | reopen, reason, who,
                   at), oldest first

    Existing merged findings are copied into the ledger as ``open``.
    """
    _table(db, "runs").add_column("suppressed", int, not_null_default=0)
    _table(db, "ledger").create(
        {
            "fingerprint": str,
            "status": str,
            "reason": str,
            "decided_by": str,
            "decided_at": str,
            "repo": str,
            "path": str,
            "line": int,
            "rule": str,
            "agent": str,
            "severity": str,
            "category": str,
            "title": str,
            "first_seen_at": str,
            "last_seen_at": str,
            "first_run_id": int,
            "last_run_id": int,
            "seen": int,
        },
        pk="fingerprint",
        not_null=["status", "seen"],
        defaults={"status": "open", "seen": 0},
    )
    _table(db, "ledger_events").create(
        {"id": int, "fingerprint": str, "action": str, "reason": str, "who": str, "at": str},
        pk="id",
        foreign_keys=[ForeignKey("ledger_events", "fingerprint", "ledger", "fingerprint", on_delete="CASCADE")],
        not_null=["fingerprint", "action", "at"],
    )
    _table(db, "ledger").create_index(["status", "last_seen_at"], index_name="idx_ledger_status_last_seen")
    _table(db, "ledger_events").create_index(["fingerprint"], index_name="idx_ledger_events_fingerprint")
    db.execute(
        """
        INSERT INTO ledger (fingerprint, status, repo, path, line, rule, agent, severity,
                            category, title, first_seen_at, last_seen_at, first_run_id,
                            last_run_id, seen)
        SELECT g.fingerprint, 'open', lr.repo, f.path, f.line, f.rule, f.agent, f.severity,
               f.category, f.title, fr.started_at, lr.started_at, g.first_run, g.last_run, g.seen
        FROM (SELECT fingerprint, MIN(run_id) AS first_run, MAX(run_id) AS last_run,
                     COUNT(DISTINCT run_id) AS seen, MAX(id) AS last_id
              FROM findings WHERE scope = 'run' AND fingerprint IS NOT NULL AND fingerprint != ''
              GROUP BY fingerprint) AS g
        JOIN findings AS f ON f.id = g.last_id
        JOIN runs AS fr ON fr.id = g.first_run
        JOIN runs AS lr ON lr.id = g.last_run
        """
    )


@MIGRATIONS(name="m002b_findings_search")
def m002b_findings_search(db: Database) -> None:
    """Full-text search over findings: FTS5 table ``findings_fts`` (title, body, Porter
    stemming) over ``findings`` as external content, kept current by triggers, so
    ``sqlite-utils search history.db findings 'injection'`` and Datasette search work."""
    _table(db, "findings").enable_fts(["title", "body"], create_triggers=True, tokenize="porter")


@MIGRATIONS(name="m002c_query_indexes")
def m002c_query_indexes(db: Database) -> None:
    """Indexes for ``tokyo history`` and ``tokyo stats`` (checked with EXPLAIN QUERY PLAN).

    runs       (repo|workflow|status, started_at): a filtered listing reads the newest rows
               straight from the index; they replace m001's single-column ones
    llm_calls  (agent|model, latency_s, ...): stats per agent or model read one covering
               index, and latency percentiles are ``ORDER BY latency_s LIMIT 1 OFFSET k``
    steps      (agent, run_id): runs per agent;  findings (scope, agent, severity)
    """
    runs = _table(db, "runs")
    for column in ("repo", "workflow", "status"):
        db.execute(f"DROP INDEX IF EXISTS idx_runs_{column}")
        runs.create_index([column, "started_at"], index_name=f"idx_runs_{column}_started_at")
    calls = _table(db, "llm_calls")
    for column in ("agent", "model"):
        calls.create_index(
            [column, "latency_s", "run_id", "tokens_in", "tokens_out", "cost_usd", "cache_hit", "status"],
            index_name=f"idx_llm_calls_{column}_stats",
        )
    _table(db, "steps").create_index(["agent", "run_id"], index_name="idx_steps_agent_run_id")
    _table(db, "findings").create_index(["scope", "agent", "severity"], index_name="idx_findings_scope_agent")


@MIGRATIONS(name="m002d_stats_indexes")
def m002d_stats_indexes(db: Database) -> None:
    """What ``tokyo stats`` per day, per repository and overall reads without joins.

    runs       + calls, failed_calls, cache_hits (derived from the run's llm_calls, like
               tokens_in; backfilled here)
    findings   (scope, agent, severity, step_row_id) replaces m002c's (scope, agent,
               severity): findings per model join steps from a covering index
    llm_calls  (latency_s): overall latency percentiles; (run_id, latency_s) replaces m001's
               (run_id): percentiles per day or repository read latencies from the index
    """
    runs = _table(db, "runs")
    for column in ("calls", "failed_calls", "cache_hits"):
        runs.add_column(column, int, not_null_default=0)
    # Correlated subqueries, not UPDATE ... FROM: that needs SQLite 3.33, older than some
    # system libraries Python links against.
    db.execute(
        """UPDATE runs SET
               calls = (SELECT COUNT(*) FROM llm_calls AS c WHERE c.run_id = runs.id),
               failed_calls = (SELECT COUNT(*) FROM llm_calls AS c WHERE c.run_id = runs.id AND c.status != 'ok'),
               cache_hits = (SELECT COUNT(*) FROM llm_calls AS c WHERE c.run_id = runs.id AND c.cache_hit)
           WHERE id IN (SELECT run_id FROM llm_calls)"""
    )
    db.execute("DROP INDEX IF EXISTS idx_findings_scope_agent")
    _table(db, "findings").create_index(
        ["scope", "agent", "severity", "step_row_id"], index_name="idx_findings_scope_agent_step"
    )
    calls = _table(db, "llm_calls")
    calls.create_index(["latency_s"], index_name="idx_llm_calls_latency")
    db.execute("DROP INDEX IF EXISTS idx_llm_calls_run_id")
    calls.create_index(["run_id", "latency_s"], index_name="idx_llm_calls_run_id_latency")


@MIGRATIONS(name="m005_run_ids", transactional=False)
def m005_run_ids(db: Database) -> None:
    """runs.id becomes ``INTEGER PRIMARY KEY AUTOINCREMENT``: the id of a deleted run is never
    reused, so an old ``tokyo show 42`` shows run 42 or nothing, never a newer run.

    SQLite cannot change a primary key in place, so ``runs`` is rebuilt (SQLite's "generalized
    ALTER TABLE procedure"): same columns and rows, its indexes recreated. Foreign keys are off
    meanwhile — dropping the old table would otherwise cascade into steps, findings, calls and
    files — and checked before the commit. Not in sqlite-utils' transaction, because
    ``PRAGMA foreign_keys`` is ignored inside one: the rebuild is its own transaction, and a
    rebuild already done (a crash before its record was written) is not done twice.
    """
    current = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'runs'").fetchone()[0]
    if "AUTOINCREMENT" in current.upper():
        return
    pk = '"id" INTEGER PRIMARY KEY,'
    if current.count(pk) != 1:
        raise RuntimeError(f"m005_run_ids: unexpected runs table: {current[:200]}")
    rebuilt = current.replace('CREATE TABLE "runs"', 'CREATE TABLE "runs_m005"', 1).replace(
        pk, '"id" INTEGER PRIMARY KEY AUTOINCREMENT,', 1
    )
    indexes = [
        row[0]
        for row in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'runs' AND sql IS NOT NULL"
        )
    ]
    columns = ", ".join(f'"{c.name}"' for c in _table(db, "runs").columns)
    enforced = db.execute("PRAGMA foreign_keys").fetchone()[0]
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            db.conn.execute(rebuilt)
            db.conn.execute(f'INSERT INTO "runs_m005" ({columns}) SELECT {columns} FROM "runs"')
            db.conn.execute('DROP TABLE "runs"')
            db.conn.execute('ALTER TABLE "runs_m005" RENAME TO "runs"')
            for sql in indexes:
                db.conn.execute(sql)
            broken = db.conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"m005_run_ids: {len(broken)} rows lost their run, e.g. {broken[0]}")
            db.conn.execute("COMMIT")
        except BaseException:
            db.conn.execute("ROLLBACK")
            raise
    finally:
        db.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")


@MIGRATIONS(name="m006_finding_members")
def m006_finding_members(db: Database) -> None:
    """findings gains ``members``: for a grouped finding (tokyo_cli.engine.grouping), a JSON list of
    the findings it stands for (fingerprint, path, line, title, severity); ``[]`` otherwise.
    The ledger dismisses a group's members when the group is dismissed."""
    _table(db, "findings").add_column("members", str, not_null_default="[]")


@MIGRATIONS(name="m007_finding_cwe")
def m007_finding_cwe(db: Database) -> None:
    """findings gains ``cwe``: a JSON list of the finding's CWE ids (``[89]`` for CWE-89),
    from the analyzer's mapping or the model's reply; ``[]`` when none is known."""
    _table(db, "findings").add_column("cwe", str, not_null_default="[]")


@MIGRATIONS(name="m008_finding_file_line")
def m008_finding_file_line(db: Database) -> None:
    """findings gains ``file_line``: for a finding off the changed lines (``line`` NULL), the
    line the reviewer named, kept for SARIF; NULL otherwise."""
    _table(db, "findings").add_column("file_line", int)


@MIGRATIONS(name="m009_verification")
def m009_verification(db: Database) -> None:
    """Cross-examination by verify steps (tokyo_cli.engine.tasks.verify).

    findings   + verification (NULL, verified, corrected, rejected or unverified),
               + verification_reason (the verifier's reason), + verified_by (its agent id);
               a rejected finding is stored with scope 'run' and verification 'rejected'
               (out of the run's counts, kept and shown separately)
    runs       + block_on (all, verified or corroborated: which findings fail_on counted)
    """
    findings = _table(db, "findings")
    findings.add_column("verification", str)
    findings.add_column("verification_reason", str)
    findings.add_column("verified_by", str)
    _table(db, "runs").add_column("block_on", str, not_null_default="all")


@MIGRATIONS(name="m010_walkthrough")
def m010_walkthrough(db: Database) -> None:
    """runs gains ``walkthrough``: the change's walkthrough as JSON (title, description,
    overview, file table, risk areas; tokyo_cli.results.Walkthrough) when a describe step
    ran, NULL otherwise."""
    _table(db, "runs").add_column("walkthrough", str)


@MIGRATIONS(name="m011_finding_patch")
def m011_finding_patch(db: Database) -> None:
    """findings gains ``patch``: a checked unified diff that fixes the finding (a fix step,
    tokyo_cli.engine.tasks.fix), against the reviewed version of its file; NULL otherwise."""
    _table(db, "findings").add_column("patch", str)


@MIGRATIONS(name="m012_run_identity")
def m012_run_identity(db: Database) -> None:
    """runs gains the columns that carry a run between databases and machines:

    uid     the run's identity (32 hex digits), the same in every database it is exported to;
            ``tokyo history import`` stores a run once per uid (unique index). Runs stored
            before this migration get a random one now, kept from then on.
    shard   JSON of the shard a run reviewed (``tokyo review --shard I/N``:
            index, count, change, files, total_files, group_repeats, group_files); NULL otherwise
    merged  JSON of how a merged run was made (``tokyo merge``: shards, change, present,
            missing, failed, sources); NULL otherwise

    Numbered after m009_verification, m010_walkthrough and m011_finding_patch of other
    branches, so every order of merging them keeps the names unique.
    """
    runs = _table(db, "runs")
    runs.add_column("uid", str)
    runs.add_column("shard", str)
    runs.add_column("merged", str)
    db.execute("UPDATE runs SET uid = lower(hex(randomblob(16))) WHERE uid IS NULL")
    runs.create_index(["uid"], index_name="idx_runs_uid", unique=True)
