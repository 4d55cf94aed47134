#!/bin/sh
# Calls per second end to end: `dialer run` dials CALLS contacts at CPS calls
# per second against a sipp UAS on loopback that answers at once and hangs up
# after HOLD_MS. Each call is INVITE -> 200 -> ACK, RTP both ways set up and
# the message playing, BYE -> 200, and its attempt row written durably.
# Prints the wall time, the calls per second reached, sipp's counts and the
# attempts the store holds by disposition. Usage:
#   deploy/bench-cps.sh [CALLS] [CPS] [HOLD_MS]
# WRAP runs the dialer under a profiler, e.g. WRAP="perf record -g".
set -eu
CALLS=${1:-10000}
CPS=${2:-2000}
HOLD_MS=${3:-200}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=$(mktemp -d /tmp/bench-cps.XXXXXX)
command -v sipp >/dev/null || { echo "sipp is missing: apt-get install sip-tester" >&2; exit 1; }
cargo build --release --quiet --bin dialer --manifest-path "$ROOT/Cargo.toml"
DIALER="$ROOT/target/release/dialer"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

awk -v n="$CALLS" 'BEGIN { print "id,phone,name,balance,due_date";
  for (i = 1; i <= n; i++) printf "c%d,+5255%08d,Cliente %d,1234.50,2026-12-15\n", i, i, i }' > "$DIR/contacts.csv"
sed "s/HOLD_MS/$HOLD_MS/" "$ROOT/tests/sipp/uas_cps.xml" > "$DIR/uas.xml"
cat > "$DIR/campaign.toml" <<TOML
[database]
path = "dialer.db"
[sip]
bind = "127.0.0.1:15060"
[media]
ip = "127.0.0.1"
rtp_port_min = 20000
rtp_port_max = 39999
[[trunk]]
name = "sipp"
address = "127.0.0.1:15070"
caller_id = "+525599990000"
max_channels = 5000
max_cps = $CPS
[campaign]
name = "bench-cps"
contacts = "contacts.csv"
prompt = "$ROOT/prompts/es-MX/recordatorio.wav"
trunk = "sipp"
default_region = "MX"
wait_for_digits_s = 1
[compliance]
enabled = false   # fictitious numbers, any hour of the benchmark
TOML

cd "$DIR"
sipp -sf uas.xml -i 127.0.0.1 -p 15070 -mi 127.0.0.1 -mp 45000 -m "$CALLS" \
  -max_socket 60000 -trace_stat -fd 1 -bg > sipp.out 2>&1 || true
sleep 0.5
# The dialer's resident memory every 5 s, to see where it levels off.
( sleep 1; t=1; while pid=$(pgrep -f "$DIALER run campaign.toml" | tail -1) && [ -n "$pid" ]; do
    awk -v t="$t" '/VmRSS/ { printf "%d s: %d MB\n", t, $2 / 1024 }' "/proc/$pid/status" 2>/dev/null
    sleep 5; t=$((t + 5)); done > rss.txt ) &
/usr/bin/time -f "%e s wall, %U s user, %S s sys, %M KB max RSS" \
  env DIALER_LOG=dialer::store=info ${WRAP:-} "$DIALER" run campaign.toml > run.out 2> run.err || { tail -20 run.err; exit 1; }
WALL=$(tail -1 run.err | cut -d' ' -f1)
tail -1 run.err
grep -o "attempt writer closed.*" run.err | sed 's/\x1b\[[0-9;]*m//g' || true
echo "$CALLS" | awk -v line="$(tail -1 run.err)" '{ split(line, w, " ");
  printf "dialer CPU: %.0f us per call (user + system)\n", (w[4] + w[7]) * 1e6 / $1 }'
sleep 1
SIPP_PID=$(sed -n 's/.*PID=\[\([0-9]*\)\].*/\1/p' sipp.out)
if [ -n "$SIPP_PID" ] && [ -r "/proc/$SIPP_PID/stat" ]; then
  awk -v n="$CALLS" -v hz="$(getconf CLK_TCK)" '{ printf "sipp CPU: %.0f us per call\n", ($14 + $15) / hz * 1e6 / n }' "/proc/$SIPP_PID/stat"
fi
pkill -f "sipp -sf uas.xml -i 127.0.0.1 -p 15070" 2>/dev/null || true
echo "calls: $CALLS at max_cps $CPS, hold $HOLD_MS ms: $(echo "$CALLS $WALL" | awk '{ printf "%.0f", $1 / $2 }') calls/s over the whole run"
grep -E "dialed in|^  [a-z_]+ +[0-9]+" run.out || cat run.out
"$DIALER" report --db dialer.db --format csv > attempts.csv 2>/dev/null || true
# Seconds of the day of an ISO time (the run does not cross midnight).
awk -F, 'function t(v) { split(substr(v, 12, 12), p, ":"); return p[1] * 3600 + p[2] * 60 + p[3] }
  NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
  { s = t($h["started_at"]); e = t($h["ended_at"]); n++
    if (n == 1 || s < first) first = s; if (s > last) last = s; if (e > end) end = e
    if ($h["ended_at"] != "") done++; if ($h["disposition"] == "answered") answered++ }
  END { printf "attempt rows: %d (%d ended, %d answered)\n", n, done, answered
        printf "dialing: first INVITE to last INVITE %.2f s = %.0f calls/s; to the last call ended %.2f s\n",
          last - first, (n - 1) / (last - first), end - first }' attempts.csv
STAT=$(ls -t ./*_.csv 2>/dev/null | head -1 || true)
if [ -n "$STAT" ]; then
  awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i } END {
    printf "sipp: %s calls successful, %s failed, %s retransmissions\n",
      $h["SuccessfulCall(C)"], $h["FailedCall(C)"], $h["Retransmissions(C)"] }' "$STAT"
fi
echo "dialer resident memory: $(paste -sd' ' rss.txt | sed 's/ MB /, /g')"
echo "files in $DIR"
