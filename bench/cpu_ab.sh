#!/usr/bin/env bash
# Server CPU time per request of two builds (or a build and the reference server),
# measured at the same moment: both servers share CPU 0, each gets its own load
# generator on CPU 1, and each server's CPU time (utime + stime from /proc) is divided
# by the requests it answered. Whatever slows the machine down slows both at once,
# so the ratio holds within 1% from round to round on this VM, where throughput
# measured one after the other moves by 20%. Use it to judge a change to the request
# path; bench/run.sh measures the targets.
#
#   bench/cpu_ab.sh BIN_A BIN_B [ROUNDS]     BIN_B may be "reference"
#   H2=1 bench/cpu_ab.sh …                   HTTP/2 (h2load -c32 -m8) instead of
#                                            keep-alive HTTP/1.1 (wrk -t1 -c32)
#   CLOSE=1 bench/cpu_ab.sh …                a new TLS connection per request
#                                            (wrk, Connection: close; run.sh's case b)
#   DUR=4                                    seconds per round (default 4)
#
# Each line: µs of server CPU per request for A and B, and B/A (below 1: B is
# cheaper). The load generators share a core, so neither server is saturated: the
# requests per second here are not throughput figures.
set -euo pipefail
PIN=1
source "$(dirname "$0")/common.sh"
need wrk h2load python3
[ "$(nproc)" -ge 2 ] || { echo "bench: cpu_ab.sh needs two CPUs" >&2; exit 1; }
[ $# -ge 2 ] || { echo "usage: bench/cpu_ab.sh BIN_A BIN_B|reference [ROUNDS]" >&2; exit 2; }
BIN_A="$1" BIN_B="$2" ROUNDS="${3:-5}" DUR="${DUR:-4}"
scratch

# start_build BIN DIR -> PID PORT KEY: a device with an API key, restarted once
start_build() {
    ROOMGATE="$1"
    write_roomgate_config "$2" $'[limits]\nrequests_per_minute = 0\nmax_connections = 4096\nmax_connections_per_address = 4096'
    KEY=$("$1" --config "$2/roomgate.toml" keys create bench --account general --json 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    run_roomgate "$2"
    stop_roomgate
    run_roomgate "$2"
    PID=$RG_PID PORT=$RG_PORT
    PIDS+=("$PID")
}

start_build "$BIN_A" "$WORK/a"
PID_A=$PID PORT_A=$PORT KEY_A=$KEY
if [ "$BIN_B" = reference ]; then
    build_reference
    "${ON_SERVER_CPU[@]}" "$REF" 127.0.0.1:0 "$WORK/a/certs/cert.pem" "$WORK/a/certs/key.pem" 2> "$WORK/ref.log" &
    PID_B=$!
    PIDS+=("$PID_B")
    PORT_B=$(wait_listening "$WORK/ref.log")
    KEY_B=$KEY_A
else
    start_build "$BIN_B" "$WORK/b"
    PID_B=$PID PORT_B=$PORT KEY_B=$KEY
fi
sleep 1

# load PORT KEY -> the number of requests answered in DUR seconds
load() {
    local headers=(-H "Authorization: Nureva $2" "${CLIENT_HEADERS[@]}")
    if [ "${H2:-0}" = 1 ]; then
        "${ON_LOAD_CPU[@]}" h2load -c32 -m8 -D "$DUR" "${headers[@]}" "https://127.0.0.1:$1/api/v1/audio" 2>/dev/null |
            awk '/^requests:/ {print $8}'
    else
        local lua="$WORK/wrk.$1.lua"
        printf 'wrk.headers["Authorization"] = "Nureva %s"\nwrk.headers["Nureva-Client-Id"] = "bench"\nwrk.headers["Nureva-Client-Version"] = "1"\n' "$2" > "$lua"
        if [ "${CLOSE:-0}" = 1 ]; then
            printf 'wrk.headers["Connection"] = "close"\n' >> "$lua"
        fi
        "${ON_LOAD_CPU[@]}" wrk -t1 -c32 -d"${DUR}s" -s "$lua" "https://127.0.0.1:$1/api/v1/audio" |
            awk '/requests in/ {print $1}'
    fi
}

# measure PID PORT KEY OUT: "µs-per-request requests" into OUT
measure() {
    local before after n
    before=$(cpu_ticks "$1")
    n=$(load "$2" "$3")
    after=$(cpu_ticks "$1")
    echo "$(us_per_request $((after - before)) "$n") $n" > "$4"
}

ratios=()
for round in $(seq 1 "$ROUNDS"); do
    measure "$PID_A" "$PORT_A" "$KEY_A" "$WORK/ra" &
    job=$!
    measure "$PID_B" "$PORT_B" "$KEY_B" "$WORK/rb"
    wait "$job"
    read -r us_a n_a < "$WORK/ra"
    read -r us_b n_b < "$WORK/rb"
    ratio=$(awk -v a="$us_a" -v b="$us_b" 'BEGIN {printf "%.3f", b / a}')
    ratios+=("$ratio")
    echo "round $round: A $us_a us/request ($n_a requests), B $us_b us/request ($n_b requests), B/A $ratio"
done
echo "median B/A: $(median 3 "${ratios[@]}")"
