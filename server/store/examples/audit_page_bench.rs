//! The audit page's queries on a large log (issue 11): builds (or reuses) a log of N realistic
//! rows, then times the page's filtered first pages and a deep keyset page, and a full verify.
//! Run by `end2end/bench/audit`; prints figures and ratios to the 50 ms aim, gates nothing.
//!
//! ```text
//! cargo run --release -p keyway-store --features bench --example audit_page_bench -- \
//!     --rows 1000000 --sqlite .keyway/bench/audit/audit.db [--postgres postgres://…/db]
//! ```
//!
//! The log is the same on every run (a seeded generator, times fixed over the 90 days before
//! 2026-04-01), so a database holding fewer rows is topped up and one holding them all is reused.
//! Rows are loaded with `audit::bulk` (hashed and chained in memory, thousands to a transaction),
//! not appended one by one. "The last 24 h" is the 24 h before the newest row.

use std::time::{Duration, Instant};

use keyway_store::audit::bulk::{explain, load, Generated};
use keyway_store::{Action, AuditLog, Db, Filter, NewEvent, Outcome, Reach};
use time::OffsetDateTime;

/// The page's aim for one query, at the median.
const AIM: Duration = Duration::from_millis(50);
/// Timed runs per query, after a few warm-up runs.
const RUNS: usize = 60;
const WARMUP: usize = 3;
const DAYS: i64 = 90;

#[tokio::main]
async fn main() {
    let mut rows: i64 = 1_000_000;
    let (mut sqlite, mut postgres) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().expect("a value after the flag");
        match arg.as_str() {
            "--rows" => rows = value().parse().expect("--rows takes a number"),
            "--sqlite" => sqlite = Some(value()),
            "--postgres" => postgres = Some(value()),
            other => panic!("unknown argument {other}"),
        }
    }
    if let Some(path) = sqlite {
        bench("sqlite", &format!("sqlite://{path}?mode=rwc"), rows).await;
    }
    if let Some(url) = postgres {
        bench("postgres", &url, rows).await;
    }
}

async fn bench(label: &str, url: &str, rows: i64) {
    let db = Db::connect(url).await.expect("the database opens");
    let log = AuditLog::new(db.clone());
    let have = log.head().await.unwrap().map_or(0, |h| h.seq);
    if have > rows {
        panic!("{label}: the database holds {have} rows, more than {rows}: remove it first");
    }
    if have < rows {
        let started = Instant::now();
        let world = World::new();
        let tip = load(&db, world.rows(rows).skip(have as usize))
            .await
            .unwrap();
        assert_eq!(tip, rows);
        println!(
            "{label}: loaded rows {}..{rows} in {:.1} s",
            have + 1,
            started.elapsed().as_secs_f64()
        );
        if let Some(pool) = db.postgres() {
            // What autovacuum does on its own after a load this size: statistics, visibility map.
            sqlx::query("VACUUM (ANALYZE) audit_log")
                .execute(pool)
                .await
                .unwrap();
            sqlx::query("VACUUM (ANALYZE) audit_key")
                .execute(pool)
                .await
                .unwrap();
        }
    } else {
        println!("{label}: reusing the {rows} rows already there");
    }

    let newest = log.list(Filter::default()).await.unwrap().remove(0);
    let tip_at =
        OffsetDateTime::parse(&newest.at, &time::format_description::well_known::Rfc3339).unwrap();
    let day = Some(tip_at - time::Duration::DAY);
    let reach = Reach {
        environments: vec!["team-a-dev".into(), "team-a-staging".into()],
        mounts: vec!["shared".into()],
        everything_else: false,
        own_entity: Some(entity_of("dev-07")),
    };
    let cases: Vec<(&str, Filter)> = vec![
        (
            "last 24 h (the default)",
            Filter {
                since: day,
                ..Filter::default()
            },
        ),
        (
            "last 24 h, by actor",
            Filter {
                since: day,
                actor: Some("dev-07".into()),
                ..Filter::default()
            },
        ),
        (
            "by actor, all time",
            Filter {
                actor: Some("dev-07".into()),
                ..Filter::default()
            },
        ),
        (
            "last 24 h, environment + app",
            Filter {
                since: day,
                environment: Some("team-b-prod".into()),
                app: Some("billing".into()),
                ..Filter::default()
            },
        ),
        (
            "environment + app, all time",
            Filter {
                environment: Some("team-b-prod".into()),
                app: Some("billing".into()),
                ..Filter::default()
            },
        ),
        (
            "key name (common), all time",
            Filter {
                key: Some("DB_PASSWORD".into()),
                ..Filter::default()
            },
        ),
        (
            "key name (rare), all time",
            Filter {
                key: Some("BILLING_WEBHOOK_SECRET".into()),
                ..Filter::default()
            },
        ),
        (
            "3 actions + outcome, 24 h",
            Filter {
                since: day,
                actions: vec![
                    Action::SecretSave,
                    Action::SecretRollback,
                    Action::SecretDelete,
                ],
                outcomes: vec![Outcome::Denied],
                ..Filter::default()
            },
        ),
        (
            "3 actions + outcome, all time",
            Filter {
                actions: vec![
                    Action::SecretSave,
                    Action::SecretRollback,
                    Action::SecretDelete,
                ],
                outcomes: vec![Outcome::Denied],
                ..Filter::default()
            },
        ),
        (
            "deep page (keyset), all time",
            Filter {
                before_seq: Some(rows / 2),
                ..Filter::default()
            },
        ),
        (
            "deep page, by actor",
            Filter {
                before_seq: Some(rows / 2),
                actor: Some("dev-07".into()),
                ..Filter::default()
            },
        ),
        (
            "a range last month (1 day)",
            Filter {
                since: Some(tip_at - time::Duration::days(31)),
                until: Some(tip_at - time::Duration::days(30)),
                ..Filter::default()
            },
        ),
        (
            "developer's reach, 24 h",
            Filter {
                since: day,
                reach: Some(reach.clone()),
                ..Filter::default()
            },
        ),
        (
            "developer's reach, all time",
            Filter {
                reach: Some(reach.clone()),
                ..Filter::default()
            },
        ),
        (
            "reach + actions, all time",
            Filter {
                reach: Some(reach),
                actions: vec![Action::SecretSave, Action::Restart],
                ..Filter::default()
            },
        ),
    ];
    println!("{label}: {RUNS} runs each, first page of 100 rows (aim: p50 <= 50 ms)");
    for (name, filter) in &cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut found = 0;
        for run in 0..WARMUP + RUNS {
            let started = Instant::now();
            found = log.list(filter.clone()).await.unwrap().len();
            if run >= WARMUP {
                times.push(started.elapsed());
            }
        }
        times.sort();
        let p50 = times[times.len() / 2];
        let p99 = times[(times.len() * 99).div_ceil(100) - 1];
        println!(
            "{label}: {name:<30} {found:>4} rows  p50 {:7.2} ms  p99 {:7.2} ms  ({:.2}x the aim)",
            ms(p50),
            ms(p99),
            p50.as_secs_f64() / AIM.as_secs_f64()
        );
        if std::env::var_os("KEYWAY_BENCH_PLANS").is_some() {
            let plan = explain(&db, filter).await.unwrap();
            for line in plan {
                println!("{label}:     | {line}");
            }
        }
    }
    let started = Instant::now();
    let report = log.verify_chain().await.unwrap();
    assert!(report.ok, "{report:?}");
    println!(
        "{label}: full verify of {} rows: {:.1} s",
        report.rows,
        started.elapsed().as_secs_f64()
    );
    db.close().await;
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn entity_of(actor: &str) -> String {
    format!("entity-{actor}")
}

/// SplitMix64: small, seeded, the same sequence everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Skewed towards the front of 0..n: a few busy actors, apps, keys, many quiet ones.
    fn skewed(&mut self, n: usize) -> usize {
        let a = self.below(n);
        let b = self.below(n);
        a.min(b)
    }

    fn chance(&mut self, per_thousand: u64) -> bool {
        self.next() % 1000 < per_thousand
    }
}

/// Who, where and what the generated log is about.
struct World {
    actors: Vec<String>,
    environments: Vec<String>,
    apps: Vec<&'static str>,
    keys: Vec<String>,
}

const APPS: [&str; 30] = [
    "webapp",
    "api",
    "billing",
    "worker",
    "search",
    "auth",
    "notifier",
    "reports",
    "gateway",
    "scheduler",
    "payments",
    "inventory",
    "catalog",
    "checkout",
    "mailer",
    "ledger",
    "profile",
    "media",
    "feeds",
    "analytics",
    "chat",
    "admin",
    "exporter",
    "importer",
    "cache",
    "pricing",
    "shipping",
    "tax",
    "support",
    "audit",
];

const KEYS: [&str; 24] = [
    "DB_PASSWORD",
    "DB_URL",
    "API_KEY",
    "REDIS_URL",
    "SENTRY_DSN",
    "JWT_SECRET",
    "SMTP_PASSWORD",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "STRIPE_KEY",
    "OAUTH_CLIENT_SECRET",
    "SESSION_KEY",
    "ENCRYPTION_KEY",
    "S3_BUCKET",
    "LOG_LEVEL",
    "FEATURE_FLAGS",
    "GITHUB_TOKEN",
    "SLACK_WEBHOOK",
    "DATADOG_API_KEY",
    "KAFKA_PASSWORD",
    "RABBITMQ_URL",
    "ELASTIC_PASSWORD",
    "LICENSE_KEY",
    "BILLING_WEBHOOK_SECRET",
];

impl World {
    fn new() -> World {
        let mut actors: Vec<String> = (0..40).map(|i| format!("dev-{i:02}")).collect();
        actors.extend((0..5).map(|i| format!("platform-{i}")));
        actors.extend(["ci-bot", "release-bot"].map(String::from));
        let mut environments = Vec::new();
        for team in ["team-a", "team-b", "team-c", "team-d"] {
            for stage in ["dev", "staging", "prod"] {
                environments.push(format!("{team}-{stage}"));
            }
        }
        World {
            actors,
            environments,
            apps: APPS.to_vec(),
            keys: KEYS.map(String::from).to_vec(),
        }
    }

    /// `n` rows, oldest first, spread evenly over the `DAYS` days before 2026-04-01.
    fn rows(self, n: i64) -> impl Iterator<Item = Generated> {
        let end = OffsetDateTime::from_unix_timestamp(1_775_001_600).unwrap(); // 2026-04-01
        let span_ms = DAYS * 86_400_000;
        let start = end - time::Duration::milliseconds(span_ms);
        let mut rng = Rng(0x6b65_7977_6179);
        let mut seq = 0i64;
        let mut queued: Vec<Generated> = Vec::new();
        std::iter::from_fn(move || {
            if queued.is_empty() {
                queued = self.action(&mut rng, seq);
                queued.reverse();
            }
            let mut row = queued.pop()?;
            seq += 1;
            row.at = start + time::Duration::milliseconds(span_ms * seq / n);
            Some(row)
        })
        .take(n as usize)
    }

    /// One action: one row, or an intent and its outcome (the intent at `seq + 1`).
    fn action(&self, rng: &mut Rng, seq: i64) -> Vec<Generated> {
        let actor = &self.actors[rng.skewed(self.actors.len())];
        let env = &self.environments[rng.skewed(self.environments.len())];
        let app = self.apps[rng.skewed(self.apps.len())];
        let base = NewEvent::new(actor.clone(), Action::Login)
            .entity(entity_of(actor))
            .request(
                format!("req-{seq}"),
                format!("10.0.{}.{}", rng.below(8), rng.below(250)),
            );
        let on_app = |action: Action| NewEvent {
            action,
            ..base
                .clone()
                .environment(env.clone())
                .app(app)
                .secret(env.clone(), format!("{app}/config"))
        };
        let outcome = |rng: &mut Rng| match rng.below(100) {
            0..=89 => Outcome::Ok,
            90..=94 => Outcome::Denied,
            95..=97 => Outcome::Conflict,
            _ => Outcome::Error,
        };
        let keys = |rng: &mut Rng| -> Vec<String> {
            let mut k: Vec<String> = (0..1 + rng.below(3))
                .map(|_| self.keys[rng.skewed(self.keys.len())].clone())
                .collect();
            if app == "billing" && rng.chance(20) {
                k.push("BILLING_WEBHOOK_SECRET".into());
            }
            k
        };
        let one = |event: NewEvent, outcome: Outcome| Generated {
            event: event.outcome(outcome),
            outcome,
            at: OffsetDateTime::UNIX_EPOCH,
            intent_seq: None,
            vault_request_id: None,
        };
        let two = |rng: &mut Rng, event: NewEvent| {
            let done = outcome(rng);
            let intent = one(event.clone(), Outcome::Pending);
            if rng.chance(1) {
                return vec![intent]; // Keyway stopped in between
            }
            let mut finished = one(event, done);
            finished.intent_seq = Some(seq + 1);
            finished.vault_request_id = Some(format!("vault-{seq:x}"));
            vec![intent, finished]
        };
        match rng.below(1000) {
            0..=79 => vec![one(base.clone(), Outcome::Ok)],
            80..=89 => vec![one(
                NewEvent {
                    action: Action::LoginFailed,
                    ..base.clone()
                }
                .entity(""),
                Outcome::Denied,
            )],
            90..=139 => vec![one(
                NewEvent {
                    action: Action::Logout,
                    ..base.clone()
                },
                Outcome::Ok,
            )],
            140..=449 => {
                let names = keys(rng).join(", ");
                let event = on_app(Action::SecretReveal).detail(format!("shown: {names}"));
                vec![one(
                    event,
                    if rng.chance(30) {
                        Outcome::Denied
                    } else {
                        Outcome::Ok
                    },
                )]
            }
            450..=469 => vec![one(on_app(Action::SecretExport), Outcome::Ok)],
            470..=749 => {
                let (added, changed, removed) = (keys(rng), keys(rng), Vec::<String>::new());
                let v = 1 + rng.below(40) as i64;
                two(
                    rng,
                    on_app(Action::SecretSave)
                        .keys(added, changed, removed)
                        .versions(Some(v), Some(v + 1)),
                )
            }
            750..=759 => {
                let changed = keys(rng);
                let event = on_app(Action::SecretRollback).keys(
                    Vec::<String>::new(),
                    changed,
                    Vec::<String>::new(),
                );
                two(rng, event)
            }
            760..=764 => two(rng, on_app(Action::SecretDelete)),
            765..=766 => two(rng, on_app(Action::SecretUndelete)),
            767..=829 => vec![one(on_app(Action::SyncNow), Outcome::Ok)],
            830..=959 => two(rng, on_app(Action::Restart)),
            960..=979 => {
                // Secrets in a shared mount no environment's home holds.
                let event = NewEvent {
                    action: Action::SecretReveal,
                    ..base.clone()
                }
                .secret("shared", format!("certs/{app}"));
                vec![one(event, Outcome::Ok)]
            }
            980..=994 => two(
                rng,
                NewEvent {
                    action: Action::AccessChange,
                    ..base.clone()
                }
                .environment(env.clone()),
            ),
            _ => {
                let added = keys(rng);
                let event = on_app(Action::AppOnboard).keys(
                    added,
                    Vec::<String>::new(),
                    Vec::<String>::new(),
                );
                two(rng, event)
            }
        }
    }
}
