-- The audit page (issue 11). Rows gain what the page filters by and what the log could not say
-- before: the environment (Kubernetes namespace) a row concerns, the app (a VaultStaticSecret in
-- it), and Vault's request_id of the call an outcome row records. `format` names the canonical
-- serialisation a row's hash covers (server/store/src/audit/hash.rs): 1 for every row written
-- before this migration, 2 for rows written since, whose hash also covers the new columns. A
-- format 1 row keeps them null, so no one can attach an environment to an old row unseen: its
-- v1 hash would not cover it. (No 0002 here: it is SQLite's alone.)
ALTER TABLE audit_log
    ADD COLUMN environment TEXT CHECK (length(environment) BETWEEN 1 AND 256),
    ADD COLUMN app TEXT CHECK (length(app) BETWEEN 1 AND 256),
    ADD COLUMN vault_request_id TEXT CHECK (length(vault_request_id) BETWEEN 1 AND 256),
    ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK (format > 0),
    ADD CONSTRAINT audit_log_format_1_has_no_context
        CHECK (format <> 1 OR (environment IS NULL AND app IS NULL AND vault_request_id IS NULL));

-- Indexes for the page's filters, each ending in seq so a page comes newest first straight off
-- the index (keyset paging by seq DESC). A time range is first turned into a seq range with
-- audit_log_day: each day's smallest and largest seq is one seek.
CREATE INDEX audit_log_environment ON audit_log (environment, seq) WHERE environment IS NOT NULL;
CREATE INDEX audit_log_app ON audit_log (environment, app, seq) WHERE app IS NOT NULL;
CREATE INDEX audit_log_mount ON audit_log (mount, seq);
CREATE INDEX audit_log_entity ON audit_log (actor_entity, seq) WHERE mount = '';
CREATE INDEX audit_log_outcome ON audit_log (outcome, seq);
CREATE INDEX audit_log_day ON audit_log (substr(at, 1, 10), seq);

-- Key names, searchable: one row per name in a row's keys_added, keys_changed or keys_removed,
-- written in the same transaction as the row. Only an index (the key lists in audit_log are
-- what is hashed, and a key filter checks them too), so it holds a name's first 256 characters,
-- which keeps every entry well under a btree entry's size limit.
CREATE TABLE audit_key (
    name TEXT   NOT NULL CHECK (length(name) <= 256),
    seq  BIGINT NOT NULL,
    PRIMARY KEY (name, seq)
);

-- The rows already written: set-based, and only if some key list is not a JSON array (altered
-- outside Keyway: verify reports the row) row by row, indexing nothing for that list rather than
-- stopping the migration.
CREATE FUNCTION pg_temp.keyway_key_names(keys TEXT) RETURNS SETOF TEXT LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY SELECT e #>> '{}' FROM jsonb_array_elements(keys::jsonb) AS e
        WHERE jsonb_typeof(e) = 'string';
EXCEPTION WHEN OTHERS THEN
    RETURN;
END
$$;

DO $$
BEGIN
    INSERT INTO audit_key (name, seq)
    SELECT DISTINCT left(e #>> '{}', 256), a.seq FROM audit_log AS a,
        LATERAL jsonb_array_elements(
            a.keys_added::jsonb || a.keys_changed::jsonb || a.keys_removed::jsonb) AS e
    WHERE jsonb_typeof(e) = 'string';
EXCEPTION WHEN OTHERS THEN
    INSERT INTO audit_key (name, seq)
    SELECT DISTINCT left(k.name, 256), a.seq FROM audit_log AS a,
        LATERAL (SELECT pg_temp.keyway_key_names(a.keys_added)
                 UNION SELECT pg_temp.keyway_key_names(a.keys_changed)
                 UNION SELECT pg_temp.keyway_key_names(a.keys_removed)) AS k(name);
END
$$;

-- Append-only like the log: an entry removed would hide its row from a key search.
CREATE TRIGGER audit_key_no_update_delete BEFORE UPDATE OR DELETE ON audit_key
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

CREATE TRIGGER audit_key_no_truncate BEFORE TRUNCATE ON audit_key
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
