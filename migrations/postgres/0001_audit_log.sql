-- Keyway audit log (PostgreSQL). Append-only and hash-chained; see server/store/src/audit/hash.rs
-- for the canonical serialisation that `hash` covers. Rows hold key NAMES only, never values: there
-- is no column a value could go into.
--
-- The triggers below refuse UPDATE, DELETE and TRUNCATE for every role except a superuser who
-- disables them. In production ALSO take the privileges away from the role Keyway connects as,
-- so that the table owner is a separate role and the app role can only read and append:
--
--     REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM keyway_app;
--     GRANT SELECT, INSERT ON audit_log TO keyway_app;

CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY CHECK (seq > 0),       -- 1, 2, 3 … gapless (see trigger below)
    id             TEXT   NOT NULL UNIQUE,                   -- uuid v4
    at             TEXT   NOT NULL,                          -- UTC RFC 3339 with ms: 2025-01-31T12:00:00.123Z
    actor_name     TEXT   NOT NULL,                          -- Vault display name
    actor_entity   TEXT   NOT NULL DEFAULT '',               -- Vault entity id, may be empty
    action         TEXT   NOT NULL,                          -- login, secret.save, …
    mount          TEXT   NOT NULL DEFAULT '',               -- empty when not about a secret
    path           TEXT   NOT NULL DEFAULT '',
    version_before BIGINT,
    version_after  BIGINT,
    keys_added     TEXT   NOT NULL DEFAULT '[]',             -- JSON array of key names, sorted; TEXT (not
    keys_changed   TEXT   NOT NULL DEFAULT '[]',             -- jsonb) so the hashed bytes are kept exactly
    keys_removed   TEXT   NOT NULL DEFAULT '[]',
    outcome        TEXT   NOT NULL CHECK (outcome IN ('pending', 'ok', 'denied', 'conflict', 'error')),
    detail         TEXT   CHECK (length(detail) <= 1000),    -- short plain text, never a value
    intent_seq     BIGINT UNIQUE REFERENCES audit_log (seq), -- outcome row -> its intent; one outcome per intent
    request_id     TEXT,
    client_addr    TEXT,
    prev_hash      TEXT   NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'), -- backstop against a fork
    hash           TEXT   NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
    CHECK (outcome <> 'pending' OR intent_seq IS NULL),      -- an intent is never itself an outcome
    CHECK (intent_seq IS NULL OR intent_seq < seq)
);

CREATE INDEX audit_log_secret ON audit_log (mount, path, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_name, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_pending ON audit_log (seq) WHERE outcome = 'pending';

-- Append-only, enforced by the database rather than by the code's good behaviour.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log is append-only';
END
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Every insert must extend the tip: seq = last seq + 1 and prev_hash = last hash (64 zeros for the
-- first row). Writers hold pg_advisory_xact_lock while appending, so this never fires for them; it
-- keeps the chain gapless and unforked even for a writer that skips the lock. It raises
-- serialization_failure (40001) because that is what it is: a lost race, safe to retry.
CREATE FUNCTION audit_log_extends_tip() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tip_seq  BIGINT;
    tip_hash TEXT;
BEGIN
    SELECT seq, hash INTO tip_seq, tip_hash FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NEW.seq IS DISTINCT FROM COALESCE(tip_seq, 0) + 1
       OR NEW.prev_hash IS DISTINCT FROM COALESCE(tip_hash, repeat('0', 64)) THEN
        RAISE EXCEPTION 'audit log insert must extend the chain tip'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER audit_log_extends_tip BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_extends_tip();
