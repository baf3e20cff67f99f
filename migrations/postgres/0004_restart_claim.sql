-- Restart claims, shared by every Keyway replica on this database (issue 9, point 13): a click
-- claims each workload it will restart for the cooldown, so two clicks at the same moment, on
-- the same replica or on two, restart it once. A row is one workload; `held_until_ms` is Unix
-- time in milliseconds by the database's clock, `claim_id` the click that holds it (only that
-- click gives it back early). A row past its time is free and is taken over by the next claim;
-- rows are never deleted, one per workload ever restarted, so the table stays as small as the
-- fleet.
CREATE TABLE IF NOT EXISTS restart_claim
(
    namespace     TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    held_until_ms BIGINT  NOT NULL,
    claim_id      TEXT    NOT NULL,
    PRIMARY KEY (namespace, kind, name)
);
