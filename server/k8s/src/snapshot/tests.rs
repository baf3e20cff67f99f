use super::*;
use crate::reduced::slim_template;

fn template() -> PodTemplateSpec {
    serde_json::from_value(serde_json::json!({
        "metadata": {"labels": {"app": "a"}, "annotations": {"reloader.stakater.com/auto": "true"}},
        "spec": {
            "initContainers": [{"name": "init", "image": "i", "envFrom": [{"secretRef": {"name": "s-init"}}]}],
            "containers": [{
                "name": "app", "image": "big/image:1", "command": ["run"],
                "env": [{"name": "PLAIN", "value": "x"},
                        {"name": "K", "valueFrom": {"secretKeyRef": {"name": "s-env", "key": "k"}}}],
                "envFrom": [{"secretRef": {"name": "s-from"}}],
                "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "f"}]
            }],
            "volumes": [
                {"name": "v", "secret": {"secretName": "s-vol"}},
                {"name": "p", "projected": {"sources": [{"secret": {"name": "s-proj"}}]}},
                {"name": "tmp", "emptyDir": {}}
            ]
        }
    }))
    .unwrap()
}

#[test]
fn every_way_a_template_names_a_secret_is_found() {
    assert_eq!(
        secret_names(&template()),
        ["s-env", "s-from", "s-init", "s-proj", "s-vol"]
    );
}

#[test]
fn a_slimmed_template_keeps_what_keyway_reads_and_drops_the_rest() {
    let mut t = template();
    slim_template(&mut t);
    assert_eq!(secret_names(&t), secret_names(&template()));
    let meta = t.metadata.as_ref().unwrap();
    assert!(meta.labels.is_none());
    assert!(meta
        .annotations
        .as_ref()
        .unwrap()
        .contains_key("reloader.stakater.com/auto"));
    let spec = t.spec.as_ref().unwrap();
    let c = &spec.containers[0];
    assert_eq!(c.image, None);
    assert_eq!(c.command, None);
    assert_eq!(
        c.env.as_ref().unwrap().len(),
        1,
        "only Secret references are kept"
    );
    assert_eq!(
        c.volume_mounts.as_ref().unwrap()[0].sub_path.as_deref(),
        Some("f")
    );
    assert_eq!(
        spec.volumes.as_ref().unwrap().len(),
        2,
        "only secret and projected volumes"
    );
}
