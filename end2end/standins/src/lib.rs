//! Stand-ins for two cluster add-ons Keyway reads but does not ship: the Vault Secrets Operator
//! (VSO, BUSL-licensed, so neither built nor run here) and Stakater Reloader (not served by the Go
//! module proxy this project may use: every version of `github.com/stakater/Reloader` answers
//! 403). They exist so the demo and the cluster tests see the same Kubernetes objects, status
//! fields and events the real add-ons produce, from a real kube-apiserver and a real OpenBao.
//!
//! Each module's doc lists what it copies from the real program and what it leaves out.
//! Production clusters run the real VSO and Reloader; nothing here is deployed.

pub mod reloader;
pub mod vso;

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Secret values are never logged:
/// only object names, versions and Vault error texts.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

/// RFC 3339 "now" in seconds precision, the way Go's `time.Now().Format(time.RFC3339)` writes it
/// (VSO's and kubectl's `restartedAt` annotations).
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
