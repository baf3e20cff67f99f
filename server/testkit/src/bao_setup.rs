//! Test setup on a [`Bao`] server with its root token, over the HTTP API.
//!
//! These helpers arrange the world a test needs (mounts, policies, users, secrets) and panic
//! with the server's answer when Vault refuses, so a broken setup never looks like a failing
//! assertion in the code under test.

use serde_json::{json, Value};

use crate::Bao;

impl Bao {
    /// Sends `method path` (relative to `/v1/`) with the root token; returns the JSON body, or
    /// `Value::Null` for an empty answer (204). Panics on a non-2xx status. `method` may be any
    /// verb Vault knows, including `LIST`.
    pub async fn root_request(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|_| panic!("not an HTTP method: {method}"));
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        let mut request = self
            .http
            .request(method.clone(), &url)
            .header("X-Vault-Token", &self.root_token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {path} answered {status}: {text}"
        );
        if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path} answered non-JSON ({e}): {text}"))
        }
    }

    /// Sends `method path` with the root token and `body`; returns only the status, whatever
    /// it is (for checking what OpenBao itself refuses).
    pub async fn root_request_status(&self, method: &str, path: &str, body: Value) -> u16 {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .unwrap_or_else(|_| panic!("not an HTTP method: {method}"));
        let url = format!("{}/v1/{}", self.addr, path.trim_start_matches('/'));
        self.http
            .request(method.clone(), &url)
            .header("X-Vault-Token", &self.root_token)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path} failed: {e}"))
            .status()
            .as_u16()
    }

    /// Mounts a kv version 2 engine at `mount`.
    pub async fn enable_kv2(&self, mount: &str) {
        self.root_request(
            "POST",
            &format!("sys/mounts/{mount}"),
            Some(json!({"type": "kv", "options": {"version": "2"}})),
        )
        .await;
    }

    /// Creates or replaces the ACL policy `name`.
    pub async fn put_policy(&self, name: &str, hcl: &str) {
        self.root_request(
            "POST",
            &format!("sys/policies/acl/{name}"),
            Some(json!({ "policy": hcl })),
        )
        .await;
    }

    /// Enables the userpass auth method at `userpass/`.
    pub async fn enable_userpass(&self) {
        self.root_request(
            "POST",
            "sys/auth/userpass",
            Some(json!({"type": "userpass"})),
        )
        .await;
    }

    /// Creates a user in the `userpass/` mount with these policies.
    pub async fn add_user(&self, username: &str, password: &str, policies: &[&str]) {
        self.root_request(
            "POST",
            &format!("auth/userpass/users/{username}"),
            Some(json!({ "password": password, "token_policies": policies })),
        )
        .await;
    }

    /// Writes a kv-v2 secret without check-and-set; returns the new version number.
    pub async fn kv_put(&self, mount: &str, path: &str, data: Value) -> u64 {
        let answer = self
            .root_request(
                "POST",
                &format!("{mount}/data/{path}"),
                Some(json!({ "data": data })),
            )
            .await;
        answer["data"]["version"]
            .as_u64()
            .unwrap_or_else(|| panic!("kv write answered without a version: {answer}"))
    }

    /// Seals the server for real (`PUT sys/seal`), as `bao operator seal` does.
    pub async fn seal(&self) {
        self.root_request("PUT", "sys/seal", None).await;
    }

    /// Unseals a sealed dev server with the unseal key it printed at start.
    pub async fn unseal(&self) {
        let log = self.log_tail(usize::MAX);
        let key = log
            .lines()
            .find_map(|line| line.trim().strip_prefix("Unseal Key: "))
            .unwrap_or_else(|| panic!("no unseal key in the dev server log:\n{log}"))
            .to_owned();
        let answer = self
            .root_request("PUT", "sys/unseal", Some(json!({ "key": key })))
            .await;
        assert_eq!(answer["sealed"], json!(false), "still sealed: {answer}");
    }
}
