#!/usr/bin/env bash
# Runs `dialer demo`: a 20-debtor Spanish campaign against the built-in
# simulated carrier. Installs espeak-ng first when it is missing (the demo
# speaks each debtor's name, balance and due date with it).
#
#   deploy/demo.sh [--dir FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v espeak-ng >/dev/null 2>&1; then
  echo "installing espeak-ng (text to speech for the personalized messages)" >&2
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends espeak-ng
fi
exec cargo run --release --locked --bin dialer -- demo "$@"
