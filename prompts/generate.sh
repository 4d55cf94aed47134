#!/usr/bin/env bash
# Renders the fixed prompts of the sample campaigns with espeak-ng.
# Studio recordings can replace any file: keep the name, any WAV format works
# (the dialer resamples to 8 kHz when it loads a prompt).
#
#   prompts/generate.sh          # needs espeak-ng (apt-get install espeak-ng)
set -euo pipefail
cd "$(dirname "$0")"
command -v espeak-ng >/dev/null || { echo "espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }

render() { # voice speed file text
  espeak-ng -v "$1" -s "$2" -w "$3" "$4"
  echo "wrote $3"
}

render es-419 165 es-MX/recordatorio.wav \
  "Hola, le llamamos de Cobranza Demo: su pago está pendiente. Para hablar con un asesor, marque uno. Si ya pagó, marque dos."

render en-us 160 en-US/reminder.wav \
  "Hello, this is Collections Demo: your payment is due. To speak with an agent, press one. If you have already paid, press two."
