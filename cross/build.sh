#!/usr/bin/env bash
# Build roomgate for the device, statically linked, with Debian's Rust and cross C
# toolchain (rustup cannot add targets on the build machines):
#
#   cross/build.sh aarch64   → target/aarch64-unknown-linux-gnu/release/roomgate
#   cross/build.sh armv7     → target/armv7-unknown-linux-gnueabihf/release/roomgate
#
# Missing packages are installed with apt (root or sudo): Debian's rustc
# (`rustc-web`), the cross C compiler and C library, qemu-user for cross/test.sh.
# The target's standard library must be exactly rustc's version. It comes from
# `libstd-rust-web-dev:ARCH` when apt offers that version; when it does not (a
# mirror can list a foreign architecture's packages a version behind while it
# syncs), the same .deb is fetched from the Debian pool by its exact version and
# unpacked into a private sysroot under target/ — nothing is installed from it.
# Static linking matters: a dynamically linked binary needs the device's exact glibc,
# and under qemu-user a dynamic aarch64 binary hangs at its first thread spawn.
set -euo pipefail
cd "$(dirname "$0")/.."
source cross/targets.sh
select_target "${1:-}"
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
POOLS=(http://deb.debian.org/debian-security/pool/updates/main/r/rustc-web
    http://deb.debian.org/debian/pool/main/r/rustc-web)

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
version_of() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
candidate() { apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'; }

# The compilers and the emulator: packages of this machine's architecture.
ensure_tools() {
    local missing=()
    for p in rustc-web "gcc-$GNU_TRIPLE" "libc6-dev-$DEB_ARCH-cross" qemu-user-static; do
        installed "$p" || missing+=("$p")
    done
    [ "${#missing[@]}" -eq 0 ] && return
    echo "cross/build.sh: installing ${missing[*]}" >&2
    as_root apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}"
}

# The target's standard library at rustc's exact version; sets SYSROOT when it had
# to come from the pool.
ensure_std() {
    local v
    v=$(version_of rustc-web)
    SYSROOT=""
    [ "$(version_of "libstd-rust-web-dev:$DEB_ARCH")" = "$v" ] && return
    if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
        as_root dpkg --add-architecture "$DEB_ARCH"
    fi
    as_root apt-get update -qq || true
    if [ "$(candidate "libstd-rust-web-dev:$DEB_ARCH")" = "$v" ]; then
        DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "libstd-rust-web-dev:$DEB_ARCH=$v"
        return
    fi
    local root="$TARGET_DIR/debian-std/$RUST_TARGET-$v"
    if [ ! -d "$root/lib/rustlib/$RUST_TARGET/lib" ]; then
        echo "cross/build.sh: apt offers libstd-rust-web-dev:$DEB_ARCH $(candidate "libstd-rust-web-dev:$DEB_ARCH"), rustc is $v;" >&2
        echo "  fetching $v from the Debian pool into $root" >&2
        local tmp deb="libstd-rust-web-dev_${v}_${DEB_ARCH}.deb"
        tmp=$(mktemp -d)
        local got=""
        for pool in "${POOLS[@]}"; do
            curl -sfL -o "$tmp/$deb" "$pool/$deb" && { got=1; break; }
        done
        [ -n "$got" ] || { echo "cross/build.sh: $deb is not in the Debian pool either" >&2; exit 1; }
        dpkg-deb -x "$tmp/$deb" "$tmp/x"
        rm -rf "$root" && mkdir -p "$root/lib/rustlib"
        mv "$tmp/x/usr/lib/rustlib/$RUST_TARGET" "$root/lib/rustlib/"
        rm -rf "$tmp"
    fi
    SYSROOT="$(cd "$root" && pwd)"
}

ensure_tools
ensure_std
upper=$(echo "$RUST_TARGET" | tr 'a-z-' 'A-Z_')
export RUSTC=/usr/bin/rustc
export RUSTFLAGS="-C target-feature=+crt-static${SYSROOT:+ --sysroot $SYSROOT}"
export "CARGO_TARGET_${upper}_LINKER=$GNU_TRIPLE-gcc"
export "CC_${RUST_TARGET//-/_}=$GNU_TRIPLE-gcc"
export "AR_${RUST_TARGET//-/_}=$GNU_TRIPLE-ar"
cargo build --release --locked --target "$RUST_TARGET" --bin roomgate
BIN="$TARGET_DIR/$RUST_TARGET/release/roomgate"
command -v file >/dev/null && file "$BIN"
echo "built $BIN ($(stat -c %s "$BIN") bytes)"
