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
