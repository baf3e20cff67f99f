-- The session table of tower-sessions' PostgresStore, exactly as its `migrate()` makes it, so that
-- the schema's owner makes it (`keyway migrate`) and the serving role needs only SELECT, INSERT,
-- UPDATE and DELETE on it (deploy/postgres-roles.sql). A database that already has it keeps it.
-- (0002 is SQLite's alone: PostgreSQL has no INSERT OR REPLACE.)
CREATE SCHEMA IF NOT EXISTS tower_sessions;

CREATE TABLE IF NOT EXISTS tower_sessions.session
(
    id text primary key not null,
    data bytea not null,
    expiry_date timestamptz not null
);
