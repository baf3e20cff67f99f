-- What Keyway's serving role may do on PostgreSQL, and nothing more. Run as the role that owns
-- the schema (the one `keyway migrate` connects as, KEYWAY_DATABASE_MIGRATE_URL), after
-- `keyway migrate`; again after an upgrade whose migrations add a table. `keyway_app` is the role
-- Keyway serves as (KEYWAY_DATABASE_URL): put yours in its place. See deploy/README.md.
--
-- The audit log: read and append only. No UPDATE, DELETE or TRUNCATE, and, not being the owner,
-- the serving role cannot ALTER the table, drop or disable its triggers, or replace their
-- function; only the owner or a superuser can. Keyway checks at boot that the schema is up to
-- date (it reads _sqlx_migrations) and stops with a plain sentence if it is not.

GRANT USAGE ON SCHEMA public, tower_sessions TO keyway_app;
GRANT SELECT ON _sqlx_migrations TO keyway_app;
GRANT SELECT, INSERT ON audit_log TO keyway_app;
-- The audit log's key-name index, written with each row (migration 0006): read and append only.
GRANT SELECT, INSERT ON audit_key TO keyway_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON tower_sessions.session TO keyway_app;
-- Restart claims (one row per workload, taken over when its time is past): no DELETE needed.
GRANT SELECT, INSERT, UPDATE ON restart_claim TO keyway_app;
-- Cluster observations (the secret page's timeline): appended, and pruned to 1000 rows per app.
GRANT SELECT, INSERT, DELETE ON cluster_observation TO keyway_app;
-- The readiness probe's one row (/readyz proves the database takes writes by rewriting it).
GRANT SELECT, INSERT, UPDATE ON readiness_probe TO keyway_app;
