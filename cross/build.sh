#!/usr/bin/env bash
# Build roomgate for the device, statically linked, with Debian's Rust and cross C
# toolchain (rustup cannot add targets on the build machines):
#
#   cross/build.sh aarch64   → target/aarch64-unknown-linux-gnu/release/roomgate
#   cross/build.sh armv7     → target/armv7-unknown-linux-gnueabihf/release/roomgate
#
# Missing packages are installed with apt (root or sudo). Debian's standard library
# for the target must be the same version as its rustc; when the archive does not
# offer matching versions (a mirror mid-sync, say) the script stops and says so.
# Static linking matters: a dynamically linked binary needs the device's exact glibc,
# and under qemu-user a dynamic aarch64 binary hangs at its first thread spawn.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
select_target "${1:-}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_toolchain() {
    local pkgs=(rustc-web libstd-rust-web-dev:"$DEB_ARCH" "gcc-$GNU_TRIPLE" "libc6-dev-$DEB_ARCH-cross" qemu-user-static)
    local missing=()
    for p in "${pkgs[@]}"; do installed "$p" || missing+=("$p"); done
    if [ "${#missing[@]}" -eq 0 ] && same_rust_versions; then
        return
    fi
    echo "cross/build.sh: installing ${missing[*]:-matching Rust versions}" >&2
    if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
        as_root dpkg --add-architecture "$DEB_ARCH"
    fi
    # A mirror mid-sync can list a foreign architecture's packages a version behind;
    # that passes, so look again a few times before giving up.
    local host_v="" target_v="" attempt
    for attempt in 1 2 3; do
        as_root apt-get update -qq || true
        host_v=$(apt-cache policy rustc-web | awk '/Candidate:/ {print $2}')
        target_v=$(apt-cache policy "libstd-rust-web-dev:$DEB_ARCH" | awk '/Candidate:/ {print $2}')
        if [ -n "$host_v" ] && [ "$host_v" != "(none)" ] && [ "$host_v" = "$target_v" ]; then
            break
        fi
        [ "$attempt" -lt 3 ] && sleep 20
    done
    if [ -z "$host_v" ] || [ "$host_v" = "(none)" ] || [ "$host_v" != "$target_v" ]; then
        echo "cross/build.sh: Debian offers rustc-web ${host_v:-none} but libstd-rust-web-dev:$DEB_ARCH ${target_v:-none};" >&2
        echo "  they must match. Run 'apt-get update' again later (a mirror may be mid-sync)." >&2
        exit 1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq \
        "rustc-web=$host_v" "libstd-rust-web-dev=$host_v" "libstd-rust-web-dev:$DEB_ARCH=$target_v" \
        "gcc-$GNU_TRIPLE" "libc6-dev-$DEB_ARCH-cross" qemu-user-static cargo-web
}

same_rust_versions() {
    [ "$(dpkg-query -W -f='${Version}' rustc-web)" = "$(dpkg-query -W -f='${Version}' "libstd-rust-web-dev:$DEB_ARCH")" ]
}

ensure_toolchain
upper=$(echo "$RUST_TARGET" | tr 'a-z-' 'A-Z_')
export RUSTC=/usr/bin/rustc
export RUSTFLAGS="-C target-feature=+crt-static"
export "CARGO_TARGET_${upper}_LINKER=$GNU_TRIPLE-gcc"
export "CC_${RUST_TARGET//-/_}=$GNU_TRIPLE-gcc"
export "AR_${RUST_TARGET//-/_}=$GNU_TRIPLE-ar"
cargo build --release --locked --target "$RUST_TARGET" --bin roomgate
BIN="${CARGO_TARGET_DIR:-target}/$RUST_TARGET/release/roomgate"
command -v file >/dev/null && file "$BIN"
echo "built $BIN ($(stat -c %s "$BIN") bytes)"
