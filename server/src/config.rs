//! Keyway's configuration: one typed struct, read once at boot from flags or environment.
//!
//! Boot fails fast on a bad value. Outside dev mode the session key is required and is never
//! generated at boot: a generated key would log everyone out on each deploy and break a second
//! replica. Every variable is documented in the README with its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use url::Url;

/// A fixed, public key used only in dev mode, so a local restart keeps sessions. Never secure.
const DEV_SESSION_KEY: &str = "6b657977617920646576206b6579202d206e6f7420666f722070726f64756374";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where `/metrics` is served (`KEYWAY_METRICS_LISTEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsListen {
    Off,
    At(SocketAddr),
}

impl std::str::FromStr for MetricsListen {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim().eq_ignore_ascii_case("off") {
            return Ok(MetricsListen::Off);
        }
        s.trim()
            .parse()
            .map(MetricsListen::At)
            .map_err(|_| format!("\"{s}\" is neither ADDRESS:PORT (such as 0.0.0.0:9090) nor off"))
    }
}

/// Whether Keyway reads the cluster (sync status, running pods, restart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClusterMode {
    /// Connect when a cluster is found: in-cluster service account, or $KUBECONFIG /
    /// ~/.kube/config; otherwise run without the cluster side.
    Auto,
    /// Never connect: the secrets editor only.
    Off,
}

/// What `keyway` does besides serving (serving is what it does with no command).
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Bring the database schema up to date, then exit. Run it as the role that owns the schema
    /// (KEYWAY_DATABASE_MIGRATE_URL) when Keyway serves as a role that owns nothing.
    Migrate,
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Recompute every row's hash and link, read-only. Exit status 0 when the chain is whole,
    /// 1 when it is not (the first bad row is printed), 2 when the log cannot be read.
    Verify {
        /// A chain head published earlier (SEQ:HASH, as Keyway logs it at start and every 10
        /// minutes): the row at SEQ must still carry HASH. Shows rows cut off the end and a
        /// rewritten log. Repeatable.
        #[arg(long = "head", value_name = "SEQ:HASH")]
        heads: Vec<keyway_store::Checkpoint>,
    },
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "keyway",
    version,
    about = "Keyway: edit your app's secrets, see them go live."
)]
pub struct Config {
    /// Address and port to listen on.
    #[arg(long, env = "KEYWAY_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    /// The URL users open (scheme, host, port). Requests whose Origin differs are refused, and
    /// cookies are marked Secure when it is https. Defaults to http://<listen>.
    #[arg(long, env = "KEYWAY_PUBLIC_URL")]
    pub public_url: Option<Url>,
    /// Vault or OpenBao address; or the addresses of one cluster's nodes, comma-separated,
    /// tried in order when one refuses the connection or has no active node.
    #[arg(
        long,
        env = "KEYWAY_VAULT_ADDR",
        default_value = "http://127.0.0.1:8200"
    )]
    pub vault_addr: keyway_vault::VaultAddrs,
    /// PEM file of the CA that signed Vault's certificate (a private CA).
    #[arg(long, env = "KEYWAY_VAULT_CACERT")]
    pub vault_cacert: Option<PathBuf>,
    /// PEM client certificate, when Vault asks for one.
    #[arg(long, env = "KEYWAY_VAULT_CLIENT_CERT", requires = "vault_client_key")]
    pub vault_client_cert: Option<PathBuf>,
    /// PEM private key of the client certificate.
    #[arg(long, env = "KEYWAY_VAULT_CLIENT_KEY", requires = "vault_client_cert")]
    pub vault_client_key: Option<PathBuf>,
    /// Seconds to wait for Vault before telling the user it cannot be reached.
    #[arg(long, env = "KEYWAY_VAULT_TIMEOUT_SECS", default_value_t = 10)]
    pub vault_timeout_secs: u64,
    /// How many Vault requests Keyway has open at once, over all users; more wait their turn.
    #[arg(long, env = "KEYWAY_VAULT_MAX_IN_FLIGHT", default_value_t = keyway_vault::MAX_IN_FLIGHT,
          value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..), usize::from))]
    pub vault_max_in_flight: usize,
    /// Database for sessions and the audit log: sqlite://FILE?mode=rwc or postgres://…
    #[arg(
        long,
        env = "KEYWAY_DATABASE_URL",
        default_value = "sqlite://keyway.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// Database URL of the role that owns the schema, used only by `keyway migrate` (default:
    /// KEYWAY_DATABASE_URL). Give it to the migrate step, not to the server, so that the server's
    /// own role can own nothing (deploy/postgres-grants.sql).
    #[arg(
        long,
        env = "KEYWAY_DATABASE_MIGRATE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_migrate_url: Option<String>,
    /// 32 bytes as 64 hex characters; encrypts Vault tokens in the session store. Required
    /// unless KEYWAY_DEV is true. All replicas must share it.
    #[arg(long, env = "KEYWAY_SESSION_KEY", hide_env_values = true)]
    pub session_key: Option<String>,
    /// Minutes of inactivity after which a session ends (it also ends when the Vault token
    /// expires).
    #[arg(long, env = "KEYWAY_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: u32,
    /// Hours after login at which a session ends however active it is (and its Vault token is
    /// revoked, unless the user pasted it).
    #[arg(long, env = "KEYWAY_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u32,
    /// Dev mode: a fixed, public session key when none is given, and relaxed cookie rules.
    #[arg(long, env = "KEYWAY_DEV", default_value_t = false)]
    pub dev: bool,
    /// Where the built site (pkg/ with wasm, js and css) is.
    #[arg(long, env = "KEYWAY_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Comma-separated addresses or CIDR ranges of proxies (Ingress, load balancer) whose
    /// X-Forwarded-For header is believed for the client address in the audit log.
    #[arg(long, env = "KEYWAY_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,
    /// Login attempts a minute from one client address (the address behind a trusted proxy)
    /// before Keyway answers 429. Raise it when many people share one address that is not a
    /// trusted proxy (an office NAT).
    #[arg(long, env = "KEYWAY_LOGIN_LIMIT_PER_ADDRESS", default_value_t = 20)]
    pub login_limit_per_address: u32,
    /// The role each OIDC auth mount's "Sign in with" button asks Vault for, as
    /// `mount=role,…`; a mount not named uses its own `default_role`.
    #[arg(
        long,
        env = "KEYWAY_OIDC_ROLES",
        value_name = "MOUNT=ROLE,…",
        default_value = ""
    )]
    pub oidc_roles: String,
    /// Where `/metrics` (Prometheus) is served, apart from the main listener so that only
    /// Prometheus need reach it: ADDRESS:PORT, or `off`.
    #[arg(long, env = "KEYWAY_METRICS_LISTEN", default_value = "127.0.0.1:9090")]
    pub metrics_listen: MetricsListen,
    /// Log format: text for people, json for log pipelines.
    #[arg(long, env = "KEYWAY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// The cluster side: auto (connect when a cluster is found) or off. Keyway's own Kubernetes
    /// account needs the permissions in deploy/base/rbac.yaml.
    #[arg(long, env = "KEYWAY_CLUSTER", value_enum, default_value_t = ClusterMode::Auto)]
    pub cluster: ClusterMode,
    /// A kubeconfig file for Keyway's own Kubernetes account (instead of the in-cluster account
    /// or $KUBECONFIG).
    #[arg(long, env = "KEYWAY_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// The namespaces Keyway serves, comma-separated (dev,payments): it watches and acts only
    /// there, with a Role in each (deploy/base/rbac.yaml). Unset: the whole cluster, which needs the
    /// cluster-wide grant of deploy/rbac-cluster-wide.yaml.
    #[arg(long, env = "KEYWAY_NAMESPACES", value_name = "NS,NS")]
    pub namespaces: Option<keyway_k8s::scope::NamespaceList>,
    /// Where each environment's secrets live in Vault, for the platform pages' policies:
    /// `payments=dev/payments,dev=dev` (environment=mount or environment=mount/folder). An
    /// environment not listed uses the kv-v2 mount named like it, all of it.
    #[arg(
        long,
        env = "KEYWAY_ENVIRONMENT_KV",
        value_name = "ENV=MOUNT[/FOLDER],…",
        default_value = ""
    )]
    pub environment_kv: crate::homes::Homes,
    /// The kubernetes auth mount the Vault Secrets Operator logs in with: onboarding writes each
    /// new app's login role under `auth/<mount>/role/`.
    #[arg(long, env = "KEYWAY_KUBE_AUTH_MOUNT", default_value = "kubernetes")]
    pub kube_auth_mount: String,
    /// The Vault transit key (MOUNT/KEY, type ed25519) that signs the audit checkpoints, e.g.
    /// transit/keyway-audit. With KEYWAY_AUDIT_CHECKPOINT_KV and _TOKEN_FILE it turns signed
    /// checkpoints on; without all three they are off.
    #[arg(
        long,
        env = "KEYWAY_AUDIT_CHECKPOINT_KEY",
        value_name = "MOUNT/KEY",
        global = true
    )]
    pub audit_checkpoint_key: Option<crate::checkpoint::TransitKeyRef>,
    /// The kv-v2 secret (MOUNT/PATH) whose versions hold the signed checkpoints, e.g.
    /// keyway-audit/checkpoints; each version keeps one under the key `checkpoint`.
    #[arg(
        long,
        env = "KEYWAY_AUDIT_CHECKPOINT_KV",
        value_name = "MOUNT/PATH",
        global = true
    )]
    pub audit_checkpoint_kv: Option<crate::checkpoint::KvSecretRef>,
    /// A file holding Keyway's own Vault token for the checkpoints (sign with the key, write and
    /// read the secret); read again at each checkpoint, so it can be rotated in place.
    #[arg(long, env = "KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE", global = true)]
    pub audit_checkpoint_token_file: Option<PathBuf>,
    /// The log's name: the first line of every checkpoint, and its signature's key name.
    #[arg(
        long,
        env = "KEYWAY_AUDIT_CHECKPOINT_ORIGIN",
        default_value = crate::checkpoint::DEFAULT_ORIGIN,
        global = true
    )]
    pub audit_checkpoint_origin: crate::checkpoint::note::Origin,
    /// Sign a checkpoint once the chain has grown by this many rows...
    #[arg(
        long,
        env = "KEYWAY_AUDIT_CHECKPOINT_EVERY_ROWS",
        default_value_t = 1000,
        global = true
    )]
    pub audit_checkpoint_every_rows: u64,
    /// ...or this many minutes after the last one, if it grew at all.
    #[arg(
        long,
        env = "KEYWAY_AUDIT_CHECKPOINT_EVERY_MINUTES",
        default_value_t = 10,
        global = true
    )]
    pub audit_checkpoint_every_minutes: u32,
    /// Ed25519 public keys (base64, comma-separated, as transit shows them) that alone may sign
    /// a checkpoint; unset: every version of the transit key.
    #[arg(long, env = "KEYWAY_AUDIT_CHECKPOINT_PUBLIC_KEY", global = true)]
    pub audit_checkpoint_public_key: Option<crate::checkpoint::PinnedKeys>,
    /// A command instead of serving.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Settings derived and checked once at boot.
#[derive(Clone)]
pub struct Checked {
    pub session_key: [u8; 32],
    pub public_origin: String,
    pub secure_cookies: bool,
    /// Served over https: answers carry HSTS.
    pub https: bool,
    /// The session cookie's name: `__Host-` prefixed outside dev mode, so that it is Secure,
    /// host-only and for the whole site, and no subdomain can set one in its place.
    pub cookie_name: &'static str,
    pub idle: Duration,
    pub max_lifetime: Duration,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Signed audit checkpoints, when the settings turn them on.
    pub checkpoints: Option<crate::checkpoint::CheckpointSettings>,
}

impl Config {
    pub fn check(&self) -> Result<Checked, String> {
        let auth_mount = self.kube_auth_mount.trim_matches('/');
        if auth_mount.is_empty()
            || auth_mount.len() > 128
            || !auth_mount.split('/').all(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            })
        {
            return Err("KEYWAY_KUBE_AUTH_MOUNT must be an auth mount path such as kubernetes or clusters/dev (letters, digits, '-', '_', '.').".into());
        }
        let key_hex = match (&self.session_key, self.dev) {
            (Some(k), _) => k.trim().to_string(),
            (None, true) => DEV_SESSION_KEY.to_string(),
            (None, false) => {
                return Err("KEYWAY_SESSION_KEY is required outside dev mode: 64 hex characters (for example from `openssl rand -hex 32`), the same on every replica.".into())
            }
        };
        let bytes = hex::decode(&key_hex)
            .map_err(|_| "KEYWAY_SESSION_KEY must be 64 hex characters.".to_string())?;
        let session_key: [u8; 32] = bytes.try_into().map_err(|_| {
            "KEYWAY_SESSION_KEY must be exactly 32 bytes (64 hex characters).".to_string()
        })?;
        let public = match &self.public_url {
            Some(u) => u.clone(),
            None => Url::parse(&format!("http://{}", self.listen))
                .map_err(|e| format!("cannot derive KEYWAY_PUBLIC_URL from KEYWAY_LISTEN: {e}"))?,
        };
        let public_origin = public.origin().ascii_serialization();
        // Secure outside dev mode (browsers accept Secure cookies on http://localhost too).
        let secure_cookies = public.scheme() == "https" || !self.dev;
        if public.scheme() != "https" && !self.dev && !is_loopback(&public) {
            return Err(format!(
                "KEYWAY_PUBLIC_URL is {public}, plain http on a non-local host: session cookies would travel unencrypted. Serve Keyway over https, or set KEYWAY_DEV=true for a local trial."
            ));
        }
        if self.login_limit_per_address == 0 {
            return Err("KEYWAY_LOGIN_LIMIT_PER_ADDRESS must be at least 1.".into());
        }
        if self.session_idle_minutes == 0 {
            return Err("KEYWAY_SESSION_IDLE_MINUTES must be at least 1.".into());
        }
        if self.session_max_hours == 0 {
            return Err("KEYWAY_SESSION_MAX_HOURS must be at least 1.".into());
        }
        let checkpoints = self.checkpoint_settings().for_server()?;
        let trusted_proxies = crate::client_addr::parse_trusted(&self.trusted_proxies)?;
        Ok(Checked {
            checkpoints,
            trusted_proxies,
            session_key,
            public_origin,
            secure_cookies,
            https: public.scheme() == "https",
            cookie_name: if self.dev {
                "keyway_session"
            } else {
                "__Host-keyway_session"
            },
            idle: Duration::from_secs(u64::from(self.session_idle_minutes) * 60),
            max_lifetime: Duration::from_secs(u64::from(self.session_max_hours) * 3600),
        })
    }
}

impl Config {
    /// How to reach Vault, from the KEYWAY_VAULT_* settings.
    pub fn vault_config(&self) -> keyway_vault::VaultConfig {
        let mut vault = keyway_vault::VaultConfig::new(self.vault_addr.first().clone());
        vault.more_addrs = self.vault_addr.rest().to_vec();
        vault.ca_cert = self.vault_cacert.clone();
        vault.client_cert = self.vault_client_cert.clone();
        vault.client_key = self.vault_client_key.clone();
        vault.timeout = Duration::from_secs(self.vault_timeout_secs);
        vault.max_in_flight = self.vault_max_in_flight;
        vault
    }

    /// The KEYWAY_AUDIT_CHECKPOINT_* settings, to be checked for the server or for a command.
    pub fn checkpoint_settings(&self) -> crate::checkpoint::settings::Raw<'_> {
        crate::checkpoint::settings::Raw {
            key: self.audit_checkpoint_key.as_ref(),
            kv: self.audit_checkpoint_kv.as_ref(),
            token_file: self.audit_checkpoint_token_file.as_ref(),
            origin: &self.audit_checkpoint_origin,
            every_rows: self.audit_checkpoint_every_rows,
            every_minutes: self.audit_checkpoint_every_minutes,
            pinned: self.audit_checkpoint_public_key.as_ref(),
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    matches!(
        url.host_str(),
        Some("127.0.0.1") | Some("localhost") | Some("[::1]")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["keyway"];
        all.extend_from_slice(args);
        Config::try_parse_from(all).unwrap()
    }

    #[test]
    fn the_session_key_is_required_outside_dev_mode() {
        let err = parse(&[]).check().err().unwrap();
        assert!(err.contains("KEYWAY_SESSION_KEY is required"), "{err}");
        assert!(parse(&["--dev"]).check().is_ok());
    }

    #[test]
    fn the_commands_parse_without_a_session_key_and_take_the_database_flags_after_them() {
        let head = format!("7:{}", "ab".repeat(32));
        let cfg = parse(&[
            "audit",
            "verify",
            "--head",
            &head,
            "--database-url",
            "sqlite:x.db",
        ]);
        assert_eq!(cfg.database_url, "sqlite:x.db");
        let Some(Command::Audit(AuditCommand::Verify { heads })) = cfg.command else {
            panic!("not audit verify")
        };
        assert_eq!(heads[0].to_string(), head);
        let cfg = parse(&["migrate", "--database-migrate-url", "postgres://owner@db/k"]);
        assert!(matches!(cfg.command, Some(Command::Migrate)));
        assert_eq!(
            cfg.database_migrate_url.as_deref(),
            Some("postgres://owner@db/k")
        );
        let bad = Config::try_parse_from(["keyway", "audit", "verify", "--head", "7"]);
        assert!(bad.unwrap_err().to_string().contains("SEQ:HASH"));
    }

    #[test]
    fn namespaces_are_a_checked_list_and_unset_means_the_whole_cluster() {
        use keyway_k8s::scope::Scope;
        assert_eq!(
            Scope::from(parse(&["--dev"]).namespaces),
            Scope::ClusterWide
        );
        let cfg = parse(&["--dev", "--namespaces", "dev, payments,staging"]);
        let scope = Scope::from(cfg.namespaces);
        assert_eq!(scope.to_string(), "namespaces dev,payments,staging");
        assert!(scope.serves("payments") && !scope.serves("kube-system"));
        for (bad, says) in [
            ("dev,Payments", "\"Payments\" is not a valid namespace name"),
            ("dev,dev", "named twice"),
            (",", "names no namespace"),
            (&"x".repeat(64), "Kubernetes allows at most 63"),
        ] {
            let err = Config::try_parse_from(["keyway", "--namespaces", bad])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(says) && err.contains("--namespaces"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn metrics_listen_is_an_address_or_off() {
        let default: SocketAddr = "127.0.0.1:9090".parse().unwrap();
        assert_eq!(parse(&[]).metrics_listen, MetricsListen::At(default));
        let off = parse(&["--metrics-listen", "off"]).metrics_listen;
        assert_eq!(off, MetricsListen::Off);
        let err = Config::try_parse_from(["keyway", "--metrics-listen", "9090"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("neither ADDRESS:PORT"), "{err}");
    }

    #[test]
    fn a_malformed_session_key_is_refused() {
        assert!(parse(&["--session-key", "abc"]).check().is_err());
        assert!(parse(&["--session-key", &"zz".repeat(32)]).check().is_err());
        assert!(parse(&["--session-key", &"ab".repeat(32)]).check().is_ok());
    }

    #[test]
    fn plain_http_on_a_public_host_is_refused_outside_dev_mode() {
        let key = "ab".repeat(32);
        let err = parse(&[
            "--session-key",
            &key,
            "--public-url",
            "http://keyway.example.com",
        ])
        .check()
        .err()
        .unwrap();
        assert!(err.contains("https"), "{err}");
        let ok = parse(&[
            "--session-key",
            &key,
            "--public-url",
            "https://keyway.example.com",
        ])
        .check()
        .unwrap();
        assert!(ok.secure_cookies);
        assert!(ok.https);
        assert_eq!(ok.cookie_name, "__Host-keyway_session");
        assert_eq!(ok.max_lifetime, Duration::from_secs(12 * 3600));
        assert_eq!(ok.public_origin, "https://keyway.example.com");
        let dev = parse(&["--dev", "--public-url", "http://keyway.example.com"])
            .check()
            .unwrap();
        assert!(
            !dev.secure_cookies,
            "dev mode over plain http needs a non-Secure cookie"
        );
        assert!(!dev.https);
        assert_eq!(
            dev.cookie_name, "keyway_session",
            "__Host- needs Secure, which plain http cannot carry"
        );
    }
}
