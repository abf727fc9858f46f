#!/usr/bin/env bash
# Payment processors against merchgate-sim, on loopback, bounded in time:
#   1. the outbound client's cost per call (merchgate-client-bench): pooled HTTP, pooled HTTPS
#      (keep-alive), HTTPS with a new connection per call (resumed TLS session), one in flight,
#      then pooled HTTPS with 16 in flight;
#   2. POST /v1/checkouts through the Stripe adapter (HTTPS to the simulator, which confirms
#      pm_card_visa and sends the signed payment_intent.succeeded webhook back), closed loop;
#   3. the same without a method: the PaymentIntent waits for the buyer's client
#      (automatic_payment_methods, client_secret in the reply), as app checkouts usually start.
# Usage: scripts/bench-payments.sh [build-dir]. Figures go to docs/performance.md by hand.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}
calls=${BENCH_CALLS:-20000}
source scripts/bench-common.sh merchgate-bench-pay

sim_http=18511 sim_https=18512 gw_port=18443
whsec=whsec_YmVuY2gtc3RyaXBlLXdlYmhvb2stc2VjcmV0
sk=sk_test_bench0123456789
# The simulator's certificate for 127.0.0.1; the client trusts it through a CA file.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/sim-key.pem" -out "$work/sim.pem" 2>/dev/null

sim="$build/tools/merchgate-sim"
"$sim" --stripe 127.0.0.1:$sim_http > "$work/sim-http.log" 2>&1 &
pids+=($!)
"$sim" --stripe 127.0.0.1:$sim_https --tls-cert "$work/sim.pem" --tls-key "$work/sim-key.pem" \
  --stripe-webhook-url http://127.0.0.1:$gw_port/v1/webhooks/stripe-main \
  --stripe-webhook-secret $whsec > "$work/sim-https.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
  curl -sf http://127.0.0.1:$sim_http/__sim/health > /dev/null &&
    curl -sfk https://127.0.0.1:$sim_https/__sim/health > /dev/null && break
  sleep 0.1
done

# One PaymentIntent to read back: GET /v1/payment_intents/{id} is the call measured.
pi=$(curl -sf -u "$sk:" http://127.0.0.1:$sim_http/v1/payment_intents -d amount=2500 -d currency=eur |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
pis=$(curl -sf --cacert "$work/sim.pem" -u "$sk:" https://127.0.0.1:$sim_https/v1/payment_intents \
  -d amount=2500 -d currency=eur | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
cb="$build/bench/merchgate-client-bench"
auth="authorization: Bearer $sk"
echo "== machine: $(nproc) cores, $(uname -r); $calls calls per client run, ${seconds}s checkout run"
echo "-- client: HTTP, pooled, 1 in flight"
"$cb" --url http://127.0.0.1:$sim_http/v1/payment_intents/$pi --header "$auth" --calls "$calls"
echo "-- client: HTTPS, pooled (keep-alive), 1 in flight"
"$cb" --url https://127.0.0.1:$sim_https/v1/payment_intents/$pis --header "$auth" \
  --ca-file "$work/sim.pem" --calls "$calls"
echo "-- client: HTTPS, a new connection per call (TLS session resumed), 1 in flight"
"$cb" --url https://127.0.0.1:$sim_https/v1/payment_intents/$pis --header "$auth" \
  --ca-file "$work/sim.pem" --calls $((calls / 4)) --fresh
echo "-- client: HTTPS, pooled, 16 in flight"
"$cb" --url https://127.0.0.1:$sim_https/v1/payment_intents/$pis --header "$auth" \
  --ca-file "$work/sim.pem" --calls "$calls" -c 16

export MERCHGATE_MASTER_KEY=$(openssl rand -base64 32)
export MERCHGATE_ADMIN_KEY=mgk_admin_$(openssl rand -hex 20)
export MERCHGATE_API_KEY=mgk_bench_$(openssl rand -hex 20)
export MERCHGATE_LISTEN=127.0.0.1:$gw_port
export MERCHGATE_DB=sqlite:$work/merchgate.db
export MERCHGATE_LOG_LEVEL=warn
export MERCHGATE_ALLOW_LOOPBACK=1
python3 - "$work/bench.json" "$work/sim.pem" <<'PY'
import json, sys
c = json.load(open("config/merchgate.example.json"))
c.pop("tls"); c.pop("public_url")
c["rate_limit"] = {"per_second": 0}  # one key drives the whole load: no per-key limit
c["outbound"] = {"ca_file": sys.argv[2]}
json.dump(c, open(sys.argv[1], "w"))
PY
"$build/gateway/merchgate" serve --config "$work/bench.json" --ready-file "$work/ready" > "$work/merchgate.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { cat "$work/merchgate.log"; exit 1; }
admin() { curl -sf -X "$1" "http://127.0.0.1:$gw_port$2" -H "Authorization: Bearer $MERCHGATE_ADMIN_KEY" \
            -H 'Content-Type: application/json' ${3:+-d "$3"} > /dev/null; }
admin PUT /v1/admin/adapters/stripe-main "{\"type\": \"stripe\", \"enabled\": true,
  \"base_url\": \"https://127.0.0.1:$sim_https\",
  \"credentials\": {\"secret_key\": \"$sk\", \"webhook_secret\": \"$whsec\"}, \"settings\": {}}"
admin PUT /v1/admin/sellers/sel_hype \
  '{"name": "Hype", "platform_fee_bps": 500, "payouts": {"stripe-main": "acct_1Hype"}}'
admin PUT /v1/admin/routing '{"rules": [{"match": {}, "processors": ["stripe-main"]}]}'
echo "-- merchgate POST /v1/checkouts through stripe (pm_card_visa, destination charge), closed loop"
"$build/bench/merchgate-loadgen" --port $gw_port --mode checkout --key "$MERCHGATE_API_KEY" \
  --method pm_card_visa -c "$connections" -d "$seconds" || true
sleep 2  # let the simulator's webhooks land before counting
intents=$(curl -sf --cacert "$work/sim.pem" https://127.0.0.1:$sim_https/__sim/state |
  python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for p in s["payment_intents"] if p["status"]=="succeeded"))')
echo "   payment intents succeeded at the simulator: $intents"
echo "-- merchgate POST /v1/checkouts through stripe, no method (the buyer's client confirms later), closed loop"
"$build/bench/merchgate-loadgen" --port $gw_port --mode checkout --key "$MERCHGATE_API_KEY" \
  --method "" -c "$connections" -d "$seconds" || true
waiting=$(curl -sf --cacert "$work/sim.pem" https://127.0.0.1:$sim_https/__sim/state |
  python3 -c 'import json,sys; s=json.load(sys.stdin); print(sum(1 for p in s["payment_intents"] if p["status"]=="requires_payment_method"))')
echo "   payment intents waiting for the buyer at the simulator: $waiting"
