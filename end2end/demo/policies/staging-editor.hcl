# staging-editor: edit every secret in the kv-v2 mount `staging`, but never destroy a version for good.
# `staging/x/*` also matches the empty suffix, so LIST on the mount root (`staging/metadata/`) is covered.

# Read and write the values (create = new key, update = new version, patch = merge-patch,
# delete = soft-delete the latest version).
path "staging/data/*" {
  capabilities = ["create", "read", "update", "patch", "delete"]
}

# Versions, timestamps and custom metadata; browse folders.
path "staging/metadata/*" {
  capabilities = ["read", "list"]
}

# Key names without values (cheap listing of an app's keys).
path "staging/subkeys/*" {
  capabilities = ["read"]
}

# Soft-delete chosen versions, and bring them back.
path "staging/delete/*" {
  capabilities = ["update"]
}
path "staging/undelete/*" {
  capabilities = ["update"]
}

# Permanent destruction stays with the platform team.
path "staging/destroy/*" {
  capabilities = ["deny"]
}

# Restart and "Sync now" for the apps in the cluster's `staging` environment.
path "keyway/restart/staging/*" {
  capabilities = ["update"]
}
