# dev-editor: edit every secret in the kv-v2 mount `dev`, but never destroy a version for good.
# `dev/x/*` also matches the empty suffix, so LIST on the mount root (`dev/metadata/`) is covered.

# Read and write the values (create = new key, update = new version, patch = merge-patch,
# delete = soft-delete the latest version).
path "dev/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}

# Versions, timestamps and custom metadata; browse folders.
path "dev/metadata/*" {
  capabilities = ["read", "list"]
}

# Key names without values (cheap listing of an app's keys).
path "dev/subkeys/*" {
  capabilities = ["read"]
}

# Soft-delete chosen versions, and bring them back.
path "dev/delete/*" {
  capabilities = ["update"]
}
path "dev/undelete/*" {
  capabilities = ["update"]
}

# Permanent destruction stays with the platform team.
path "dev/destroy/*" {
  capabilities = ["deny"]
}

# Restart and "Sync now" for the apps in the cluster's `dev` and `payments` environments, which
# copy this mount. No secrets engine serves keyway/: Keyway asks Vault (sys/capabilities-self)
# whether this token has `update` here before its own cluster account acts.
path "keyway/restart/dev/*" {
  capabilities = ["update"]
}
path "keyway/restart/payments/*" {
  capabilities = ["update"]
}
