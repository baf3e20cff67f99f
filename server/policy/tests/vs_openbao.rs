//! The evaluator and the generated policies, held against a real OpenBao dev server.
//!
//! For each case the policies are written with the root token, a token holding only them is
//! created (`no_default_policy`), and `sys/capabilities` is asked about every path; the answer
//! must equal [`Acl::capabilities`] word for word. Then each generated level is written and
//! must give exactly the intended capabilities inside its scope and nothing outside it. Tokens
//! are never printed.

use keyway_policy::{generate, is_managed, parse, policy_name, Acl, Level, Policy, Scope};
use keyway_testkit::Bao;
use serde_json::{json, Value};

/// One case: policies (HCL bodies) and the paths asked about.
struct Case {
    name: &'static str,
    policies: &'static [&'static str],
    paths: &'static [&'static str],
}

macro_rules! rules {
    ($($path:literal => [$($w:literal),*]),* $(,)?) => {
        concat!($("path \"", $path, "\" {\n  capabilities = [", $("\"", $w, "\",",)* "]\n}\n"),*)
    };
}

const CASES: &[Case] = &[
    Case {
        name: "exact and prefix of the same text stay apart",
        policies: &[rules!("a/b" => ["read"], "a/b*" => ["update"])],
        paths: &["a/b", "a/bc", "a/b/", "a/b/c", "a/", "a"],
    },
    Case {
        name: "a trailing slash falls back to the exact rule without it",
        policies: &[rules!("a/b" => ["list"], "a/*" => ["read"])],
        paths: &["a/b/", "a/b", "a/c", "a/b/c"],
    },
    Case {
        name: "an exact rule granting nothing still wins",
        policies: &[rules!("a/b" => [], "a/*" => ["read"])],
        paths: &["a/b", "a/c", "a/b/"],
    },
    Case {
        name: "only the longest prefix counts",
        policies: &[rules!("a/*" => ["read", "update"], "a/b*" => ["list"])],
        paths: &["a/bc", "a/c", "a/b", "a"],
    },
    Case {
        name: "priority 1: the first wildcard later wins",
        policies: &[rules!(
            "secret/a*" => ["read"], "secret/+" => ["list"],
            "f/bar/+/baz" => ["read"], "f/+/bar/baz" => ["list"]
        )],
        paths: &[
            "secret/ab", "secret/b", "secret/a", "secret/ab/c",
            "f/bar/bar/baz", "f/x/bar/baz", "f/bar/x/baz",
        ],
    },
    Case {
        name: "priority 2: not a prefix beats a prefix",
        policies: &[rules!(
            "foo/+" => ["read"], "foo/*" => ["list"],
            "f/+/bar" => ["read"], "f/+/ba*" => ["list"]
        )],
        paths: &["foo/x", "foo/x/y", "foo/", "foo", "f/x/bar", "f/x/bat", "f/x/barn"],
    },
    Case {
        name: "priority 2 between + patterns of the same text",
        policies: &[rules!("g/+/b" => ["read"], "g/+/b*" => ["list"])],
        paths: &["g/x/b", "g/x/bc", "g/x/b/"],
    },
    Case {
        name: "priority 3: fewer + segments win",
        policies: &[rules!("a/+/b/c" => ["read"], "a/+/+/c" => ["list"])],
        paths: &["a/x/b/c", "a/x/y/c", "a/x/b/d"],
    },
    Case {
        name: "priority 3 before 4: fewer + beats longer",
        policies: &[rules!("a/+/x/c*" => ["read"], "a/+/+/cc*" => ["list"])],
        paths: &["a/q/x/ccc", "a/q/y/ccc"],
    },
    Case {
        name: "priority 4 before 5: longer beats lexicographically larger",
        policies: &[rules!("f/+/+/dddd" => ["read"], "f/+/abc/+" => ["list"])],
        paths: &["f/x/abc/dddd", "f/x/abc/d"],
    },
    Case {
        name: "priority 4: longer wins",
        policies: &[rules!("f/+/bar/ba*" => ["read"], "f/+/bar/b*" => ["list"])],
        paths: &["f/x/bar/baz", "f/x/bar/bz", "f/x/bar/"],
    },
    Case {
        name: "priority 5: lexicographically larger wins",
        policies: &[rules!("a/+/c/+" => ["read"], "a/+/+/d" => ["list"])],
        paths: &["a/x/c/d", "a/x/c/e", "a/x/y/d"],
    },
    Case {
        name: "+ matches exactly one segment",
        policies: &[rules!("kv/data/+/config" => ["read"])],
        paths: &[
            "kv/data/web/config", "kv/data/web/x/config", "kv/data/config",
            "kv/data/web/config/x", "kv/data//config", "kv/data/web/config/",
        ],
    },
    Case {
        name: "+ with a trailing glob",
        policies: &[rules!("kv/+/team/*" => ["read"], "kv/+/te*" => ["list"])],
        paths: &["kv/data/team/a/b", "kv/data/team/", "kv/data/team", "kv/data/tea", "kv/x/team/a"],
    },
    Case {
        name: "+ at the start, alone, and inside a segment",
        policies: &[rules!("+/x" => ["read"], "+" => ["list"], "a/+b/c" => ["update"], "a/b+/c" => ["delete"])],
        paths: &["y/x", "y/z", "q", "q/r", "a/+b/c", "a/xb/c", "a/b+/c"],
    },
    Case {
        name: "a prefix and a + pattern whose wildcard sits at the same place",
        policies: &[rules!("x/*" => ["read"], "x/+/y" => ["list"], "p/abc*" => ["read"], "p/+/q" => ["list"], "p/a*" => ["update"], "p/ab/+" => ["delete"])],
        paths: &["x/a/y", "x/a/z", "p/abcd/q", "p/ab/x", "p/zz/q"],
    },
    Case {
        name: "only the longest prefix competes with + patterns",
        policies: &[rules!("m/*" => ["read"], "m/n/o*" => ["list"], "m/+/op" => ["update"])],
        paths: &["m/n/op", "m/x/op", "m/n/x"],
    },
    Case {
        name: "the same pattern in two policies is a union",
        policies: &[rules!("a/*" => ["read"], "b/+" => ["read"]), rules!("a/*" => ["list"], "b/+" => ["update"])],
        paths: &["a/x", "b/x"],
    },
    Case {
        name: "deny wins a union in either order",
        policies: &[rules!("a/*" => ["deny"], "b/*" => ["read"]), rules!("a/*" => ["read"], "b/*" => ["deny"])],
        paths: &["a/x", "b/x"],
    },
    Case {
        name: "a narrower grant beats a broader deny",
        policies: &[rules!("a/*" => ["deny"]), rules!("a/b/*" => ["read"])],
        paths: &["a/b/c", "a/c", "a/b"],
    },
    Case {
        name: "deny beside other words in one rule",
        policies: &[rules!("a/*" => ["read", "deny", "list"])],
        paths: &["a/x"],
    },
    Case {
        name: "legacy policy words",
        policies: &["path \"w/*\" {\n policy = \"write\"\n}\npath \"s/*\" {\n policy = \"sudo\"\n}\n\
                     path \"r/*\" {\n policy = \"read\"\n}\npath \"d/*\" {\n policy = \"deny\"\n}\n"],
        paths: &["w/x", "s/x", "r/x", "d/x"],
    },
    Case {
        name: "leading slash, sudo and scan, parameters ignored by sys/capabilities",
        policies: &["path \"/lead/x\" {\n capabilities = [\"read\"]\n}\n\
                     path \"s/*\" {\n capabilities = [\"scan\", \"sudo\", \"list\"]\n}\n\
                     path \"p/*\" {\n capabilities = [\"update\"]\n allowed_parameters = { \"ttl\" = [] }\n}\n"],
        paths: &["lead/x", "/lead/x", "s/x", "p/x"],
    },
    Case {
        name: "templated rules do not apply to a token without an entity",
        policies: &["path \"kv/{{identity.entity.name}}/*\" {\n capabilities = [\"read\"]\n}\n\
                     path \"kv/*\" {\n capabilities = [\"list\"]\n}\n"],
        paths: &["kv/x", "kv/bob/x"],
    },
];

/// A token holding exactly `policies` (and not `default`).
async fn token_for(bao: &Bao, policies: &[String]) -> String {
    let answer = bao
        .root_request(
            "POST",
            "auth/token/create",
            Some(json!({ "policies": policies, "no_default_policy": true, "ttl": "10m" })),
        )
        .await;
    answer["auth"]["client_token"]
        .as_str()
        .expect("a token in auth/token/create's answer")
        .to_owned()
}

/// `sys/capabilities` for `token` on `paths`: Vault's words per path.
async fn capabilities(bao: &Bao, token: &str, paths: &[String]) -> Vec<Vec<String>> {
    let answer = bao
        .root_request(
            "POST",
            "sys/capabilities",
            Some(json!({ "token": token, "paths": paths })),
        )
        .await;
    paths
        .iter()
        .map(|p| {
            let words: &Value = &answer["data"][p];
            words
                .as_array()
                .unwrap_or_else(|| panic!("no answer for {p}"))
                .iter()
                .map(|w| w.as_str().expect("a word").to_owned())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn the_evaluator_agrees_with_openbao_on_every_path() {
    let bao = Bao::start().await;
    let mut asked = 0;
    for (i, case) in CASES.iter().enumerate() {
        let mut names = Vec::new();
        let mut parsed: Vec<Policy> = Vec::new();
        for (j, hcl) in case.policies.iter().enumerate() {
            let name = format!("case-{i}-{j}");
            bao.put_policy(&name, hcl).await;
            parsed.push(parse(hcl).unwrap_or_else(|e| panic!("{}: {e}", case.name)));
            names.push(name);
        }
        let acl = Acl::new(&parsed);
        let token = token_for(&bao, &names).await;
        let paths: Vec<String> = case.paths.iter().map(|p| p.to_string()).collect();
        let answers = capabilities(&bao, &token, &paths).await;
        for (path, vault) in paths.iter().zip(answers) {
            let ours = acl.capabilities(path).to_words();
            assert_eq!(ours, vault, "{}: path {path:?}", case.name);
            asked += 1;
        }
    }
    assert!(asked >= 40, "the table asks about {asked} paths");
}

/// The capabilities a probe must have, `[]` meaning none (Vault's `["deny"]`).
type Probe = (&'static str, &'static [&'static str]);

const VIEW: &[&str] = &["read"];
const META: &[&str] = &["list", "read"];
const EDIT: &[&str] = &["create", "delete", "patch", "read", "update"];
const UPDATE: &[&str] = &["update"];
const NONE: &[&str] = &[];

/// Probes of `payments` (mount `dev`, prefix `payments/`) for one level.
fn payments_probes(level: Level) -> Vec<Probe> {
    let (data, write) = match level {
        Level::Edit => (EDIT, UPDATE),
        Level::View | Level::Restart => (VIEW, NONE),
    };
    let restart = if level == Level::Restart {
        UPDATE
    } else {
        NONE
    };
    vec![
        ("dev/data/payments/api", data),
        ("dev/data/payments/deep/er", data),
        ("dev/metadata/payments/api", META),
        ("dev/metadata/payments/", META),
        ("dev/subkeys/payments/api", VIEW),
        ("dev/delete/payments/api", write),
        ("dev/undelete/payments/api", write),
        ("keyway/restart/payments/api", restart),
        // Outside the scope: nothing, whatever the level.
        ("dev/destroy/payments/api", NONE),
        ("dev/data/payments", NONE),
        ("dev/data/paymentsx/api", NONE),
        ("dev/data/billing/api", NONE),
        ("dev/metadata/billing/api", NONE),
        ("dev/metadata/", NONE),
        ("dev/config", NONE),
        ("staging/data/payments/api", NONE),
        ("keyway/restart/billing/api", NONE),
        ("keyway/restart/payments", NONE),
        ("keyway/fleet/payments", NONE),
        ("keyway/onboard/payments", NONE),
        ("sys/policies/acl/keyway-payments-view", NONE),
        ("sys/mounts", NONE),
        ("auth/token/create", NONE),
        ("identity/group", NONE),
    ]
}

/// Probes of `web` (the whole mount `web`) for one level.
fn web_probes(level: Level) -> Vec<Probe> {
    let (data, write) = match level {
        Level::Edit => (EDIT, UPDATE),
        Level::View | Level::Restart => (VIEW, NONE),
    };
    let restart = if level == Level::Restart {
        UPDATE
    } else {
        NONE
    };
    vec![
        ("web/data/api", data),
        ("web/data/a/b", data),
        ("web/metadata/", META),
        ("web/metadata/api", META),
        ("web/subkeys/api", VIEW),
        ("web/delete/api", write),
        ("web/undelete/api", write),
        ("keyway/restart/web/front", restart),
        ("web/destroy/api", NONE),
        ("web/config", NONE),
        ("webx/data/api", NONE),
        ("dev/data/api", NONE),
        ("keyway/restart/payments/api", NONE),
        ("sys/capabilities", NONE),
    ]
}

#[tokio::test]
async fn generated_policies_grant_exactly_their_level_and_nothing_outside_the_scope() {
    let bao = Bao::start().await;
    let scopes = [
        (
            Scope {
                namespace: "payments".into(),
                mount: "dev".into(),
                prefix: "payments/".into(),
            },
            payments_probes as fn(Level) -> Vec<Probe>,
        ),
        (
            Scope {
                namespace: "web".into(),
                mount: "web".into(),
                prefix: "".into(),
            },
            web_probes,
        ),
    ];
    for (scope, probes) in &scopes {
        for level in Level::ALL {
            let name = policy_name(&scope.namespace, level);
            let hcl = generate(scope, level);
            bao.put_policy(&name, &hcl).await;
            // OpenBao keeps the text as written, so the marker survives a round trip.
            let stored = bao
                .root_request("GET", &format!("sys/policies/acl/{name}"), None)
                .await;
            let stored = stored["data"]["policy"].as_str().expect("policy text");
            assert!(is_managed(stored), "{name} lost its marker");

            let token = token_for(&bao, std::slice::from_ref(&name)).await;
            let probes = probes(level);
            let paths: Vec<String> = probes.iter().map(|(p, _)| p.to_string()).collect();
            let answers = capabilities(&bao, &token, &paths).await;
            let acl = Acl::new([&parse(&hcl).unwrap()]);
            for ((path, want), vault) in probes.iter().zip(answers) {
                let want: Vec<&str> = if want.is_empty() {
                    vec!["deny"]
                } else {
                    want.to_vec()
                };
                assert_eq!(vault, want, "{name}: OpenBao on {path}");
                assert_eq!(
                    acl.capabilities(path).to_words(),
                    want,
                    "{name}: Acl on {path}"
                );
            }
        }
    }
}

#[tokio::test]
async fn the_parser_refuses_what_openbao_refuses() {
    let bao = Bao::start().await;
    let refused = [
        "path \"a\" {\n  capabilities = [\"read\", \"write\"]\n}\n",
        "path \"a\" {\n  policy = \"admin\"\n}\n",
        "path \"a/+*\" {\n  capabilities = [\"read\"]\n}\n",
        "path \"a\" {\n  capabilitys = [\"read\"]\n}\n",
        "listener \"tcp\" {}\n",
        "path \"a\" {\n  capabilities = [\"read\"]\n",
    ];
    for (i, hcl) in refused.iter().enumerate() {
        let status = bao
            .root_request_status(
                "POST",
                &format!("sys/policies/acl/bad-{i}"),
                json!({ "policy": hcl }),
            )
            .await;
        assert_eq!(status, 400, "OpenBao accepted {hcl:?}");
        assert!(parse(hcl).is_err(), "parse accepted {hcl:?}");
    }
    // The one known difference: Vault's HCL 1 parser takes two attributes on one line, HCL 2
    // (hcl-rs) does not. Such a policy is refused with a sentence, never misread.
    let one_line = "path \"a\" { policy = \"read\", capabilities = [\"update\"] }";
    let status = bao
        .root_request_status(
            "POST",
            "sys/policies/acl/one-line",
            json!({ "policy": one_line }),
        )
        .await;
    assert_eq!(status, 204);
    assert!(parse(one_line).is_err());
}
