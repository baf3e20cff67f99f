-- What Keyway saw happen in the cluster, for the secret page's timeline (issue 11, part 4):
-- an app's Secret now carries kv version N, a workload restarted (and by whom, as far as the
-- cluster says), a workload's rollout completed with its pods on version N. Kubernetes events
-- expire within the hour, so Keyway records these itself as it sees them (server/k8s/src/
-- observe.rs), and the timeline survives a restart of Keyway. Versions, times and workload names
-- only: there is no column a value could go into.
--
-- at_ms: Unix milliseconds by the database's clock, so replicas agree. Absent fields are '' or 0,
-- never NULL, so that the UNIQUE key below also holds for them (NULLs never collide): two replicas
-- recording the same thing write one row (INSERT … ON CONFLICT DO NOTHING). marker tells apart
-- two restarts of one workload on one version: the restart annotation's value (the cluster's own
-- stamp, the same on every replica), or the workload's generation when its rollout completed;
-- a restart's stamp is recorded once whatever version it was seen with (the last index).
--
-- Retention: at most 1000 rows per app (namespace, app), the oldest removed as new ones come
-- (server/store/src/observations.rs); the rows of an app deleted from the cluster stay, bounded
-- the same way.
CREATE TABLE cluster_observation
(
    id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms         BIGINT  NOT NULL CHECK (at_ms > 0),
    namespace     TEXT    NOT NULL CHECK (length(namespace) BETWEEN 1 AND 63),
    app           TEXT    NOT NULL CHECK (length(app) BETWEEN 1 AND 253),
    mount         TEXT    NOT NULL CHECK (length(mount) BETWEEN 1 AND 128),
    path          TEXT    NOT NULL CHECK (length(path) BETWEEN 1 AND 512),
    kind          TEXT    NOT NULL CHECK (kind IN ('live', 'restart', 'running')),
    restarted_by  TEXT    NOT NULL DEFAULT '' CHECK (restarted_by IN ('', 'keyway', 'reloader', 'vso', 'outside')),
    version       BIGINT  NOT NULL DEFAULT 0 CHECK (version >= 0),
    workload_kind TEXT    NOT NULL DEFAULT '' CHECK (workload_kind IN ('', 'Deployment', 'StatefulSet', 'DaemonSet')),
    workload_name TEXT    NOT NULL DEFAULT '' CHECK (length(workload_name) <= 253),
    marker        TEXT    NOT NULL DEFAULT '' CHECK (length(marker) <= 64),
    CHECK ((kind = 'restart') = (restarted_by <> '')),
    CHECK ((kind = 'live') = (workload_name = '')),
    UNIQUE (namespace, app, mount, path, kind, version, workload_kind, workload_name, marker)
);

-- "The observations of this secret, newest first."
CREATE INDEX cluster_observation_secret ON cluster_observation (mount, path, at_ms, id);
-- Retention, per app.
CREATE INDEX cluster_observation_app ON cluster_observation (namespace, app, id);
-- One row per restart stamp, whatever version a replica saw with it: a replica that looks a
-- moment after another may already see the Secret's next version. The first to record wins.
CREATE UNIQUE INDEX cluster_observation_one_restart
    ON cluster_observation (namespace, app, workload_kind, workload_name, marker)
    WHERE kind = 'restart' AND marker <> '';
