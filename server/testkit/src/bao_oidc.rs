//! A real OIDC provider for tests, offline: a second OpenBao dev server acting as the identity
//! provider (`identity/oidc/provider`, a client, a `groups` scope, an assignment), and the
//! relying-party side on the OpenBao Keyway talks to (an `oidc` auth method discovering that
//! provider, a role, external groups mapped from the provider's groups).
//!
//! The provider's users log in to it with userpass (tuned `listing_visibility=unauth`, so its
//! own web UI offers the form); its authorize endpoint serves the user whose Vault token comes
//! with the request, which is what [`OidcProvider::authorize`] sends, and what the provider's
//! UI sends once its user logged in there.

use serde_json::{json, Value};

use crate::Bao;

/// The provider's name under `identity/oidc/provider/`.
pub const PROVIDER: &str = "keyway-test";

/// A running provider with one confidential client.
pub struct OidcProvider {
    pub bao: Bao,
    pub client_id: String,
    pub client_secret: String,
    /// The discovery base: `<addr>/v1/identity/oidc/provider/<name>`.
    pub issuer: String,
}

impl OidcProvider {
    /// Starts the provider's OpenBao and sets it up for a client that redirects to
    /// `redirect_uri` (Keyway's callback).
    pub async fn start(redirect_uri: &str) -> OidcProvider {
        let bao = Bao::start().await;
        bao.enable_userpass().await;
        bao.root_request(
            "POST",
            "sys/auth/userpass/tune",
            Some(json!({"listing_visibility": "unauth"})),
        )
        .await;
        let template = r#"{"groups": {{identity.entity.groups.names}}}"#;
        bao.root_request(
            "POST",
            "identity/oidc/scope/groups",
            Some(json!({ "template": template })),
        )
        .await;
        bao.root_request(
            "POST",
            "identity/oidc/key/default",
            Some(json!({"allowed_client_ids": ["*"]})),
        )
        .await;
        bao.root_request(
            "POST",
            "identity/oidc/client/keyway-vault",
            Some(json!({
                "redirect_uris": [redirect_uri],
                "assignments": ["allow_all"],
                "key": "default",
                "client_type": "confidential",
            })),
        )
        .await;
        let client = bao
            .root_request("GET", "identity/oidc/client/keyway-vault", None)
            .await;
        bao.root_request(
            "POST",
            &format!("identity/oidc/provider/{PROVIDER}"),
            Some(json!({"allowed_client_ids": ["*"], "scopes_supported": ["groups"]})),
        )
        .await;
        let issuer = format!("{}/v1/identity/oidc/provider/{PROVIDER}", bao.addr);
        OidcProvider {
            client_id: text(&client["data"], "client_id"),
            client_secret: text(&client["data"], "client_secret"),
            issuer,
            bao,
        }
    }

    /// A userpass user of the provider whose entity is the only member of each of `groups`
    /// (created, or replaced, by name).
    pub async fn add_user(&self, name: &str, password: &str, groups: &[&str]) {
        self.bao.add_user(name, password, &[]).await;
        let token = self.login(name, password).await;
        let me = self.bao.lookup_self_with(&token).await;
        let entity_id = text(&me["data"], "entity_id");
        for g in groups {
            self.bao
                .root_request(
                    "POST",
                    &format!("identity/group/name/{g}"),
                    Some(json!({ "member_entity_ids": [entity_id] })),
                )
                .await;
        }
    }

    /// The user's token at the provider (a userpass login there).
    pub async fn login(&self, name: &str, password: &str) -> String {
        let answer: Value = self
            .bao
            .http
            .post(format!("{}/v1/auth/userpass/login/{name}", self.bao.addr))
            .json(&json!({ "password": password }))
            .send()
            .await
            .expect("provider login")
            .json()
            .await
            .expect("provider login answer");
        text(&answer["auth"], "client_token")
    }

    /// What the provider's authorize step answers the user with `token` for the browser URL
    /// `auth_url` (whose query Vault built: client, redirect URI, state, nonce, PKCE challenge,
    /// scope): `(status, body)`, the body `{"code", "state"}` on success.
    pub async fn authorize(&self, auth_url: &str, token: &str) -> (u16, Value) {
        let url = url::Url::parse(auth_url).expect("an auth_url");
        let api = format!(
            "{}/v1/identity/oidc/provider/{PROVIDER}/authorize?{}",
            self.bao.addr,
            url.query().unwrap_or_default()
        );
        let res = self
            .bao
            .http
            .get(api)
            .header("X-Vault-Token", token)
            .send()
            .await
            .expect("provider authorize");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// Enables an `oidc` auth method at `mount` on `rp` (listed on the login page, described as
    /// `description`) discovering this provider, with the role `role` (its `default_role`) that
    /// allows `redirect_uri`, maps the `groups` claim and gives `default` only.
    pub async fn configure_relying_party(
        &self,
        rp: &Bao,
        mount: &str,
        description: &str,
        role: &str,
        redirect_uri: &str,
    ) {
        rp.root_request(
            "POST",
            &format!("sys/auth/{mount}"),
            Some(json!({"type": "oidc", "description": description})),
        )
        .await;
        rp.root_request(
            "POST",
            &format!("sys/auth/{mount}/tune"),
            Some(json!({"listing_visibility": "unauth"})),
        )
        .await;
        rp.root_request(
            "POST",
            &format!("auth/{mount}/config"),
            Some(json!({
                "oidc_discovery_url": self.issuer,
                "oidc_client_id": self.client_id,
                "oidc_client_secret": self.client_secret,
                "default_role": role,
            })),
        )
        .await;
        self.add_role(rp, mount, role, redirect_uri).await;
    }

    /// Another role at `mount` on `rp`, allowing only `redirect_uri`.
    pub async fn add_role(&self, rp: &Bao, mount: &str, role: &str, redirect_uri: &str) {
        rp.root_request(
            "POST",
            &format!("auth/{mount}/role/{role}"),
            Some(json!({
                "role_type": "oidc",
                "user_claim": "sub",
                "groups_claim": "groups",
                "oidc_scopes": ["groups"],
                "bound_audiences": [self.client_id],
                "allowed_redirect_uris": [redirect_uri],
                "token_policies": ["default"],
            })),
        )
        .await;
    }
}

impl Bao {
    /// An external group with these policies, whose members are the users the auth method at
    /// `mount` reports in the group `alias` (for `oidc`, a value of the role's groups claim).
    pub async fn map_external_group(
        &self,
        name: &str,
        policies: &[&str],
        mount: &str,
        alias: &str,
    ) {
        let group = self
            .root_request(
                "POST",
                "identity/group",
                Some(json!({"name": name, "type": "external", "policies": policies})),
            )
            .await;
        let auth = self.root_request("GET", "sys/auth", None).await;
        let accessor = text(&auth["data"][format!("{mount}/")], "accessor");
        self.root_request(
            "POST",
            "identity/group-alias",
            Some(json!({
                "name": alias,
                "mount_accessor": accessor,
                "canonical_id": text(&group["data"], "id"),
            })),
        )
        .await;
    }

    /// `auth/token/lookup-self` with `token`.
    pub async fn lookup_self_with(&self, token: &str) -> Value {
        self.http
            .get(format!("{}/v1/auth/token/lookup-self", self.addr))
            .header("X-Vault-Token", token)
            .send()
            .await
            .expect("lookup-self")
            .json()
            .await
            .expect("lookup-self answer")
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {key} in {v}"))
        .to_owned()
}
