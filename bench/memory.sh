#!/usr/bin/env bash
# Memory after real use: the RSS a device settles at (2 s after the work stops) after
# a first start, after one login, after a burst of 8 parallel logins and after 200
# sequential logins, and the peak during the burst; with the login latency. The
# shipped argon2 cost (19 MiB, t=2) and hash_concurrency (2) apply; logins are
# password logins of the general account, each on a new TLS connection.
#
#   bench/memory.sh                              the release build (or ROOMGATE_BIN)
#   LOGIN_REFERENCE_BIN=/path/to/old/roomgate bench/memory.sh
#                                                the same, and the 200-login latency
#                                                of another build, in the same run
#
# Targets: settled RSS <= 8 MiB in all four states; burst peak <= the RSS before the
# burst + hash_concurrency x passwords.memory_kib + 2 MiB.
set -euo pipefail
source "$(dirname "$0")/common.sh"
need python3 curl
build_release
WORK="$(mktemp -d)"
trap 'stop_roomgate; rm -rf "$WORK"' EXIT
PASSWORD="bench-password-2026"
# One address sends every login here: the request rate limit is off.
EXTRA=$'[limits]\nrequests_per_minute = 0'
# The shipped values, read from the default config these devices run with.
shipped() { awk -F' = ' -v k="$1" '$1 == k {print $2}' "$ROOT/device-config/roomgate.toml"; }
MEM_KIB=$(shipped memory_kib)
CONCURRENCY=$(shipped hash_concurrency)
SETTLE=2

settled() { sleep "$SETTLE"; rss_kib "$RG_PID"; }
verdict() { awk -v a="$1" -v b="$2" 'BEGIN {print (a <= b) ? "PASS" : "FAIL"}'; }

# device DIR -> a device with a general password, started (RG_PID, RG_PORT)
device() {
    write_roomgate_config "$1" "$EXTRA"
    printf '%s\n' "$PASSWORD" | "$ROOMGATE" --config "$1/roomgate.toml" account set-password general >/dev/null 2>&1
    run_roomgate "$1"
}
logins() { python3 "$BENCH_DIR/logins.py" "$RG_PORT" "$1/certs/cert.pem" general "$PASSWORD" "$2" "$3" "$RG_PID"; }
field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
check_all_ok() {
    [ "$(field "$1" ok)" = "$(field "$1" logins)" ] || { echo "bench: logins failed: $1" >&2; exit 1; }
}

# A first start hashes the enrollment code.
write_roomgate_config "$WORK/first" "$EXTRA"
run_roomgate "$WORK/first"
FIRST=$(settled)
stop_roomgate

device "$WORK/dev"
IDLE=$(settled)
ONE=$(logins "$WORK/dev" sequential 1); check_all_ok "$ONE"
AFTER_ONE=$(settled)
BURST=$(logins "$WORK/dev" parallel 8); check_all_ok "$BURST"
AFTER_BURST=$(settled)
SEQ=$(logins "$WORK/dev" sequential 200); check_all_ok "$SEQ"
AFTER_SEQ=$(settled)
stop_roomgate
PEAK=$(field "$BURST" peak_kib)
PEAK_LIMIT=$((AFTER_ONE + CONCURRENCY * MEM_KIB + 2048))

# Login latency A/B: both builds run at once, and 4 rounds of 100 sequential logins
# alternate between them (this, that, this, that…), so that machine drift cancels.
AB=""
if [ -n "${LOGIN_REFERENCE_BIN:-}" ]; then
    device "$WORK/ab-this"; THIS_PID=$RG_PID THIS_PORT=$RG_PORT
    ROOMGATE="$LOGIN_REFERENCE_BIN" device "$WORK/ab-that"; THAT_PID=$RG_PID THAT_PORT=$RG_PORT
    this=() that=()
    for _ in 1 2 3 4; do
        RG_PID=$THIS_PID RG_PORT=$THIS_PORT
        r=$(logins "$WORK/ab-this" sequential 100); check_all_ok "$r"; this+=("$(field "$r" median_ms)")
        RG_PID=$THAT_PID RG_PORT=$THAT_PORT
        r=$(logins "$WORK/ab-that" sequential 100); check_all_ok "$r"; that+=("$(field "$r" median_ms)")
    done
    kill "$THIS_PID" "$THAT_PID" 2>/dev/null || true
    wait "$THIS_PID" "$THAT_PID" 2>/dev/null || true
    AB="$(median 1 "${this[@]}") $(median 1 "${that[@]}") | rounds: ${this[*]} | ${that[*]}"
fi

echo "memory after real use: settled = RSS ${SETTLE} s after the work stops; argon2 ${MEM_KIB} KiB x hash_concurrency ${CONCURRENCY}"
echo
echo "| state | RSS MiB | target | |"
echo "|---|---:|---:|---|"
echo "| idle after a restart | $(mib "$IDLE") | 8.0 | $(verdict "$IDLE" 8192) |"
echo "| settled after a first start (enrollment code hashed) | $(mib "$FIRST") | 8.0 | $(verdict "$FIRST" 8192) |"
echo "| settled after 1 login | $(mib "$AFTER_ONE") | 8.0 | $(verdict "$AFTER_ONE" 8192) |"
echo "| peak during 8 parallel logins | $(mib "$PEAK") | $(mib "$PEAK_LIMIT") | $(verdict "$PEAK" "$PEAK_LIMIT") |"
echo "| settled after 8 parallel logins | $(mib "$AFTER_BURST") | 8.0 | $(verdict "$AFTER_BURST" 8192) |"
echo "| settled after 200 sequential logins | $(mib "$AFTER_SEQ") | 8.0 | $(verdict "$AFTER_SEQ" 8192) |"
echo
echo "login latency (new TLS connection + argon2 + session), ms:"
echo "  first login after idle: $(field "$ONE" median_ms)"
echo "  8 parallel: median $(field "$BURST" median_ms), max $(field "$BURST" max_ms)"
echo "  200 sequential: median $(field "$SEQ" median_ms), p90 $(field "$SEQ" p90_ms)"
if [ -n "$AB" ]; then
    read -r a b _ <<< "$AB"
    echo "  A/B, 4 alternating rounds of 100 sequential logins, median of round medians:"
    echo "    this build $a ms, $LOGIN_REFERENCE_BIN $b ms ($(echo "$AB" | cut -d'|' -f2-))"
    echo "    ratio (this / that): $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}') (target <= 1.10)"
fi
