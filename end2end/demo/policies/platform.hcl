# platform: the platform team's policy in the demo. Keyway's platform pages appear for a token
# with these rights, and every write they make is made with that token, so Vault decides and
# Vault's audit log names the person. Developers' policies have none of this.

# --- Access (who may view, edit, restart where) ------------------------------------------------
# Read every ACL policy, to show what hand-written policies already give.
path "sys/policies/acl" {
  capabilities = ["list"]
}
path "sys/policies/acl/*" {
  capabilities = ["read"]
}
# Write Keyway's own policies, keyway-<environment>-<level>, and nothing else (this rule is
# more specific than the one above, so it wins for those names).
path "sys/policies/acl/keyway-*" {
  capabilities = ["create", "read", "update"]
}
# Identity groups: create them, change their policies and members, link external groups to
# an identity provider's group (group aliases).
path "identity/group" {
  capabilities = ["create", "update"]
}
path "identity/group/id" {
  capabilities = ["list"]
}
path "identity/group/id/*" {
  capabilities = ["read", "update"]
}
path "identity/group/name/*" {
  capabilities = ["read"]
}
path "identity/group-alias" {
  capabilities = ["create", "update"]
}
# People, to pick members and to show one person's effective access.
path "identity/entity/id" {
  capabilities = ["list"]
}
path "identity/entity/id/*" {
  capabilities = ["read"]
}
# The auth methods (their accessors name an external group's alias), and the userpass users'
# own policies (part of a person's effective access).
path "sys/auth" {
  capabilities = ["read"]
}
path "auth/userpass/users/*" {
  capabilities = ["read"]
}

# --- Fleet health ---------------------------------------------------------------------------------
# See which apps need attention in every environment. No engine serves keyway/: Keyway asks
# Vault (sys/capabilities-self) whether this token may `read` keyway/fleet/<environment>.
path "keyway/fleet/*" {
  capabilities = ["read"]
}

# --- Onboarding ------------------------------------------------------------------------------------
# Onboard apps into every environment: Keyway asks Vault whether this token may `update`
# keyway/onboard/<environment> (no engine serves it), and only then lets its own cluster account
# create the app's ServiceAccount, VaultAuth and VaultStaticSecret.
path "keyway/onboard/*" {
  capabilities = ["update"]
}
# Each app's read-only policy is keyway-app.<environment>.<app>: covered by the keyway-* rule
# above. Its login role for the Vault Secrets Operator, under the kubernetes auth mount the
# demo's operator uses (KEYWAY_KUBE_AUTH_MOUNT).
path "auth/dev-auth-mount/role/keyway-app.*" {
  capabilities = ["create", "read", "update"]
}
# The secret's first version: `create` only, so the platform user can make a secret that does
# not exist yet but can neither read nor overwrite one (Vault treats a write to an existing kv-v2
# secret as `update`). Metadata (versions and times, never keys or values) tells whether it
# exists, and when the operator has copied the latest version.
path "+/data/*" {
  capabilities = ["create"]
}
path "+/metadata/*" {
  capabilities = ["read"]
}

# --- Audit log -------------------------------------------------------------------------------------
# The whole audit history, every environment and the logins: Keyway asks Vault whether this token
# may `read` keyway/audit/* (no engine serves it). `keyway/audit/<environment>` alone would show
# that environment's rows; a developer without either sees the rows of the secrets they may read.
path "keyway/audit/*" {
  capabilities = ["read"]
}

# --- Signed audit checkpoints -----------------------------------------------------------------
# The signed checkpoints of the audit chain (an auditor's check, `keyway audit verify` with this
# token in VAULT_TOKEN): every version of the kv-v2 secret, and the transit key's public keys to
# verify them with. Read only: signing is Keyway's own token's (keyway-checkpoint-writer).
path "keyway-audit/data/checkpoints" {
  capabilities = ["read"]
}
path "keyway-audit/metadata/checkpoints" {
  capabilities = ["read"]
}
path "transit/keys/keyway-audit" {
  capabilities = ["read"]
}
# The access page writes keyway-* policies (above); this one is Keyway's own checkpoint identity,
# no environment's, so the platform team may read it but not widen it (an exact path wins over
# the keyway-* rule).
path "sys/policies/acl/keyway-checkpoint-writer" {
  capabilities = ["read"]
}
