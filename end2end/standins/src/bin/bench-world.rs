//! `bench-world`: fills the local cluster with many apps for `end2end/bench/overview`.
//!
//! For i in 0..N (default 10,000), in namespace `dev` (whose VaultAuth `static-auth` the VSO
//! stand-in logs in with): a kv-v2 secret `dev/bench/app-<i>` in OpenBao, a VaultStaticSecret
//! `bench-app-<i>` copying it into Secret `bench-app-<i>` (refreshAfter 1h, so the stand-in reads
//! each once), and a Deployment `bench-app-<i>` reading that Secret through `envFrom`, with 0
//! replicas (10,000 pods would measure kwok and the scheduler on 2 cores, not Keyway). Then waits
//! until the stand-in has written every Secret. Idempotent: existing objects are left as they are.
//!
//! Env: KUBECONFIG (admin), VAULT_ADDR, VAULT_TOKEN. Args: [N] [--delete].

use std::time::{Duration, Instant};

use futures::{stream, StreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use keyway_k8s::vso::VaultStaticSecret;
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

const CONCURRENCY: usize = 32;

fn name(i: usize) -> String {
    format!("bench-app-{i}")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let delete = args.iter().any(|a| a == "--delete");
    let client = Client::try_default().await?;
    let vss: Api<VaultStaticSecret> = Api::namespaced(client.clone(), "dev");
    let deps: Api<Deployment> = Api::namespaced(client.clone(), "dev");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "dev");
    let t0 = Instant::now();

    if delete {
        let dp = DeleteParams::background();
        let lp = ListParams::default();
        for (kind, r) in [
            (
                "VaultStaticSecrets",
                vss.delete_collection(&dp, &lp.clone()).await.map(|_| ()),
            ),
            (
                "Deployments",
                deps.delete_collection(&dp, &lp).await.map(|_| ()),
            ),
        ] {
            r?;
            eprintln!("bench-world: deleting {kind} in dev (the seed's are re-created by `world`)");
        }
        return Ok(());
    }

    let existing = vss
        .list_metadata(&ListParams::default().labels("keyway.dev/bench=true"))
        .await?
        .items
        .len();
    if existing >= n {
        eprintln!("bench-world: {existing} bench apps already there");
        println!("{n}");
        return Ok(());
    }

    let addr = std::env::var("VAULT_ADDR")?;
    let token = std::env::var("VAULT_TOKEN")?;
    let http = reqwest::Client::new();
    stream::iter(0..n)
        .map(|i| {
            let (http, addr, token) = (&http, &addr, &token);
            async move {
                let url = format!("{addr}/v1/dev/data/bench/app-{i}");
                let r = http
                    .post(url)
                    .header("X-Vault-Token", token)
                    .json(&json!({"data": {"token": format!("bench-{i}"), "url": format!("https://app-{i}.bench.test")}}))
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "kv write {i}: {}", r.status());
                Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<anyhow::Result<()>>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<()>>()?;
    eprintln!("bench-world: {n} kv secrets in {:?}", t0.elapsed());

    let pp = PostParams::default();
    let t1 = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let (vss, deps, pp) = (&vss, &deps, &pp);
            async move {
                let v: VaultStaticSecret = serde_json::from_value(json!({
                    "apiVersion": "secrets.hashicorp.com/v1beta1", "kind": "VaultStaticSecret",
                    "metadata": {"name": name(i), "namespace": "dev", "labels": {"keyway.dev/bench": "true"}},
                    "spec": {"type": "kv-v2", "mount": "dev", "path": format!("bench/app-{i}"),
                             "vaultAuthRef": "static-auth", "refreshAfter": "1h",
                             "destination": {"name": name(i), "create": true}}
                }))?;
                let d: Deployment = serde_json::from_value(json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": name(i), "namespace": "dev", "labels": {"keyway.dev/bench": "true"}},
                    "spec": {"replicas": 0, "selector": {"matchLabels": {"app": name(i)}},
                             "template": {"metadata": {"labels": {"app": name(i)}},
                                          "spec": {"containers": [{"name": "app", "image": "app:1",
                                                   "envFrom": [{"secretRef": {"name": name(i)}}]}]}}}
                }))?;
                for r in [
                    vss.create(pp, &v).await.map(|_| ()),
                    deps.create(pp, &d).await.map(|_| ()),
                ] {
                    match r {
                        Ok(()) => {}
                        Err(kube::Error::Api(s)) if s.code == 409 => {} // already there
                        Err(e) => return Err(e.into()),
                    }
                }
                anyhow::Ok(())
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<()>>()?;
    eprintln!(
        "bench-world: {n} VaultStaticSecrets + Deployments in {:?}",
        t1.elapsed()
    );

    // Wait (polling, with a deadline) for the stand-in to have written every Secret.
    let t2 = Instant::now();
    let deadline = t2 + Duration::from_secs(900);
    loop {
        let have = secrets
            .list_metadata(
                &ListParams::default().labels("app.kubernetes.io/managed-by=hashicorp-vso"),
            )
            .await?
            .items
            .iter()
            .filter(|s| {
                s.metadata
                    .name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("bench-app-"))
            })
            .count();
        if have >= n {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {have} of {n} Secrets after 15 min"
        );
        tokio::time::sleep(Duration::from_secs(1)).await; // poll interval
    }
    eprintln!(
        "bench-world: the stand-in wrote {n} Secrets in {:?}",
        t2.elapsed()
    );
    println!("{n}");
    Ok(())
}
