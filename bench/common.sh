# Shared helpers for the benchmark scripts (sourced, not run).
# They build the release binary, start roomgate on loopback in a scratch folder,
# and read numbers from wrk and /proc.

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BENCH_DIR/.." && pwd)"
# ROOMGATE_BIN measures a given binary (an older build, say) instead of building one.
ROOMGATE="${ROOMGATE_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/roomgate}"
CLIENT_HEADERS=(-H "Nureva-Client-Id: bench" -H "Nureva-Client-Version: 1")

# With PIN=1 (bench/run.sh's default) and two or more CPUs, servers run on CPU 0 and
# load generators on CPU 1, so that the two never compete for a core and every
# server gets the same one.
if [ "${PIN:-0}" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
    ON_SERVER_CPU=(taskset -c 0)
    ON_LOAD_CPU=(taskset -c 1)
else
    ON_SERVER_CPU=()
    ON_LOAD_CPU=()
fi

need() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install $tool)" >&2; exit 1; }
    done
}

build_release() {
    [ -n "${ROOMGATE_BIN:-}" ] || (cd "$ROOT" && cargo build --release --quiet)
}

# build_reference -> REF: the bare hyper + rustls server (bench/reference), built
build_reference() {
    (cd "$BENCH_DIR/reference" && cargo build --release --quiet)
    REF="${CARGO_TARGET_DIR:-$BENCH_DIR/reference/target}/release/reference-server"
}

# scratch -> WORK (a temporary folder) and PIDS (add the servers started): on exit
# every one of PIDS is stopped and WORK removed
scratch() {
    WORK="$(mktemp -d)"
    PIDS=()
    trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
}

# write_roomgate_config DIR EXTRA_TOML: a loopback config in DIR/roomgate.toml
write_roomgate_config() {
    local dir="$1" extra="$2"
    mkdir -p "$dir"
    cat > "$dir/roomgate.toml" <<TOML
[server]
listen = "127.0.0.1:0"
state_dir = "state"
[tls]
cert_dir = "certs"
[log]
level = "warn"
$extra
TOML
}

# wait_listening LOG -> prints the port once LOG says "listening on https://…"
wait_listening() {
    local log="$1" port
    for _ in $(seq 1 400); do
        port=$( (grep -o 'listening on https://[0-9.]*:[0-9]*' "$log" 2>/dev/null || true) | sed 's/.*://')
        [ -n "$port" ] && { echo "$port"; return 0; }
        sleep 0.025
    done
    echo "bench: the server did not start" >&2; cat "$log" >&2; exit 1
}

# run_roomgate DIR -> sets RG_PID, RG_PORT (config already in DIR)
run_roomgate() {
    local dir="$1"
    "${ON_SERVER_CPU[@]}" "$ROOMGATE" serve --config "$dir/roomgate.toml" --log-level info 2> "$dir/log" &
    RG_PID=$!
    RG_PORT=$(wait_listening "$dir/log")
}

# start_roomgate DIR EXTRA_TOML -> sets RG_PID, RG_PORT
start_roomgate() {
    write_roomgate_config "$1" "$2"
    run_roomgate "$1"
}

stop_roomgate() {
    kill "$RG_PID" 2>/dev/null || true
    wait "$RG_PID" 2>/dev/null || true
}

# login ACCOUNT PASSWORD -> prints authParameters
login() {
    curl -sk "https://127.0.0.1:$RG_PORT/api/v1/auth/login" "${CLIENT_HEADERS[@]}" \
        -H 'Content-Type: application/json' -d "{\"account\":\"$1\",\"password\":\"$2\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["authParameters"])'
}

# median DECIMALS VALUE… -> the median (the mean of the middle two for an even count)
median() {
    local decimals="$1"
    shift
    printf '%s\n' "$@" | sort -n | awk -v d="$decimals" '{a[NR] = $1} END {
        printf "%." d "f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# mib KIB -> MiB with one decimal ("-" stays "-")
mib() { [ "$1" = "-" ] && echo "-" || awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# cpu_ticks PID -> CPU time PID has used, user + system, in clock ticks
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# us_per_request TICKS REQUESTS -> µs of CPU per request (two decimals)
us_per_request() {
    awk -v c="$1" -v t="$(getconf CLK_TCK)" -v n="$2" 'BEGIN {printf "%.2f", (n > 0) ? c / t * 1e6 / n : 0}'
}

rss_kib() {
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0
}

# sample_rss PID OUTFILE: writes the maximum RSS (KiB) seen until killed
sample_rss() {
    local pid="$1" out="$2" max=0 now
    while kill -0 "$pid" 2>/dev/null; do
        now=$(rss_kib "$pid")
        [ "${now:-0}" -gt "$max" ] && max=$now && echo "$max" > "$out"
        sleep 0.1
    done
}

# wrk_ms "<wrk output>" PERCENT -> latency at that percentile in milliseconds
wrk_ms() {
    echo "$1" | awk -v p="$2%" '$1 == p {
        v = $2; unit = v; gsub(/[0-9.]/, "", unit); gsub(/[a-z]/, "", v);
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000;
        printf "%.2f", v }'
}

wrk_rps() {
    echo "$1" | awk '/^Requests\/sec:/ {printf "%.0f", $2}'
}

wrk_non2xx() {
    echo "$1" | awk '/Non-2xx or 3xx responses:/ {n = $5} END {print n + 0}'
}
