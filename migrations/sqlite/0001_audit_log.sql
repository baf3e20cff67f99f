-- Keyway audit log (SQLite). Append-only and hash-chained; see server/store/src/audit/hash.rs for
-- the canonical serialisation that `hash` covers. Rows hold key NAMES only, never values: there is
-- no column a value could go into.

CREATE TABLE audit_log (
    seq            INTEGER PRIMARY KEY CHECK (seq > 0),      -- 1, 2, 3 … gapless (see trigger below)
    id             TEXT    NOT NULL UNIQUE,                  -- uuid v4
    at             TEXT    NOT NULL,                         -- UTC RFC 3339 with ms: 2025-01-31T12:00:00.123Z
    actor_name     TEXT    NOT NULL,                         -- Vault display name
    actor_entity   TEXT    NOT NULL DEFAULT '',              -- Vault entity id, may be empty
    action         TEXT    NOT NULL,                         -- login, secret.save, …
    mount          TEXT    NOT NULL DEFAULT '',              -- empty when not about a secret
    path           TEXT    NOT NULL DEFAULT '',
    version_before INTEGER,
    version_after  INTEGER,
    keys_added     TEXT    NOT NULL DEFAULT '[]',            -- JSON array of key names, sorted
    keys_changed   TEXT    NOT NULL DEFAULT '[]',
    keys_removed   TEXT    NOT NULL DEFAULT '[]',
    outcome        TEXT    NOT NULL CHECK (outcome IN ('pending', 'ok', 'denied', 'conflict', 'error')),
    detail         TEXT    CHECK (length(detail) <= 1000),   -- short plain text, never a value
    intent_seq     INTEGER UNIQUE REFERENCES audit_log (seq), -- outcome row -> its intent; one outcome per intent
    request_id     TEXT,
    client_addr    TEXT,
    prev_hash      TEXT    NOT NULL UNIQUE CHECK (length(prev_hash) = 64), -- backstop against a forked chain
    hash           TEXT    NOT NULL UNIQUE CHECK (length(hash) = 64),
    CHECK (outcome <> 'pending' OR intent_seq IS NULL),      -- an intent is never itself an outcome
    CHECK (intent_seq IS NULL OR intent_seq < seq)
) STRICT;

CREATE INDEX audit_log_secret ON audit_log (mount, path, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_name, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_pending ON audit_log (seq) WHERE outcome = 'pending';

-- Append-only, enforced by the database rather than by the code's good behaviour.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- Every insert must extend the tip: seq = last seq + 1 and prev_hash = last hash (64 zeros for the
-- first row). With the writers serialised by BEGIN IMMEDIATE this never fires; it keeps the chain
-- gapless and unforked even for a writer that skips that discipline.
CREATE TRIGGER audit_log_extends_tip BEFORE INSERT ON audit_log
WHEN NEW.seq IS NOT COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1
  OR NEW.prev_hash IS NOT COALESCE(
        (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1),
        '0000000000000000000000000000000000000000000000000000000000000000')
BEGIN
    SELECT RAISE(ABORT, 'audit log insert must extend the chain tip');
END;
