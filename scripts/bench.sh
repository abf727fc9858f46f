#!/usr/bin/env bash
# make bench: nginx `return 200` as the HTTP baseline, then merchgate's webhook intake and
# checkout creation on the same machine in the same run, then the micro benchmarks.
# Everything on loopback, bounded in time. Figures go to docs/performance.md by hand.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-10}
connections=${BENCH_CONNECTIONS:-64}
source scripts/bench-common.sh merchgate-bench

if ! command -v nginx >/dev/null; then
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get install -y -qq nginx-light >/dev/null
fi
nginx_port=18480
cat > "$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  server { listen 127.0.0.1:$nginx_port; location / { return 200 "ok"; } }
}
CONF
nginx -c "$work/nginx.conf" -p "$work" -g "daemon off;" &
pids+=($!)

export MERCHGATE_MASTER_KEY=$(openssl rand -base64 32)
export MERCHGATE_ADMIN_KEY=mgk_admin_$(openssl rand -hex 20)
export MERCHGATE_API_KEY=mgk_bench_$(openssl rand -hex 20)
export MERCHGATE_LISTEN=127.0.0.1:18443
export MERCHGATE_DB=sqlite:$work/merchgate.db
export MERCHGATE_LOG_LEVEL=warn
export MERCHGATE_ALLOW_LOOPBACK=1  # the webhook sink below listens on loopback
# Plain HTTP on loopback: the benchmark measures merchgate, not TLS (see docs/performance.md).
python3 - "$work/bench.json" <<'PY'
import json, os, sys
c = json.load(open("config/merchgate.example.json"))
c.pop("tls"); c.pop("public_url")
c["rate_limit"] = {"per_second": 0}  # one key drives the whole load: no per-key limit
c["webhooks"] = {"per_endpoint": int(os.environ.get("BENCH_WEBHOOK_PER_ENDPOINT", "4"))}
json.dump(c, open(sys.argv[1], "w"))
PY
"$build/gateway/merchgate" serve --config "$work/bench.json" --ready-file "$work/ready" > "$work/merchgate.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || { cat "$work/merchgate.log"; exit 1; }
secret=$(python3 -c "import json; c=json.load(open('config/merchgate.example.json')); print(c['seed']['adapters'][0]['credentials']['webhook_secret'])")
lg="$build/bench/merchgate-loadgen"

echo "== machine: $(nproc) cores, $(uname -r); ${seconds}s per run, $connections connections"
echo "-- nginx return 200 (baseline)"
"$lg" --port $nginx_port --mode get --path / -c $connections -d "$seconds" || true
echo "-- merchgate GET /healthz"
"$lg" --port 18443 --mode get --path /healthz -c $connections -d "$seconds" || true
echo "-- merchgate POST /v1/webhooks/sandbox-pay (verify + durable store + 200)"
"$lg" --port 18443 --mode webhook --secret "$secret" -c $connections -d "$seconds" || true
echo "-- merchgate POST /v1/checkouts, closed loop"
"$lg" --port 18443 --mode checkout --key "$MERCHGATE_API_KEY" -c $connections -d "$seconds" || true
echo "-- merchgate POST /v1/checkouts at a fixed 3000/s (open loop: latency from the schedule)"
"$lg" --port 18443 --mode checkout --key "$MERCHGATE_API_KEY" -c $connections -d "$seconds" -r 3000 || true

# Outbound webhooks, last so that no endpoint loads the runs above.
admin() { curl -sf -X "$1" "http://127.0.0.1:18443$2" -H "Authorization: Bearer $MERCHGATE_ADMIN_KEY" \
            -H 'Content-Type: application/json' ${3:+-d "$3"}; }
sink="$build/bench/merchgate-webhook-sink"
echo "-- webhook delivery: checkout.created events at 1000/s (1 event per checkout), lag commit -> receiver"
"$sink" --port-file "$work/sink1.port" --idle 3 --max $((seconds + 60)) > "$work/sink1.out" &
sink_pid=$!; pids+=($sink_pid)
for _ in $(seq 50); do [ -s "$work/sink1.port" ] && break; sleep 0.1; done
since=$(date -u +%Y-%m-%dT%H:%M:%SZ)
admin POST /v1/admin/webhook-endpoints \
  "{\"url\": \"http://127.0.0.1:$(cat "$work/sink1.port")/hook\", \"events\": [\"checkout.created\"]}" > /dev/null
"$lg" --port 18443 --mode checkout --key "$MERCHGATE_API_KEY" -c $connections -d "$seconds" -r 1000 || true
wait $sink_pid || true
cat "$work/sink1.out"
echo "-- webhook delivery: the same events replayed to a second endpoint at once (max throughput)"
"$sink" --port-file "$work/sink2.port" --idle 3 --max 120 > "$work/sink2.out" &
sink_pid=$!; pids+=($sink_pid)
for _ in $(seq 50); do [ -s "$work/sink2.port" ] && break; sleep 0.1; done
ep=$(admin POST /v1/admin/webhook-endpoints \
  "{\"url\": \"http://127.0.0.1:$(cat "$work/sink2.port")/hook\", \"events\": [\"checkout.created\"]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
admin POST "/v1/admin/webhook-endpoints/$ep/replay?since=$since" > /dev/null
wait $sink_pid || true
cat "$work/sink2.out"
echo "   (the replay's lag column counts from each event's original commit: ignore it)"

if [ -x "$build/bench/micro_bench" ]; then
  echo "-- micro benchmarks"
  "$build/bench/micro_bench" --benchmark_min_time=0.2
fi
