-- The session table of tower-sessions' SqliteStore, exactly as its `migrate()` makes it, so that
-- the schema is made in one place (`keyway migrate`, or at boot when it is behind) and the server
-- never runs DDL. A database that already has it keeps it.
CREATE TABLE IF NOT EXISTS tower_sessions
(
    id text primary key not null,
    data blob not null,
    expiry_date integer not null
);
