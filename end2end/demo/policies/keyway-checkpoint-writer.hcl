# keyway-checkpoint-writer: Keyway's own identity for the signed audit checkpoints (KEYWAY_AUDIT_
# CHECKPOINT_TOKEN_FILE holds a token with this policy and nothing else). It may sign with one
# transit key and read its public keys, and write and read one kv-v2 secret, whose versions are
# the checkpoints' history. It may not export the key, delete versions, or read anything else:
# the private key stays in Vault, and the history is not Keyway's to erase.

# Sign the chain head (the key never leaves Vault).
path "transit/sign/keyway-audit" {
  capabilities = ["update"]
}
# Its public keys, to check each signature and to verify the checkpoints read back.
path "transit/keys/keyway-audit" {
  capabilities = ["read"]
}
# Each checkpoint is a new version of this secret (check-and-set on the version read), and
# verifying reads them all back.
path "keyway-audit/data/checkpoints" {
  capabilities = ["create", "update", "read"]
}
# The version list, read only: whoever may update this metadata may lower max_versions, and
# Vault would then drop the oldest checkpoints. The seed (the platform team) sets it high once.
path "keyway-audit/metadata/checkpoints" {
  capabilities = ["read"]
}
