#!/usr/bin/env bash
# Login floods are isolated: while 50 connections send logins as fast as they can,
# an authorized client's GET /api/v1/audio keeps a low p99, and the process stays
# small. Uses the shipped argon2 cost (OWASP: 19 MiB, t=2) and hash pool.
#
#   bench/login_flood.sh [SECONDS]        (default 20 s per scenario)
#
# Scenarios, each with a fresh device:
#   quiet    the probe alone
#   wrong    50 connections POST a wrong admin password (throttled: 429s)
#   correct  50 connections POST the right general password (each one an argon2
#            hash; bounded by limits.hash_concurrency + hash_queue, then 503)
#
# The request-rate limit is off (requests_per_minute = 0): on loopback the flood and
# the probe share one address, and the point is to load the login path.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need wrk curl python3
DUR="${1:-20}"
build_release
WORK="$(mktemp -d)"
trap 'stop_roomgate; rm -rf "$WORK"' EXIT

run_scenario() {
    local name="$1" flood_script="$2"
    local dir="$WORK/$name"
    start_roomgate "$dir" $'[limits]\nrequests_per_minute = 0\nmax_connections_per_address = 4096'
    local token
    token=$(login general "")
    local idle_rss
    idle_rss=$(rss_kib "$RG_PID")
    sample_rss "$RG_PID" "$dir/maxrss" &
    local sampler=$!
    local flood_pid="" flood_out="$dir/flood.txt"
    if [ -n "$flood_script" ]; then
        wrk -t2 -c50 -d"$((DUR + 4))s" -s "$BENCH_DIR/lua/$flood_script" \
            "https://127.0.0.1:$RG_PORT/api/v1/auth/login" > "$flood_out" 2>&1 &
        flood_pid=$!
        sleep 2
    fi
    local probe
    probe=$(wrk -t1 -c2 -d"${DUR}s" --latency "${CLIENT_HEADERS[@]}" \
        -H "Authorization: Nureva $token" "https://127.0.0.1:$RG_PORT/api/v1/audio")
    [ -n "$flood_pid" ] && wait "$flood_pid"
    kill "$sampler" 2>/dev/null || true
    local flood_rps="-" flood_non2xx="-"
    if [ -n "$flood_script" ]; then
        flood_rps=$(wrk_rps "$(cat "$flood_out")")
        flood_non2xx=$(wrk_non2xx "$(cat "$flood_out")")
    fi
    printf "| %-8s | %8s | %8s | %8s | %9s | %10s | %12s | %9s |\n" "$name" \
        "$(wrk_ms "$probe" 50)" "$(wrk_ms "$probe" 90)" "$(wrk_ms "$probe" 99)" \
        "$(wrk_rps "$probe")" "$flood_rps" "${flood_non2xx:-0}" \
        "$(( $(cat "$dir/maxrss" 2>/dev/null || echo "$idle_rss") / 1024 ))"
    stop_roomgate
}

echo "login flood isolation: ${DUR}s per scenario, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| scenario | probe p50 ms | p90 ms | p99 ms | probe req/s | flood req/s | flood non-2xx | max RSS MiB |"
echo "|----------|-------------:|-------:|-------:|------------:|------------:|--------------:|------------:|"
run_scenario quiet ""
run_scenario wrong login_wrong.lua
run_scenario correct login_general.lua
