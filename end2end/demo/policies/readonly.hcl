# readonly: look at every secret in the kv-v2 mounts `dev` and `staging`, change nothing.
# No create/update/patch/delete anywhere, no delete/undelete/destroy endpoints.

path "dev/data/*" {
  capabilities = ["read"]
}
path "dev/subkeys/*" {
  capabilities = ["read"]
}
path "dev/metadata/*" {
  capabilities = ["read", "list"]
}

path "staging/data/*" {
  capabilities = ["read"]
}
path "staging/subkeys/*" {
  capabilities = ["read"]
}
path "staging/metadata/*" {
  capabilities = ["read", "list"]
}
