//! SIGTERM to the real `keyway` binary while a save is waiting on Vault's answer to its write:
//! the save completes and answers 200, its audit bracket has its outcome (no intent left
//! pending), and the process exits 0. Its JSON log lines carry the request id of the request
//! they belong to, and `/metrics` is served on its own port, not on the main one.
//!
//! The one test double: [`SlowWrites`], a TCP relay in front of the real OpenBao that holds a
//! kv write's bytes until released — OpenBao cannot be asked to answer one request slowly. The
//! answers are OpenBao's own.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyway_testkit::{eventually, Bao};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

/// A relay to OpenBao that, while holding, stops a request starting with `prefix` (a kv write)
/// before it reaches OpenBao, until [`SlowWrites::release`].
struct SlowWrites {
    port: u16,
    hold: tokio::sync::watch::Sender<bool>,
    held: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl SlowWrites {
    async fn start(upstream: &str, prefix: &'static [u8]) -> SlowWrites {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (hold, holding) = tokio::sync::watch::channel(false);
        let held = Arc::new(AtomicBool::new(false));
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let seen = held.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
                let mut holding = holding.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    loop {
                        let n = match from_client.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        if buf[..n].starts_with(prefix) && *holding.borrow() {
                            seen.store(true, Ordering::SeqCst);
                            if holding.wait_for(|h| !*h).await.is_err() {
                                return;
                            }
                        }
                        if to_server.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        SlowWrites {
            port,
            hold,
            held,
            task,
        }
    }

    fn hold(&self) {
        self.hold.send_replace(true);
    }

    fn release(&self) {
        self.hold.send_replace(false);
    }
}

impl Drop for SlowWrites {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines a child writes, collected as they come.
fn collect(out: impl tokio::io::AsyncRead + Unpin + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(out).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            into.lock().unwrap().push(line);
        }
    });
}

#[tokio::test]
async fn sigterm_lets_a_save_in_flight_finish_with_its_audit_outcome() {
    let bao = Bao::start().await;
    bao.enable_kv2("dev").await;
    let policy =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end/demo/policies/dev-editor.hcl");
    bao.put_policy("dev-editor", &std::fs::read_to_string(policy).unwrap())
        .await;
    bao.enable_userpass().await;
    bao.add_user("alice", "alice-pass", &["dev-editor"]).await;
    bao.kv_put("dev", "webapp/config", json!({"username": "u"}))
        .await;
    let relay = SlowWrites::start(&bao.addr, b"POST /v1/dev/data/").await;

    let dir = tempfile::tempdir().unwrap();
    let db_url = format!("sqlite://{}/keyway.db?mode=rwc", dir.path().display());
    let (port, metrics_port) = (free_port(), free_port());
    let origin = format!("http://127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyway"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .args(["--vault-addr", &format!("http://127.0.0.1:{}", relay.port)])
        .args(["--database-url", &db_url])
        .args(["--session-key", &"ab".repeat(32)])
        .args(["--site-root", dir.path().to_str().unwrap()])
        .args(["--cluster", "off", "--log-format", "json"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    collect(child.stdout.take().unwrap(), log.clone());
    collect(child.stderr.take().unwrap(), log.clone());
    let http = reqwest::Client::new();
    eventually(
        "keyway answers /healthz",
        Duration::from_secs(60),
        async || {
            let r = http.get(format!("{origin}/healthz")).send().await.ok()?;
            r.status().is_success().then_some(())
        },
    )
    .await;

    // The metrics have their own port; the main one does not serve them.
    let metrics = http
        .get(format!("http://127.0.0.1:{metrics_port}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(metrics.text().await.unwrap().contains("keyway_build_info"));
    let main = http.get(format!("{origin}/metrics")).send().await.unwrap();
    assert_eq!(main.status(), 404);

    let login = http
        .post(format!("{origin}/api/login"))
        .header("origin", &origin)
        .header("accept", "application/json")
        .header("content-type", "application/x-www-form-urlencoded")
        .body("method=userpass&mount=userpass&username=alice&secret=alice-pass")
        .send()
        .await
        .unwrap();
    assert!(login.status().is_success(), "{}", login.status());
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // Two failed logins: the first is written at once, the repeat is only counted, and that count
    // is written when the minute ends — or at shutdown.
    for _ in 0..2 {
        let failed = http
            .post(format!("{origin}/api/login"))
            .header("origin", &origin)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("method=userpass&mount=userpass&username=alice&secret=wrong")
            .send()
            .await
            .unwrap();
        assert!(failed.status().is_client_error(), "{}", failed.status());
    }

    relay.hold();
    let save = tokio::spawn({
        let (http, origin, cookie) = (http.clone(), origin.clone(), cookie.clone());
        async move {
            let body = json!({"secret": {"mount": "dev", "path": "webapp/config"}, "base_version": 1,
                "changes": {"set": {"NEW_KEY": "v"}, "remove": [], "rename": []}});
            let r = http
                .post(format!("{origin}/api/save"))
                .header("origin", &origin)
                .header("cookie", cookie)
                .header("accept", "application/json")
                .json(&body)
                .send()
                .await
                .unwrap();
            let id = r.headers()["x-request-id"].to_str().unwrap().to_owned();
            (r.status(), id, r.text().await.unwrap())
        }
    });
    // The write has reached the relay: the intent row is in the database, Vault has not answered.
    eventually(
        "the save's kv write is held",
        Duration::from_secs(30),
        async || relay.held.load(Ordering::SeqCst).then_some(()),
    )
    .await;
    let pid = child.id().unwrap().to_string();
    // The shell's own `kill`: no procps needed on a bare machine.
    let killed = tokio::process::Command::new("sh")
        .args(["-c", &format!("kill -TERM {pid}")])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    eventually(
        "keyway logs that it is shutting down",
        Duration::from_secs(30),
        async || {
            log.lock()
                .unwrap()
                .iter()
                .any(|l| l.contains("shutting down"))
                .then_some(())
        },
    )
    .await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "keyway waits for the save in flight"
    );
    relay.release();

    let (status, request_id, body) = save.await.unwrap();
    assert_eq!(status, 200, "{body}");
    let exit = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("keyway exits once the save is answered")
        .unwrap();
    assert!(
        exit.success(),
        "{exit:?}\n{}",
        log.lock().unwrap().join("\n")
    );

    let db = keyway_store::Db::connect(&db_url).await.unwrap();
    let audit = keyway_store::AuditLog::new(db);
    assert!(audit.pending_intents().await.unwrap().is_empty());
    let rows = audit.list(keyway_store::Filter::default()).await.unwrap();
    let saves: Vec<_> = rows.iter().filter(|r| r.action == "secret.save").collect();
    assert_eq!(saves.len(), 2, "an intent and its outcome: {saves:?}");
    assert!(saves
        .iter()
        .all(|r| r.request_id.as_deref() == Some(request_id.as_str())));
    assert!(saves
        .iter()
        .any(|r| r.outcome == keyway_store::Outcome::Ok && r.version_after == Some(2)));
    assert_eq!(
        bao.root_request("GET", "dev/data/webapp/config", None)
            .await["data"]["data"]["NEW_KEY"],
        "v"
    );
    // The repeated refusal's count was written on the way out.
    let failed: Vec<_> = rows.iter().filter(|r| r.action == "login_failed").collect();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed.iter().any(|r| r
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("and 1 more time"))),
        "{failed:?}"
    );
    // On the way out, after the requests: the chain head covering every row, for a later
    // `keyway audit verify --head`.
    let head = audit.head().await.unwrap().unwrap();
    let out = log.lock().unwrap().clone();
    let drained = out
        .iter()
        .position(|l| l.contains("in-flight requests finished"));
    let last_head = out
        .iter()
        .rposition(|l| l.contains(&format!("audit chain head {}:{}", head.seq, head.hash)));
    assert!(drained.is_some() && last_head > drained, "{out:?}");

    // Every line logged inside a request names it: the save's lines carry its id.
    let lines: Vec<Value> = log
        .lock()
        .unwrap()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let in_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["span"]["name"] == "request")
        .collect();
    assert!(!in_request.is_empty(), "no request lines in {lines:?}");
    for line in &in_request {
        assert!(
            line["span"]["request_id"]
                .as_str()
                .is_some_and(|id| id.len() == 36),
            "{line}"
        );
    }
    assert!(
        in_request
            .iter()
            .any(|l| l["span"]["request_id"] == request_id.as_str()
                && l["fields"]["message"] == "finished"
                && l["fields"]["status"] == 200),
        "the save's own line, with its id {request_id}: {in_request:?}"
    );
}
