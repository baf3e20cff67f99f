-- The audit page (issue 11). Rows gain what the page filters by and what the log could not say
-- before: the environment (Kubernetes namespace) a row concerns, the app (a VaultStaticSecret in
-- it), and Vault's request_id of the call an outcome row records. `format` names the canonical
-- serialisation a row's hash covers (server/store/src/audit/hash.rs): 1 for every row written
-- before this migration, 2 for rows written since, whose hash also covers the new columns. A
-- format 1 row keeps them null, so no one can attach an environment to an old row unseen: its
-- v1 hash would not cover it.
ALTER TABLE audit_log ADD COLUMN environment TEXT CHECK (length(environment) BETWEEN 1 AND 256);
ALTER TABLE audit_log ADD COLUMN app TEXT CHECK (length(app) BETWEEN 1 AND 256);
ALTER TABLE audit_log ADD COLUMN vault_request_id TEXT CHECK (length(vault_request_id) BETWEEN 1 AND 256);
ALTER TABLE audit_log ADD COLUMN format INTEGER NOT NULL DEFAULT 1 CHECK (format > 0)
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
-- which keeps every entry small enough for any index.
CREATE TABLE audit_key (
    name TEXT    NOT NULL CHECK (length(name) <= 256),
    seq  INTEGER NOT NULL,
    PRIMARY KEY (name, seq)
) STRICT, WITHOUT ROWID;

-- The rows already written. A key list that is not a JSON array (altered outside Keyway: verify
-- reports the row) indexes nothing rather than stopping the migration.
INSERT INTO audit_key (name, seq)
SELECT substr(k.value, 1, 256), a.seq FROM audit_log AS a,
    json_each(CASE WHEN json_valid(a.keys_added) THEN
        CASE json_type(a.keys_added) WHEN 'array' THEN a.keys_added END END) AS k
WHERE k.type = 'text'
UNION
SELECT substr(k.value, 1, 256), a.seq FROM audit_log AS a,
    json_each(CASE WHEN json_valid(a.keys_changed) THEN
        CASE json_type(a.keys_changed) WHEN 'array' THEN a.keys_changed END END) AS k
WHERE k.type = 'text'
UNION
SELECT substr(k.value, 1, 256), a.seq FROM audit_log AS a,
    json_each(CASE WHEN json_valid(a.keys_removed) THEN
        CASE json_type(a.keys_removed) WHEN 'array' THEN a.keys_removed END END) AS k
WHERE k.type = 'text';

-- Append-only like the log: an entry removed would hide its row from a key search.
CREATE TRIGGER audit_key_no_update BEFORE UPDATE ON audit_key
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_key_no_delete BEFORE DELETE ON audit_key
BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
