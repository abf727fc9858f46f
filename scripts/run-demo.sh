#!/usr/bin/env bash
# make run: a dev certificate and dev keys under var/ (made once), then the gateway in the
# foreground with config/merchgate.example.json. Ctrl-C drains and stops it.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
mkdir -p var
if [ ! -f var/dev-cert.pem ] || [ ! -f var/dev-key.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 825 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout var/dev-key.pem -out var/dev-cert.pem 2>/dev/null
  chmod 600 var/dev-key.pem
fi
if [ ! -f var/dev.env ]; then
  umask 077
  {
    echo "MERCHGATE_MASTER_KEY=$(openssl rand -base64 32)"
    echo "MERCHGATE_ADMIN_KEY=mgk_admin_$(openssl rand -hex 20)"
    echo "MERCHGATE_API_KEY=mgk_test_$(openssl rand -hex 20)"
  } > var/dev.env
fi
# merchgatectl reads these too (`source var/dev.env`); added to older dev.env files as well.
grep -q '^MERCHGATE_URL=' var/dev.env || echo "MERCHGATE_URL=https://localhost:8443" >> var/dev.env
grep -q '^MERCHGATE_CACERT=' var/dev.env || echo "MERCHGATE_CACERT=$PWD/var/dev-cert.pem" >> var/dev.env
set -a
# shellcheck disable=SC1091
source var/dev.env
set +a
url=https://localhost:8443
cat <<MSG

merchgate is starting at $url (self-signed dev certificate: curl -k, or trust var/dev-cert.pem)

  app key:    $MERCHGATE_API_KEY
  admin key:  $MERCHGATE_ADMIN_KEY
  (kept in var/dev.env)

Try a checkout (paid by pm_sandbox_ok, then printed, shipped and delivered in about 10 s):

  curl -sk $url/v1/checkouts \\
    -H "Authorization: Bearer $MERCHGATE_API_KEY" -H "Idempotency-Key: \$(uuidgen || date +%s%N)" \\
    -H "Content-Type: application/json" \\
    -d '{"seller":"sel_hype","currency":"EUR","lines":[{"sku":"hype-tee-black-m","quantity":2}],
         "buyer":{"id":"u_123","email":"a@example.com","shipping_address":{"name":"Ada L",
         "line1":"1 Main St","city":"Milan","postal_code":"20121","country":"IT"}},
         "payment":{"method":"pm_sandbox_ok"}}'

Then watch its events:

  curl -sk "$url/v1/events?checkout=<chk_id>" -H "Authorization: Bearer $MERCHGATE_API_KEY"

Administer it: the console at $url/admin/ (sign in with the admin key), or from a shell

  set -a; source var/dev.env; set +a; $build/tools/merchgatectl adapters list

MSG
exec "$build/gateway/merchgate" serve --config config/merchgate.example.json
