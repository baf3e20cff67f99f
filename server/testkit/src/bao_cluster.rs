//! A real 3-node OpenBao raft cluster on loopback, as the seed runs Vault (HA, integrated
//! storage), for the tests of Keyway during a leader election.
//!
//! Each node is a `bao server` with its own config file (`storage "raft"` with `retry_join`
//! naming every node, `api_addr`/`cluster_addr`, a TCP listener without TLS) and data directory.
//! The first node is initialised with one key share and unsealed; the others are joined and
//! unsealed; [`BaoCluster::start`] returns once the raft has three voters and a leader, polled
//! with deadlines. Two settings make it quick and like the seed's Vault:
//! `performance_multiplier = 1` (the tightest raft timing: an election takes about 1 to 3 s) and
//! autopilot's `server_stabilization_time` of 1 s (a joined node is promoted to voter after 1 s,
//! not 10 s); `disable_standby_reads = true` makes a standby forward reads to the active node as
//! Vault's standbys do (OpenBao 2.7's own standbys answer reads from their copy, which lags the
//! active node by a write, measured here). `disable_mlock` is not set: OpenBao 2.7 no longer
//! knows it (it warns "unknown or unsupported field").
//!
//! The processes die with the value (and with the test binary, as [`crate::Bao`]'s do).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::bao::{die_with_parent, free_port_pair, tail};
use crate::Bao;

const NODES: usize = 3;
/// For each step of the start (a node answering, init, a join, three voters).
const STEP_DEADLINE: Duration = Duration::from_secs(30);
const POLL_EVERY: Duration = Duration::from_millis(50);
/// One try of a node's join (it takes about 1 s here).
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
const JOIN_ATTEMPTS: u32 = 3;

/// One node: its address and, while it runs, its process.
pub struct Node {
    /// `n1`, `n2`, `n3` (the raft node id).
    pub name: String,
    /// Its API address, e.g. `http://127.0.0.1:41234`.
    pub addr: String,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// A running 3-node cluster, initialised and unsealed; killed when dropped.
pub struct BaoCluster {
    pub nodes: Vec<Node>,
    pub root_token: String,
    unseal_key: String,
    http: reqwest::Client,
    bin: String,
    /// Holds configs, data and logs; dropped after the nodes.
    _dir: TempDir,
}

impl BaoCluster {
    /// Starts the three nodes, initialises and unseals them, waits for three voters and a
    /// leader (node 0, the one initialised).
    pub async fn start() -> BaoCluster {
        let bin = std::env::var("KEYWAY_BAO_BIN").unwrap_or_else(|_| "bao".to_owned());
        let dir = tempfile::Builder::new()
            .prefix("keyway-bao-raft-")
            .tempdir()
            .expect("a temporary directory for the raft cluster");
        let ports: Vec<u16> = (0..NODES).map(|_| free_port_pair()).collect();
        let joins: String = ports
            .iter()
            .map(|p| {
                format!("  retry_join {{\n    leader_api_addr = \"http://127.0.0.1:{p}\"\n  }}\n")
            })
            .collect();
        let mut nodes = Vec::new();
        for (i, port) in ports.iter().enumerate() {
            let name = format!("n{}", i + 1);
            let data = dir.path().join(&name);
            std::fs::create_dir_all(&data).expect("the node's data directory");
            let config = dir.path().join(format!("{name}.hcl"));
            std::fs::write(
                &config,
                format!(
                    "storage \"raft\" {{\n  path = \"{data}\"\n  node_id = \"{name}\"\n  performance_multiplier = 1\n  autopilot_reconcile_interval = \"500ms\"\n  autopilot_update_interval = \"500ms\"\n{joins}}}\n\
                     listener \"tcp\" {{\n  address = \"127.0.0.1:{port}\"\n  cluster_address = \"127.0.0.1:{cport}\"\n  tls_disable = true\n}}\n\
                     api_addr = \"http://127.0.0.1:{port}\"\ncluster_addr = \"https://127.0.0.1:{cport}\"\n\
                     disable_standby_reads = true\nui = false\n",
                    data = data.display(),
                    cport = port + 1,
                ),
            )
            .expect("write the node's config");
            nodes.push(Node {
                name: name.clone(),
                addr: format!("http://127.0.0.1:{port}"),
                config,
                log: dir.path().join(format!("{name}.log")),
                child: None,
            });
        }
        let mut cluster = BaoCluster {
            nodes,
            root_token: String::new(),
            unseal_key: String::new(),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("an HTTP client"),
            bin,
            _dir: dir,
        };
        for i in 0..NODES {
            cluster.spawn(i);
        }
        for i in 0..NODES {
            cluster.wait_health(i, "answer", |_| true).await;
        }
        let init = cluster
            .put(
                0,
                "sys/init",
                json!({"secret_shares": 1, "secret_threshold": 1}),
            )
            .await;
        cluster.root_token = init["root_token"].as_str().expect("a root token").into();
        cluster.unseal_key = init["keys"][0].as_str().expect("an unseal key").into();
        cluster.unseal(0).await;
        cluster.wait_health(0, "become active", |s| s == 200).await;
        // Promote a joined node to voter after 1 s of health instead of 10 s.
        let status = cluster
            .request(
                0,
                "POST",
                "sys/storage/raft/autopilot/configuration",
                Some(json!({"server_stabilization_time": "1s"})),
            )
            .await
            .map(|(s, _)| s);
        assert_eq!(status, Ok(204), "autopilot configuration");
        for i in 1..NODES {
            // retry_join would find the leader too, but only on its next 2 s tick.
            cluster.join(i).await;
        }
        cluster.wait_voters(NODES).await;
        cluster
    }

    /// The nodes' addresses, comma-separated, in order (a `KEYWAY_VAULT_ADDR` list).
    pub fn addr_list(&self) -> String {
        let addrs: Vec<&str> = self.nodes.iter().map(|n| n.addr.as_str()).collect();
        addrs.join(",")
    }

    /// A [`Bao`] handle with the root token on node `i`, for the setup helpers (a standby
    /// forwards them to the active node).
    pub fn bao(&self, i: usize) -> Bao {
        Bao::attach(&self.nodes[i].addr, &self.root_token)
    }

    /// The node that is active now: waits (with a deadline) until a running node says it is
    /// the leader and answers as active.
    pub async fn leader(&self) -> usize {
        let deadline = Instant::now() + STEP_DEADLINE;
        loop {
            for i in self.running() {
                if let Ok((200, leader)) = self.request(i, "GET", "sys/leader", None).await {
                    if leader["is_self"] == json!(true) && self.health(i).await == Some(200) {
                        return i;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "no leader within {STEP_DEADLINE:?}; logs:\n{}",
                self.logs()
            );
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Kills node `i` at once (SIGKILL: a crash, a node lost), and waits until it is gone.
    pub async fn kill(&mut self, i: usize) {
        let mut child = self.nodes[i].child.take().expect("the node is running");
        child.start_kill().expect("kill the node");
        let _ = child.wait().await;
    }

    /// Stops node `i` the way Kubernetes stops a pod (SIGTERM: it steps down and seals), and
    /// waits until it has exited.
    pub async fn stop(&mut self, i: usize) {
        let mut child = self.nodes[i].child.take().expect("the node is running");
        #[cfg(target_os = "linux")]
        if let Some(pid) = child.id() {
            // SAFETY: kill(2) on the pid of a child this value started and has not reaped.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        }
        #[cfg(not(target_os = "linux"))]
        let _ = child.start_kill();
        if tokio::time::timeout(STEP_DEADLINE, child.wait())
            .await
            .is_err()
        {
            let _ = child.start_kill();
            panic!(
                "{} did not stop within {STEP_DEADLINE:?}",
                self.nodes[i].name
            );
        }
    }

    /// Starts node `i` again on its data, unseals it, and waits until the raft has all three
    /// voters again.
    pub async fn restart(&mut self, i: usize) {
        self.spawn(i);
        self.wait_health(i, "answer again", |_| true).await;
        self.unseal(i).await;
        self.wait_voters(NODES).await;
    }

    /// The last lines of every node's log, for failure messages.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("--- {}\n{}", n.name, tail(&n.log, 15)))
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn running(&self) -> impl Iterator<Item = usize> + '_ {
        (0..NODES).filter(|&i| self.nodes[i].child.is_some())
    }

    fn spawn(&mut self, i: usize) {
        let node = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&node.log)
            .expect("open the node's log");
        let log_err = log.try_clone().expect("clone the log handle");
        let mut cmd = Command::new(&self.bin);
        cmd.arg("server")
            .arg(format!("-config={}", node.config.display()))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .kill_on_drop(true);
        die_with_parent(&mut cmd);
        node.child = Some(cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "could not run `{}` ({e}): install OpenBao with `end2end/run setup`",
                self.bin
            )
        }));
    }

    /// `sys/health`'s status on node `i` (200 active, 429 standby, 503 sealed, 501 not
    /// initialised), or None when it does not answer.
    async fn health(&self, i: usize) -> Option<u16> {
        let url = format!("{}/v1/sys/health", self.nodes[i].addr);
        self.http
            .get(url)
            .send()
            .await
            .ok()
            .map(|r| r.status().as_u16())
    }

    async fn wait_health(&mut self, i: usize, what: &str, ok: impl Fn(u16) -> bool) {
        if !self.health_within(i, STEP_DEADLINE, ok).await {
            panic!(
                "{} did not {what} within {STEP_DEADLINE:?}:\n{}",
                self.nodes[i].name,
                tail(&self.nodes[i].log, 40)
            );
        }
    }

    /// Whether node `i`'s `sys/health` status passes `ok` within `within`; panics when the node
    /// exits meanwhile.
    async fn health_within(
        &mut self,
        i: usize,
        within: Duration,
        ok: impl Fn(u16) -> bool,
    ) -> bool {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.health(i).await {
                if ok(status) {
                    return true;
                }
            }
            if let Some(Ok(Some(exit))) = self.nodes[i].child.as_mut().map(Child::try_wait) {
                panic!(
                    "{} exited ({exit}):\n{}",
                    self.nodes[i].name,
                    tail(&self.nodes[i].log, 40)
                );
            }
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    /// Joins node `i` to node 0's raft and unseals it. A join can fail on its own (its challenge
    /// exchange with the leader, on a loaded machine; retry_join runs alongside), so it is sent
    /// again a few times, each with a deadline, before failing with the node's log.
    async fn join(&mut self, i: usize) {
        let body = json!({ "leader_api_addr": self.nodes[0].addr });
        let key = json!({ "key": self.unseal_key });
        for _ in 0..JOIN_ATTEMPTS {
            // A second join of a node already joining may be refused: its answer does not matter.
            let _ = self
                .request(i, "POST", "sys/storage/raft/join", Some(body.clone()))
                .await;
            let _ = self
                .request(i, "PUT", "sys/unseal", Some(key.clone()))
                .await;
            if self
                .health_within(i, JOIN_DEADLINE, |s| s == 200 || s == 429)
                .await
            {
                return;
            }
        }
        panic!(
            "{} did not join and unseal in {JOIN_ATTEMPTS} tries of {JOIN_DEADLINE:?}:\n{}",
            self.nodes[i].name,
            tail(&self.nodes[i].log, 40)
        );
    }

    /// Gives node `i` the unseal key and waits until it serves (active or standby): a node
    /// that is joining answers "sealed" at first and unseals once it has joined.
    async fn unseal(&mut self, i: usize) {
        let key = self.unseal_key.clone();
        self.put(i, "sys/unseal", json!({ "key": key })).await;
        self.wait_health(i, "unseal", |s| s == 200 || s == 429)
            .await;
    }

    /// Waits until the leader's raft configuration lists `voters` voters and autopilot calls
    /// every server healthy.
    async fn wait_voters(&self, voters: usize) {
        let deadline = Instant::now() + STEP_DEADLINE;
        let mut seen = String::new();
        while Instant::now() < deadline {
            let leader = self.leader().await;
            let config = self
                .request(leader, "GET", "sys/storage/raft/configuration", None)
                .await;
            let state = self
                .request(leader, "GET", "sys/storage/raft/autopilot/state", None)
                .await;
            if let (Ok((200, config)), Ok((200, state))) = (config, state) {
                let servers = config["data"]["config"]["servers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                let n = servers.iter().filter(|s| s["voter"] == json!(true)).count();
                if n == voters && state["data"]["healthy"] == json!(true) {
                    return;
                }
                seen = format!("{n} voters, autopilot {}", state["data"]["healthy"]);
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
        panic!("the raft did not reach {voters} healthy voters within {STEP_DEADLINE:?} ({seen}); logs:\n{}", self.logs());
    }

    async fn put(&self, i: usize, path: &str, body: Value) -> Value {
        match self.request(i, "PUT", path, Some(body)).await {
            Ok((status, answer)) if (200..300).contains(&status) => answer,
            other => panic!(
                "PUT {path} on {}: {other:?}\n{}",
                self.nodes[i].name,
                tail(&self.nodes[i].log, 40)
            ),
        }
    }

    /// Sends `method path` to node `i` with the root token (once known); the status and JSON
    /// body, or the transport error.
    async fn request(
        &self,
        i: usize,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<(u16, Value), String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self
            .http
            .request(method, format!("{}/v1/{path}", self.nodes[i].addr));
        if !self.root_token.is_empty() {
            request = request.header("X-Vault-Token", &self.root_token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response.text().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}
