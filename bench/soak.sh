#!/usr/bin/env bash
# A compressed day in a room: roomgate (the release build, or the binary ROOMGATE_BIN
# names) runs for SOAK_MINUTES (default 30) while 8 room control systems poll
# GET /api/v1/audio every 2 s with their API keys (and now and then read the status
# or change the volume), event and data streams open and close, general logins come
# and go, API keys are created and revoked at the console and through the API, the
# integrator account and the security policy change, the config is edited and
# reloaded with SIGHUP, and a few hostile clients (slowloris, garbage bytes, silent
# TCP connections, oversized bodies, stream hogging, bad keys and passwords at a
# high rate) come by. bench/soak.py drives it; see its docstring for the details.
#
#   bench/soak.sh                                   30 minutes
#   SOAK_MINUTES=5 bench/soak.sh                    a shorter day (activities compressed)
#   ROOMGATE_BIN=/path/to/roomgate OUT=/tmp/soak SOAK_MINUTES=3 bench/soak.sh
#   SOAK_INTERVAL=10 bench/soak.sh                  sample every 10 s (default: run / 60, 2–30 s)
#
# Passes when, after the warm-up (the first 20 % of the run, at most 3 minutes), RSS
# grows by at most 1 MiB, open descriptors (not counting connections the clients
# hold open) by none, and the state file by at most 1 MiB; when the p99 of the polls
# stays under 20 ms in every sampling interval after the warm-up; and when no request
# fails that should not (refusals of the hostile clients are expected). Prints a
# Markdown table and writes soak.csv, soak.png (RSS, descriptors and poll p99 over
# time), polls.csv, activity.csv, failures.txt and the service's log (roomgate.log)
# to OUT (default bench/out/soak-<UTC time>). Exit 1 if a figure fails.
#
# Needs python3 (standard library only) and, for the plot, matplotlib
# (pip install matplotlib; without it the table is still printed). Linux only: it
# reads /proc and gives each simulated client its own address in 127.0.0.0/8.
#
# No limit is lifted: every simulated client connects from its own loopback address
# (127.0.0.11, 127.0.0.12, …), as separate devices on a room network would, so the
# per-address limits (requests_per_minute = 600, max_connections_per_address = 64,
# max_streams_per_address = 8, the login throttle) apply to each one as shipped. The
# shipped argon2 cost (19 MiB, t=2) is kept too.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need python3
MINUTES="${SOAK_MINUTES:-30}"
build_release   # nothing to build when ROOMGATE_BIN names the binary (common.sh)
OUT="${OUT:-$BENCH_DIR/out/soak-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'stop_roomgate; cp "$WORK/log" "$OUT/roomgate.log" 2>/dev/null || true; rm -rf "$WORK"' EXIT
# soak.py toggles identify_time (10 s / 11 s) before each SIGHUP, so that every
# reload applies a change.
start_roomgate "$WORK" $'[device]\nidentify_time = "10s"'
python3 "$BENCH_DIR/soak.py" --bin "$ROOMGATE" --config "$WORK/roomgate.toml" --log "$WORK/log" \
    --pid "$RG_PID" --port "$RG_PORT" --minutes "$MINUTES" --interval "${SOAK_INTERVAL:-0}" --out "$OUT"
