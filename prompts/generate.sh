#!/usr/bin/env bash
# Renders the shipped prompts with espeak-ng through the dialer itself:
# the fixed phrases of the sample flows, and for each language the complete
# set of fragments that voice numbers, money and dates word by word, plus
# manifest.toml. Everything is 8 kHz µ-law WAV, the shape telephony prompts
# take. Replace any file with a studio recording of the same name (any WAV
# format works) and keep manifest.toml.
#
#   prompts/generate.sh          # needs espeak-ng (apt-get install espeak-ng)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v espeak-ng >/dev/null || { echo "espeak-ng is not installed (apt-get install espeak-ng)" >&2; exit 1; }
cargo build --release --bin dialer -q
dialer=target/release/dialer

speak() { # lang name text
  "$dialer" prompts speak --lang "$1" --out "prompts/$1/$2.wav" "$3"
}

mkdir -p prompts/es-MX prompts/en-US
speak es-MX recordatorio "Hola, le llamamos de Cobranza Demo: su pago está pendiente. Para hablar con un asesor, marque uno. Si ya pagó, marque dos."
speak es-MX saludo "Hola, le llamamos de Cobranza Demo."
speak es-MX menu-asesor "Para hablar con un asesor, marque uno. Si ya pagó, marque dos."
speak es-MX menu-recordatorio "Para escuchar su saldo, marque uno. Para prometer una fecha de pago, marque dos. Para hablar con un asesor, marque cero. Para no recibir más llamadas, marque nueve."
speak es-MX opcion-invalida "Esa opción no es válida."
speak es-MX pedir-fecha "Marque el día y el mes en que realizará su pago, por ejemplo, uno cinco uno dos para el quince de diciembre."
speak es-MX fecha-invalida "Esa fecha no es válida."
speak es-MX promesa-registrada "Gracias, registramos su promesa de pago."
speak es-MX baja-confirmada "Listo. No volveremos a llamarle a este número."
speak es-MX transferencia "Un momento, le comunicamos con un asesor."
speak es-MX despedida "Gracias, que tenga buen día."
speak es-MX espera "Todos nuestros asesores están ocupados. Por favor, no cuelgue; en un momento le atendemos."
speak es-MX posicion-fila "Su lugar en la fila es el número"
speak es-MX sin-asesores "Por ahora no hay asesores disponibles. Le llamaremos más tarde. Gracias."
speak es-MX devolveremos-llamada "Nuestros asesores siguen ocupados. Le devolveremos la llamada lo antes posible. Gracias."
speak es-MX deje-mensaje "Nuestros asesores están ocupados. Deje su mensaje después del tono, con su nombre y un número para llamarle. Para terminar, marque gato."

speak en-US recordatorio "Hello, this is Collections Demo: your payment is due. To speak with an agent, press one. If you have already paid, press two."
speak en-US saludo "Hello, this is Collections Demo."
speak en-US menu-asesor "To speak with an agent, press one. If you have already paid, press two."
speak en-US menu-recordatorio "To hear your balance, press one. To promise a payment date, press two. To speak with an agent, press zero. To stop these calls, press nine."
speak en-US opcion-invalida "That option is not valid."
speak en-US pedir-fecha "Enter the month and day of your payment, for example one two one five for December fifteenth."
speak en-US fecha-invalida "That date is not valid."
speak en-US promesa-registrada "Thank you, your promise to pay is recorded."
speak en-US baja-confirmada "Done. We will not call this number again."
speak en-US transferencia "One moment, we are connecting you with an agent."
speak en-US despedida "Thank you, goodbye."
speak en-US espera "All of our agents are busy. Please stay on the line; we will be with you shortly."
speak en-US posicion-fila "Your place in the queue is number"
speak en-US sin-asesores "No agents are available right now. We will call you back later. Thank you."
speak en-US devolveremos-llamada "Our agents are still busy. We will call you back as soon as possible. Thank you."
speak en-US deje-mensaje "Our agents are busy. Please leave your message after the tone, with your name and a number to call you back. To finish, press the pound key."

"$dialer" prompts fragments --lang es-MX --dir prompts/es-MX
"$dialer" prompts fragments --lang en-US --dir prompts/en-US
