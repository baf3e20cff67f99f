use super::*;
use k8s_openapi::api::core::v1::{
    Container, EnvFromSource, EnvVar, EnvVarSource, ProjectedVolumeSource, SecretEnvSource,
    SecretKeySelector, SecretProjection, SecretVolumeSource, Volume, VolumeProjection,
};

fn template(containers: Vec<Container>, volumes: Vec<Volume>) -> PodTemplateSpec {
    PodTemplateSpec {
        metadata: None,
        spec: Some(PodSpec {
            containers,
            volumes: Some(volumes),
            ..Default::default()
        }),
    }
}
fn plain(name: &str) -> Container {
    Container {
        name: name.into(),
        ..Default::default()
    }
}
fn env_from(name: &str, secret: &str) -> Container {
    Container {
        name: name.into(),
        env_from: Some(vec![EnvFromSource {
            secret_ref: Some(SecretEnvSource {
                name: secret.into(),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}
fn key_ref(name: &str, secret: &str) -> Container {
    Container {
        name: name.into(),
        env: Some(vec![EnvVar {
            name: "X".into(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: secret.into(),
                    key: "k".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ..Default::default()
    }
}
fn ann(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn hash_and_env_name_follow_reloader() {
    let d: BTreeMap<String, Vec<u8>> =
        [("b".into(), b"2".to_vec()), ("a".into(), b"1".to_vec())].into();
    // sha1("a=1;b=2")
    assert_eq!(data_hash(&d), hex::encode(Sha1::digest(b"a=1;b=2")));
    assert_eq!(env_var_name("dev-secret"), "STAKATER_DEV_SECRET_SECRET");
    assert_eq!(env_var_name("a.b"), "STAKATER_A_B_SECRET");
}

#[test]
fn auto_reloads_only_for_referenced_secrets_in_the_right_container() {
    let auto = ann(&[(AUTO, "true")]);
    let none = BTreeMap::new();
    let t = template(
        vec![plain("side"), env_from("app", "s1"), key_ref("job", "s2")],
        vec![],
    );
    assert_eq!(wants_reload(&auto, &t, "s1", &none).as_deref(), Some("app"));
    assert_eq!(wants_reload(&auto, &t, "s2", &none).as_deref(), Some("job"));
    assert_eq!(wants_reload(&auto, &t, "other", &none), None);
    assert_eq!(
        wants_reload(&ann(&[(SECRET_AUTO, "true")]), &t, "s1", &none).as_deref(),
        Some("app")
    );
    assert_eq!(
        wants_reload(&ann(&[(AUTO, "false")]), &t, "s1", &none),
        None
    );
    assert_eq!(
        wants_reload(&none, &t, "s1", &none),
        None,
        "no annotation, no reload"
    );
}

#[test]
fn volumes_projected_volumes_lists_search_exclude_and_ignore() {
    let none = BTreeMap::new();
    let vol = Volume {
        name: "v".into(),
        secret: Some(SecretVolumeSource {
            secret_name: Some("s1".into()),
            ..Default::default()
        }),
        ..Default::default()
    };
    let projected = Volume {
        name: "p".into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                secret: Some(SecretProjection {
                    name: "s2".into(),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    let t = template(vec![plain("first"), plain("second")], vec![vol, projected]);
    let auto = ann(&[(AUTO, "true")]);
    assert_eq!(
        wants_reload(&auto, &t, "s1", &none).as_deref(),
        Some("first")
    );
    assert_eq!(
        wants_reload(&auto, &t, "s2", &none).as_deref(),
        Some("first")
    );
    // Named list: reloads even when the template does not reference it.
    let named = ann(&[(SECRET_RELOAD, "x, s9")]);
    assert_eq!(
        wants_reload(&named, &t, "s9", &none).as_deref(),
        Some("first")
    );
    // Search mode needs the Secret's match annotation.
    let search = ann(&[(SEARCH, "true")]);
    assert_eq!(wants_reload(&search, &t, "s1", &none), None);
    assert_eq!(
        wants_reload(&search, &t, "s1", &ann(&[(MATCH, "true")])).as_deref(),
        Some("first")
    );
    // Exclusions and ignored Secrets.
    let excl = ann(&[(AUTO, "true"), (EXCLUDE, "s1")]);
    assert_eq!(wants_reload(&excl, &t, "s1", &none), None);
    assert_eq!(
        wants_reload(&auto, &t, "s1", &ann(&[(IGNORE, "true")])),
        None
    );
}
