//! Agents' softphones for transfer tests: sipp (REGISTER with digest, then
//! auto-answer, "talking" a tone) and baresip (a real SIP UA registering
//! with digest, auto-answering, recording both directions to WAV), plus
//! the campaign pieces a transfer needs: a flow whose key 1 reaches a
//! queue, and agents and queues in the config.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, repo_root, require_tool};

/// How a sipp agent's softphone treats the calls it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentBehaviour {
    /// Rings 1 s, answers, plays its tone.
    Answer,
    /// Rings 0.3 s, then 486 Busy Here.
    Decline,
    /// Rings until the dialer gives up (CANCEL).
    RingForever,
    /// As `Answer`, registered (and called) over TCP.
    AnswerOverTcp,
    /// As `Answer`, then the agent hangs up (BYE) this many ms later.
    AnswerThenHangUp(u32),
    /// As `Answer`, then this many ms later the agent presses hold: a
    /// re-INVITE `a=sendonly` (it goes on playing its tone, as hold music),
    /// whose answer must say `a=recvonly` (sipp fails the call otherwise).
    AnswerThenHold(u32),
}

/// The re-INVITE of [`AgentBehaviour::AnswerThenHold`], put into
/// `uas_agent_answer.xml` before it waits for the BYE.
fn hold_block(ms: u32) -> String {
    format!(
        r#"  <pause milliseconds="{ms}"/>
  <send retrans="500">
    <![CDATA[

      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: [$local_to];tag=[pid]SIPpTag31[call_number]
      To: [$remote_from]
      [last_Call-ID:]
      CSeq: 201 INVITE
      Contact: <sip:agent@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=agent 53655765 2353687638 IN IP[local_ip_type] [local_ip]
      s=sipp-agent
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=sendonly

    ]]>
  </send>
  <recv response="100" optional="true">
  </recv>
  <recv response="200">
    <action>
      <ereg regexp="a=recvonly" search_in="body" check_it="true" assign_to="held"/>
    </action>
  </recv>
  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: [$local_to];tag=[pid]SIPpTag31[call_number]
      To: [$remote_from]
      [last_Call-ID:]
      CSeq: 201 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

"#
    )
}

/// A sipp agent softphone; killed when dropped.
pub struct SippAgent {
    child: Option<Child>,
    pub port: u16,
    pub media_port: u16,
    pub dir: tempfile::TempDir,
}

impl SippAgent {
    /// Registers `user`/`password` at `registrar_port` on loopback (until
    /// `timeout_s`) and answers every INVITE after 1 s, then plays a
    /// `tone_hz` tone for `tone_s`.
    pub fn start(
        registrar_port: u16,
        user: &str,
        password: &str,
        tone_hz: f64,
        tone_s: f64,
        timeout_s: u32,
    ) -> SippAgent {
        SippAgent::start_at(
            "127.0.0.1",
            registrar_port,
            user,
            password,
            tone_hz,
            tone_s,
            timeout_s,
        )
    }

    /// As [`SippAgent::start`], from another loopback address (another
    /// "host" as far as the registrar can tell).
    pub fn start_at(
        ip: &str,
        registrar_port: u16,
        user: &str,
        password: &str,
        tone_hz: f64,
        tone_s: f64,
        timeout_s: u32,
    ) -> SippAgent {
        SippAgent::start_with(
            ip,
            registrar_port,
            user,
            password,
            tone_hz,
            tone_s,
            timeout_s,
            AgentBehaviour::Answer,
        )
    }

    /// A registered agent whose softphone behaves as told: declines every
    /// call (486), rings and never answers, or answers over TCP.
    pub fn start_as(
        registrar_port: u16,
        user: &str,
        password: &str,
        behaviour: AgentBehaviour,
    ) -> SippAgent {
        SippAgent::start_with(
            "127.0.0.1",
            registrar_port,
            user,
            password,
            1_000.0,
            1.0,
            60,
            behaviour,
        )
    }

    #[allow(clippy::too_many_arguments)] // one softphone's whole setup
    fn start_with(
        ip: &str,
        registrar_port: u16,
        user: &str,
        password: &str,
        tone_hz: f64,
        tone_s: f64,
        timeout_s: u32,
        behaviour: AgentBehaviour,
    ) -> SippAgent {
        let sipp = require_tool("sipp", "sip-tester");
        let dir = tempfile::tempdir().expect("temporary folder");
        let tone = dir.path().join("tone.pcap");
        crate::pcap::write_tone(&tone, 0.3, tone_hz, tone_s).expect("write tone pcap");
        let scenarios = repo_root().join("tests/sipp");
        let answer = match behaviour {
            AgentBehaviour::Answer | AgentBehaviour::AnswerOverTcp => {
                scenarios.join("uas_agent_answer.xml")
            }
            AgentBehaviour::Decline => scenarios.join("uas_agent_reject.xml"),
            AgentBehaviour::AnswerThenHangUp(ms) => {
                let xml = std::fs::read_to_string(scenarios.join("uas_agent_answer.xml"))
                    .expect("tests/sipp/uas_agent_answer.xml");
                let path = dir.path().join("uas_agent_hangup.xml");
                std::fs::write(
                    &path,
                    xml.replace(
                        "<recv request=\"BYE\" timeout=\"3600000\"",
                        &format!("<recv request=\"BYE\" timeout=\"{ms}\""),
                    ),
                )
                .expect("write scenario");
                path
            }
            AgentBehaviour::AnswerThenHold(ms) => {
                let xml = std::fs::read_to_string(scenarios.join("uas_agent_answer.xml"))
                    .expect("tests/sipp/uas_agent_answer.xml");
                let wait = "  <!-- in call: wait for the far end's BYE";
                assert!(xml.contains(wait), "uas_agent_answer.xml changed");
                let xml = xml
                    .replacen(wait, &format!("{}{wait}", hold_block(ms)), 1)
                    .replace(
                        "</scenario>",
                        "  <Reference variables=\"held\"/>\n</scenario>",
                    );
                let path = dir.path().join("uas_agent_hold.xml");
                std::fs::write(&path, xml).expect("write scenario");
                path
            }
            AgentBehaviour::RingForever => {
                // The answering scenario, ringing an hour instead of a second.
                let xml = std::fs::read_to_string(scenarios.join("uas_agent_answer.xml"))
                    .expect("tests/sipp/uas_agent_answer.xml");
                let path = dir.path().join("uas_agent_ring.xml");
                std::fs::write(
                    &path,
                    xml.replace(
                        "<recv request=\"CANCEL\" timeout=\"1000\"",
                        "<recv request=\"CANCEL\" timeout=\"3600000\"",
                    ),
                )
                .expect("write scenario");
                path
            }
        };
        let port = free_port();
        let media_port = crate::free_media_port(port);
        let child = Command::new(sipp)
            .arg(format!("127.0.0.1:{registrar_port}"))
            .arg("-sf")
            .arg(scenarios.join("uac_agent_register.xml"))
            .arg("-oocsf")
            .arg(answer)
            .args(["-i", ip, "-mi", ip])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args(["-s", user, "-au", user, "-ap", password])
            .args(["-m", "1", "-timeout", &format!("{timeout_s}s")])
            .args(["-aa", "-nostdin"])
            .args(if behaviour == AgentBehaviour::AnswerOverTcp {
                &["-t", "t1"][..]
            } else {
                &[][..]
            })
            .arg("-key")
            .arg("agent_pcap")
            .arg(&tone)
            .args(["-trace_err", "-error_file"])
            .arg(dir.path().join("errors.log"))
            .args(["-trace_msg", "-message_file"])
            .arg(dir.path().join("messages.log"))
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sipp agent");
        SippAgent {
            child: Some(child),
            port,
            media_port,
            dir,
        }
    }

    /// What sipp sent and received.
    pub fn messages(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- sipp agent messages ---\n{}\n--- sipp agent errors ---\n{}",
            read("messages.log"),
            read("errors.log")
        )
    }

    /// Waits until sipp logged a message containing `text`.
    pub fn wait_for(&self, text: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if std::fs::read_to_string(self.dir.path().join("messages.log"))
                .unwrap_or_default()
                .contains(text)
            {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }
}

impl Drop for SippAgent {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `[registrar]`, one agent with skill `cobranza`, and the `cobranza`
/// queue with `queue` for its other keys: what a test of one agent's
/// softphone puts in `spec.sections`.
pub fn one_agent_sections(login: &str, password: &str, queue: &str) -> String {
    format!(
        "[registrar]\nmin_expires_s = 30\n\n[[agent]]\nlogin = \"{login}\"\npassword = \"{password}\"\nskills = [\"cobranza\"]\n\n[[queue]]\nname = \"cobranza\"\nskills = [\"cobranza\"]\n{queue}"
    )
}

/// A one-debtor campaign against the carrier at `carrier_port` whose flow
/// sends key 1 to the queue `cobranza`; the test adds the agents, queues,
/// registrar and API in `sections`. The flow lives in the returned folder.
pub fn transfer_spec(
    carrier_port: u16,
    (id, phone, name): (&str, &str, &str),
) -> (crate::CampaignSpec, tempfile::TempDir) {
    let mut spec = crate::CampaignSpec::new(carrier_port);
    spec.contacts = vec![(id.into(), phone.into(), name.into())];
    let dir = tempfile::tempdir().expect("temporary folder");
    let flow = transfer_flow(dir.path(), "cobranza");
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    (spec, dir)
}

/// A flow in `dir` that hands the debtor to `queue` as soon as they answer
/// (the flows of paced campaigns).
pub fn connect_flow(dir: &Path, queue: &str) -> PathBuf {
    let text = format!(
        r#"name = "conectar"
language = "es-MX"
prompts = "{prompts}"
start = "asesor"

[node.asesor]
type = "transfer"
queue = "{queue}"
"#,
        prompts = repo_root().join("prompts/es-MX").display()
    );
    let path = dir.join("conectar.toml");
    std::fs::write(&path, text).expect("write flow");
    path
}

/// A flow in `dir`: the menu says "press 1 for an agent"; 1 transfers to
/// `queue`; silence ends the call.
/// Runs a sipp client scenario from `tests/sipp/` against `port` on
/// loopback to its end; true when every expected message came.
pub fn sipp_client(scenario: &str, port: u16, args: &[&str]) -> (bool, String) {
    let sipp = require_tool("sipp", "sip-tester");
    let dir = tempfile::tempdir().expect("temporary folder");
    let out = Command::new(sipp)
        .arg(format!("127.0.0.1:{port}"))
        .arg("-sf")
        .arg(repo_root().join("tests/sipp").join(scenario))
        .args(["-i", "127.0.0.1", "-p", &free_port().to_string()])
        .args(["-m", "1", "-timeout", "30s", "-nostdin"])
        .args(args)
        .args(["-trace_msg", "-message_file"])
        .arg(dir.path().join("messages.log"))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run sipp");
    let messages = std::fs::read_to_string(dir.path().join("messages.log")).unwrap_or_default();
    (
        out.status.success(),
        format!("{}\n{messages}", String::from_utf8_lossy(&out.stderr)),
    )
}

pub fn transfer_flow(dir: &Path, queue: &str) -> PathBuf {
    let text = format!(
        r#"name = "asesor"
language = "es-MX"
prompts = "{prompts}"
start = "menu"

[node.menu]
type = "menu"
prompt = ["file:menu-asesor"]
choices = {{ "1" = "asesor" }}
timeout_s = 8
retries = 0
on_no_input = "hangup:no_input"
on_invalid = "hangup:invalid_input"

[node.asesor]
type = "transfer"
queue = "{queue}"
skills = ["cobranza"]
prompt = ["file:transferencia"]
"#,
        prompts = repo_root().join("prompts/es-MX").display()
    );
    let path = dir.join("asesor.toml");
    std::fs::write(&path, text).expect("write flow");
    path
}

/// The frequency of the loudest stretch of a recording: zero crossings over
/// the samples louder than `floor` in a window.
pub fn tone_frequency(samples: &[i16]) -> f64 {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    crossings as f64 / 2.0 / (samples.len() as f64 / 8_000.0)
}

/// Windows of `window` samples where the audio is loud and its frequency
/// is within 10% of `hz`.
pub fn tone_windows(samples: &[i16], hz: f64, window: usize) -> usize {
    samples
        .chunks(window)
        .filter(|w| w.len() == window)
        .filter(|w| {
            let loud = w.iter().filter(|s| s.abs() > 2_000).count();
            loud > window / 3 && (tone_frequency(w) - hz).abs() < hz * 0.1
        })
        .count()
}

/// The PCM of the PCMU packets in a capture, in arrival order.
pub fn pcmu_audio(datagrams: &[crate::pcap::Datagram]) -> Vec<i16> {
    let mut pcm = Vec::new();
    for d in datagrams {
        if let Some((0, _, _, payload)) = crate::rtp(d) {
            media::Codec::Pcmu.decode(payload, &mut pcm);
        }
    }
    pcm
}

/// Reads a WAV file as 8 kHz samples.
pub fn wav_samples(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    media::prompt::samples_8k_from_wav(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Reads a call recording: (left, right) = (the debtor, what the debtor
/// heard); asserts it is 16-bit stereo at 8 kHz.
pub fn stereo_wav(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let mut wav =
        hound::WavReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let spec = wav.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 8_000, 16),
        "{}",
        path.display()
    );
    let samples: Vec<i16> = wav.samples::<i16>().map(Result::unwrap).collect();
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}

/// Seconds into a recording's channel of its first loud sample (someone
/// speaking: over 2,000 of 32,767).
pub fn first_loud(samples: &[i16]) -> Option<f64> {
    samples
        .iter()
        .position(|s| s.abs() > 2_000)
        .map(|i| i as f64 / 8_000.0)
}

/// baresip as an agent's softphone; killed when dropped.
pub struct Baresip {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Baresip {
    /// Registers `user`/`password` at `registrar_port` (digest), answers
    /// every call at once with `codec`, sends a `tone_hz` tone as its
    /// microphone and records both directions.
    pub fn start(
        registrar_port: u16,
        user: &str,
        password: &str,
        codec: &str,
        tone_hz: f64,
    ) -> Baresip {
        let baresip = require_tool("baresip", "baresip");
        let dir = tempfile::tempdir().expect("temporary folder");
        let source = dir.path().join("tone.wav");
        // baresip's aufile plays only at the codec's own rate.
        let rate: u32 = if codec.starts_with("G722") {
            16_000
        } else {
            8_000
        };
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut wav = hound::WavWriter::create(&source, spec).expect("write tone WAV");
        for i in 0..rate * 30 {
            let s =
                (f64::from(i) * tone_hz * std::f64::consts::TAU / f64::from(rate)).sin() * 8_000.0;
            wav.write_sample(s as i16).expect("write tone WAV");
        }
        wav.finalize().expect("write tone WAV");
        let port = free_port();
        let rtp = 47_000 + (port % 100) * 20;
        let template = std::fs::read_to_string(repo_root().join("tests/baresip/config.in"))
            .expect("tests/baresip/config.in");
        let config = template
            .replace("@IP@", "127.0.0.1")
            .replace("@PORT@", &port.to_string())
            .replace("@DIR@", &dir.path().display().to_string())
            .replace("@SOURCE_WAV@", &source.display().to_string())
            .replace("@SRATE@", &rate.to_string())
            .replace("@RTP_MIN@", &rtp.to_string())
            .replace("@RTP_MAX@", &(rtp + 19).to_string());
        std::fs::write(dir.path().join("config"), config).expect("write baresip config");
        std::fs::write(
            dir.path().join("accounts"),
            format!(
                "<sip:{user}@127.0.0.1:{registrar_port}>;auth_user={user};auth_pass={password};regint=60;answermode=auto;audio_codecs={codec}\n"
            ),
        )
        .expect("write baresip accounts");
        std::fs::write(dir.path().join("contacts"), "").expect("write baresip contacts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("baresip log");
        let child = Command::new(baresip)
            .arg("-f")
            .arg(dir.path())
            .args(["-t", "90"])
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start baresip");
        Baresip {
            child: Some(child),
            port,
            dir,
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }

    /// The audio baresip received on its calls (its `dump-*-dec.wav`).
    pub fn received(&self) -> Vec<Vec<i16>> {
        self.dumps("-dec.wav")
    }

    fn dumps(&self, suffix: &str) -> Vec<Vec<i16>> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|p| p.display().to_string().ends_with(suffix));
        files.sort();
        files.iter().map(|p| wav_samples(p)).collect()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A log without terminal color codes.
pub fn without_colors(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
