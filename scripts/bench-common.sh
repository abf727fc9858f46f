# Sourced by the bench scripts: a scratch directory and the child processes to stop on exit.
# Usage: source scripts/bench-common.sh PREFIX; then `pids+=($!)` after starting each child.
work=$(mktemp -d "/tmp/$1-XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
