"""Schema version 1 of cluster mode: everything the nodes of one library share.

* One PostgreSQL schema per domain, named like the embedded database file (``official``,
  ``community``, ``user_created``), each with today's ``assemblies`` table (same columns,
  names and meaning as storage/sqlite/databases.py: JSON and timestamps stay the exact text
  the engine wrote), ``revisions`` and ``deleted_assemblies`` (version history).
* ``official.content_stamp``: the official-sync stamp, erased by any change to the rows.
* ``write_queue``: the durable write queue. ``seq`` is global; appends take it from the one
  row of ``write_queue_head`` (``UPDATE ... SET last_seq = last_seq + 1 RETURNING``): its row
  lock lasts until commit, so numbers are gapless and in commit order, and a node that has
  seen N has seen everything up to N when it catches up after a reconnect.
* ``revision_heads``: the latest acknowledged revision of every assembly. A write changes
  it with ``UPDATE ... WHERE revision = expected`` in the transaction that queues it, so two
  nodes can never both accept revision N+1 (the loser updates no row: 409).
* ``payload_files``: payload content, one row per file of a payload (``manifest.json``, the
  main file, ``files/<attachment>``), write-once (no UPDATE), with its size and SHA-256
  checked by the database itself.
* ``users``, ``sessions`` (Dev Mode lives on the session row, as today), ``engine_meta``
  (the engine's secrets), the login throttle's counters and in-flight checks.
* ``audit_log``: one hash chain for the cluster. ``(seq - 1, prev_hash)`` must name the
  entry before (a foreign key), so the database refuses a fork or a gap; rows are
  append-only and ``audit_head`` (seq and hash of the last entry, locked by every append)
  serialises appends and shows a cut-off end, like ``audit.log.head`` does today.
"""

from __future__ import annotations

from assembly_engine.domain.types import DATABASE_FILES, Domain

# The PostgreSQL schema of each domain: the embedded database file's name without ".db"
# (official, community, user_created; "user" itself is a reserved word in SQL).
DOMAIN_SCHEMAS: dict[Domain, str] = {domain: DATABASE_FILES[domain].removesuffix(".db") for domain in Domain}


def _domain_tables(schema: str) -> tuple[str, ...]:
    return (
        f"CREATE SCHEMA {schema}",
        f"""CREATE TABLE {schema}.assemblies (
            assembly_guid      TEXT PRIMARY KEY,
            display_name       TEXT NOT NULL,
            summary            TEXT,
            category           TEXT,
            assembly_kind      TEXT NOT NULL,
            assembly_type      TEXT,
            version            BIGINT,
            revision           BIGINT NOT NULL DEFAULT 1,
            metadata_json      TEXT,
            tags_json          TEXT,
            payload_guid       TEXT NOT NULL,
            payload_type       TEXT NOT NULL,
            payload_size_bytes BIGINT,
            payload_checksum   TEXT,
            created_at         TEXT NOT NULL,
            updated_at         TEXT NOT NULL,
            created_by         TEXT,
            updated_by         TEXT
        )""",
        f"CREATE INDEX assemblies_kind ON {schema}.assemblies (assembly_kind)",
        f"CREATE INDEX assemblies_payload ON {schema}.assemblies (payload_guid)",
        f"""CREATE TABLE {schema}.revisions (
            assembly_guid TEXT NOT NULL,
            revision      BIGINT NOT NULL,
            action        TEXT NOT NULL,
            row_json      TEXT NOT NULL,
            payload_guid  TEXT NOT NULL,
            recorded_at   TEXT NOT NULL,
            PRIMARY KEY (assembly_guid, revision)
        )""",
        f"CREATE INDEX revisions_payload ON {schema}.revisions (payload_guid)",
        f"""CREATE TABLE {schema}.deleted_assemblies (
            assembly_guid TEXT PRIMARY KEY,
            revision      BIGINT NOT NULL,
            deleted_at    TEXT NOT NULL,
            deleted_by    TEXT,
            row_json      TEXT NOT NULL
        )""",
    )


_DOMAIN_VALUES = ", ".join(f"'{d.value}'" for d in Domain)
_HEX64 = "'^[0-9a-f]{64}$'"

_OFFICIAL_STAMP = (
    "CREATE TABLE official.content_stamp (value TEXT NOT NULL)",
    """CREATE FUNCTION official.forget_content_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM official.content_stamp;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER content_stamp_forget AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
    "ON official.assemblies FOR EACH STATEMENT EXECUTE FUNCTION official.forget_content_stamp()",
)

_WRITE_QUEUE = (
    f"""CREATE TABLE write_queue (
        seq           BIGINT PRIMARY KEY,
        op            TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
        domain        TEXT NOT NULL CHECK (domain IN ({_DOMAIN_VALUES})),
        assembly_guid TEXT NOT NULL,
        record_json   TEXT NOT NULL,
        created_at    TEXT NOT NULL,
        note          TEXT,
        action        TEXT,
        actor         TEXT
    )""",
    "CREATE INDEX write_queue_guid ON write_queue (assembly_guid, seq)",
    """CREATE TABLE write_queue_head (
        one      BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        last_seq BIGINT NOT NULL CHECK (last_seq >= 0)
    )""",
    "INSERT INTO write_queue_head (one, last_seq) VALUES (TRUE, 0)",
    f"""CREATE TABLE revision_heads (
        domain        TEXT NOT NULL CHECK (domain IN ({_DOMAIN_VALUES})),
        assembly_guid TEXT NOT NULL,
        revision      BIGINT NOT NULL CHECK (revision >= 1),
        deleted       BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (domain, assembly_guid)
    )""",
)

# Attachment names follow the payload store's rules: plain, not hidden, at most 255 bytes.
_PAYLOADS = (
    """CREATE TABLE payload_files (
        payload_guid TEXT NOT NULL CHECK (payload_guid ~ '^[0-9a-f]{32}$'),
        file_name    TEXT NOT NULL CHECK (
            file_name ~ '^(files/)?[^/\\\\.][^/\\\\]*$'
            AND file_name !~ '[[:cntrl:]]'
            AND octet_length(regexp_replace(file_name, '^files/', '')) <= 255),
        content      BYTEA NOT NULL,
        size_bytes   BIGINT NOT NULL,
        sha256       TEXT NOT NULL,
        created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (payload_guid, file_name),
        CONSTRAINT payload_files_size CHECK (size_bytes = octet_length(content)),
        CONSTRAINT payload_files_sha256 CHECK (sha256 = encode(sha256(content), 'hex'))
    )""",
    """CREATE FUNCTION refuse_payload_update() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'payload % file % is write-once: a content change is a new payload',
            OLD.payload_guid, OLD.file_name USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    "CREATE TRIGGER payload_files_write_once BEFORE UPDATE ON payload_files "
    "FOR EACH ROW EXECUTE FUNCTION refuse_payload_update()",
)

# Same rows as engine.db. Names compare like SQLite's NOCASE (ASCII only): lower() under
# the "C" collation folds nothing but A-Z.
_ENGINE = (
    """CREATE TABLE users (
        username      TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('admin', 'operator')),
        disabled      BOOLEAN NOT NULL DEFAULT FALSE,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    )""",
    'CREATE UNIQUE INDEX users_nocase ON users (lower(username COLLATE "C"))',
    """CREATE TABLE sessions (
        token_hash      TEXT PRIMARY KEY,
        username        TEXT NOT NULL
                        REFERENCES users (username) ON DELETE CASCADE ON UPDATE CASCADE,
        created_at      DOUBLE PRECISION NOT NULL,
        expires_at      DOUBLE PRECISION NOT NULL,
        last_seen       DOUBLE PRECISION NOT NULL,
        dev_mode_until  DOUBLE PRECISION,
        dev_mode_reason TEXT,
        revoked         BOOLEAN NOT NULL DEFAULT FALSE
    )""",
    "CREATE INDEX sessions_by_username ON sessions (username)",
    "CREATE INDEX sessions_by_expiry ON sessions (expires_at)",
    """CREATE TABLE engine_meta (
        key   TEXT PRIMARY KEY,
        value BYTEA NOT NULL
    )""",
    # The throttle's counters (persistence of services/auth/throttle.py's _Counter), times in
    # epoch seconds of the database's clock, the one clock every node shares. A check in
    # flight is a row of its own, so one a crashed node left behind ages out by started_at.
    """CREATE TABLE login_throttle (
        counter_key  TEXT PRIMARY KEY,
        failures     DOUBLE PRECISION[] NOT NULL DEFAULT '{}',
        lockouts     INTEGER NOT NULL DEFAULT 0 CHECK (lockouts >= 0),
        locked_until DOUBLE PRECISION NOT NULL DEFAULT 0,
        last_failure DOUBLE PRECISION
    )""",
    """CREATE TABLE login_throttle_in_flight (
        attempt_id  TEXT NOT NULL,
        counter_key TEXT NOT NULL,
        started_at  DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (attempt_id, counter_key)
    )""",
    "CREATE INDEX login_throttle_in_flight_key ON login_throttle_in_flight (counter_key, started_at)",
)

_AUDIT = (
    f"""CREATE TABLE audit_log (
        seq           BIGINT PRIMARY KEY CHECK (seq >= 1),
        time          TEXT NOT NULL,
        "user"        TEXT,
        role          TEXT,
        session       TEXT,
        action        TEXT NOT NULL,
        domain        TEXT,
        assembly_guid TEXT,
        outcome       TEXT NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
        dev_mode      BOOLEAN NOT NULL,
        detail        TEXT,
        prev_hash     TEXT NOT NULL CHECK (prev_hash ~ {_HEX64}),
        hash          TEXT NOT NULL CHECK (hash ~ {_HEX64}),
        prev_seq      BIGINT GENERATED ALWAYS AS (NULLIF(seq - 1, 0)) STORED,
        UNIQUE (seq, hash),
        CONSTRAINT audit_log_first CHECK (seq > 1 OR prev_hash = repeat('0', 64)),
        CONSTRAINT audit_log_chain FOREIGN KEY (prev_seq, prev_hash) REFERENCES audit_log (seq, hash)
    )""",
    """CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END $$""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()",
    f"""CREATE TABLE audit_head (
        one  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
        seq  BIGINT NOT NULL CHECK (seq >= 0),
        hash TEXT NOT NULL CHECK (hash ~ {_HEX64})
    )""",
    "INSERT INTO audit_head (one, seq, hash) VALUES (TRUE, 0, repeat('0', 64))",
)

NAME = "cluster schema: domains, history, write queue, payloads, users, sessions, audit"
STATEMENTS: tuple[str, ...] = (
    *(statement for schema in DOMAIN_SCHEMAS.values() for statement in _domain_tables(schema)),
    *_OFFICIAL_STAMP,
    *_WRITE_QUEUE,
    *_PAYLOADS,
    *_ENGINE,
    *_AUDIT,
)
