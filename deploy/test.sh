#!/usr/bin/env bash
# Runs every test of the project, installing what the tests need first.
#
#   deploy/test.sh
#
# The end-to-end tests drive the real `dialer` binary against real peers on
# loopback: sipp (Debian package sip-tester) as the carrier trunk and as an
# agent softphone, baresip as a real agent softphone, dumpcap
# (tshark) to see the RTP a peer received, and a network namespace (iproute2)
# for the RFC 4475 torture test. They need root: packet capture on `lo`,
# sipp's pcap replay and `ip netns` all do.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/test.sh: the end-to-end tests capture packets and create network namespaces; run it as root" >&2
  exit 1
fi

missing=()
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v dumpcap >/dev/null 2>&1 || missing+=(tshark)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v kill >/dev/null 2>&1 || missing+=(procps)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v baresip >/dev/null 2>&1 || missing+=(baresip)
# libFuzzer (cargo-fuzz) is C++.
command -v g++ >/dev/null 2>&1 || missing+=(g++)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Lints first: clippy.toml's disallowed methods are how "pure cores never
# read the clock" is enforced (the pure modules deny them), so a core that
# asks for the time fails here, before any test runs.
if ! cargo clippy --version >/dev/null 2>&1; then
  rustup component add clippy
fi
cargo clippy --workspace --all-targets --locked -- -D warnings

# The tests run the built binaries (dialer, sip-send), so build them first.
cargo build --workspace --bins --locked
cargo test --workspace --locked --no-fail-fast

# Fuzz what the far end sends us (fuzz/, see docs/fuzzing.md): each target
# for a short while, from its seeds. cargo-fuzz passes nightly-only flags;
# RUSTC_BOOTSTRAP lets the one stable toolchain take them.
if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked --version 0.13.2
fi
for target in rtp rtcp sdp jitter; do
  mkdir -p "fuzz/corpus/$target"
  RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz "$target" \
    "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="${FUZZ_SECONDS:-20}" -rss_limit_mb=2048
done
