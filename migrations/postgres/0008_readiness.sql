-- One row that `/readyz` rewrites to prove the database takes writes (Db::prove_writable): a
-- read would pass on a read-only database or a standby. Always one row (id = 1), whatever the
-- number of replicas or probes; it holds a time only.
CREATE TABLE readiness_probe
(
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at_ms BIGINT  NOT NULL
);
