//! `dialer demo`: a whole campaign against the simulated carrier, no setup.
//!
//! The demo writes a real configuration, debtor list, IVR flow, recorded
//! phrases and carrier plan into a folder, starts the simulated carrier on a
//! free loopback port, and runs the campaign exactly as `dialer run` would:
//! the same loader, store, SIP, RTP and flow interpreter. Each debtor hears
//! their own name, balance and due date (espeak-ng), then the `recordatorio`
//! menu; simulated debtors press keys to hear their balance, promise a
//! payment date, ask for an agent or opt out, hang up, are busy, do not
//! answer or do not exist; two rows of the list are malformed on purpose.
//! Two simulated agents register their softphones to the dialer, take the
//! debtors who pressed 0 through the ACD, talk, and record a tipificación
//! (one with a promise to pay) through the HTTP API.
//! The files stay, so the newcomer can rerun `dialer report` on them.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{Datelike, Duration, Local};
use tokio_util::sync::CancellationToken;

use crate::campaign::runner::{self, RunOptions};
use crate::config::Config;
use std::net::SocketAddr;

use media::prompt::Prompt;

use crate::sim::{AgentPlan, AgentsSetup, Carrier, CarrierOptions, CarrierPlan, SimAgents};
use crate::store::Store;

/// The sample flow the demo runs, and the phrases it plays: built into the
/// binary so `dialer demo` runs from anywhere.
const FLOW: &str = include_str!("../../../ivr-flows/recordatorio.es-MX.toml");
const PHRASES: [(&str, &[u8]); 13] = [
    (
        "espera",
        include_bytes!("../../../prompts/es-MX/espera.wav"),
    ),
    (
        "posicion-fila",
        include_bytes!("../../../prompts/es-MX/posicion-fila.wav"),
    ),
    (
        "sin-asesores",
        include_bytes!("../../../prompts/es-MX/sin-asesores.wav"),
    ),
    (
        "devolveremos-llamada",
        include_bytes!("../../../prompts/es-MX/devolveremos-llamada.wav"),
    ),
    (
        "deje-mensaje",
        include_bytes!("../../../prompts/es-MX/deje-mensaje.wav"),
    ),
    (
        "menu-recordatorio",
        include_bytes!("../../../prompts/es-MX/menu-recordatorio.wav"),
    ),
    (
        "opcion-invalida",
        include_bytes!("../../../prompts/es-MX/opcion-invalida.wav"),
    ),
    (
        "pedir-fecha",
        include_bytes!("../../../prompts/es-MX/pedir-fecha.wav"),
    ),
    (
        "fecha-invalida",
        include_bytes!("../../../prompts/es-MX/fecha-invalida.wav"),
    ),
    (
        "promesa-registrada",
        include_bytes!("../../../prompts/es-MX/promesa-registrada.wav"),
    ),
    (
        "transferencia",
        include_bytes!("../../../prompts/es-MX/transferencia.wav"),
    ),
    (
        "baja-confirmada",
        include_bytes!("../../../prompts/es-MX/baja-confirmada.wav"),
    ),
    (
        "despedida",
        include_bytes!("../../../prompts/es-MX/despedida.wav"),
    ),
];

/// The debtor list: 20 good rows, one with a number that cannot be dialed
/// and one whose balance cannot be said.
const CONTACTS: &str = "\
id,telefono,nombre,saldo,vencimiento,segmento
D-1001,55 1234 0001,María Guadalupe Hernández,1234.50,2026-12-15,mora_temprana
D-1002,(55) 1234-0002,José Luis Martínez,980.00,2026-12-01,mora_temprana
D-1003,+52 55 1234 0003,Ana Sofía Ramírez,15200.75,2026-11-30,mora_tardia
D-1004,5512340004,Juan Carlos López,450.00,2026-12-20,mora_temprana
D-1005,55-1234-0005,Verónica Torres,3100.00,2026-12-05,mora_intermedia
D-1006,55 1234 0006,Francisco Javier Díaz,760.40,2026-12-10,mora_temprana
D-1007,55 1234 0007,Guadalupe Sánchez,2250.00,2026-11-28,mora_intermedia
D-1008,55 1234 0008,Miguel Ángel Flores,12999.99,2026-10-31,mora_tardia
D-1009,55 1234 0009,Rosa María Gómez,99.90,2026-12-18,mora_temprana
D-1010,55 1234 0010,Alejandro Cruz,5400.00,2026-12-02,mora_intermedia
D-1011,55 1234 0011,Patricia Morales,1875.25,2026-12-12,mora_temprana
D-1012,55 1234 0012,Roberto Reyes,640.00,2026-12-22,mora_temprana
D-1013,55 1234 0013,Leticia Jiménez,8300.00,2026-11-15,mora_tardia
D-1014,55 1234 0014,Fernando Ruiz,2700.00,2026-12-08,mora_intermedia
D-1015,55 1234 0015,Claudia Mendoza,1200.00,2026-12-14,mora_temprana
D-1016,55 1234 0016,Ricardo Aguilar,330.00,2026-12-19,mora_temprana
D-1017,55 1234 0017,Silvia Castillo,4100.80,2026-11-25,mora_intermedia
D-1018,55 1234 0018,Eduardo Ortiz,19850.00,2026-10-15,mora_tardia
D-1019,55 1234 0019,Gabriela Vargas,560.00,2026-12-21,mora_temprana
D-1020,55 1234 0020,Arturo Romero,7025.10,2026-11-20,mora_tardia
D-1021,12 34,Número Mal Capturado,100.00,2026-12-30,mora_temprana
D-1022,55 1234 0022,Saldo Sin Capturar,N/D,2026-12-30,mora_temprana
";

/// What each simulated debtor does. Keys pressed during a prompt stop it
/// (barge-in), so a debtor who knows the menu does not wait for it.
fn plan(promise_ddmm: &str) -> String {
    let date: Vec<char> = promise_ddmm.chars().collect();
    let promise_keys = |start: f64| {
        let mut keys = vec![format!("{{ at_s = {start:.1}, key = \"2\" }}")];
        for (i, key) in date.iter().chain(['#'].iter()).enumerate() {
            keys.push(format!(
                "{{ at_s = {:.1}, key = \"{key}\" }}",
                start + 2.0 + 0.3 * i as f64
            ));
        }
        keys.push(format!("{{ at_s = {:.1}, key = \"1\" }}", start + 7.0));
        keys.join(", ")
    };
    format!(
        r#"# The simulated carrier's plan for the demo: one behaviour per number.
[auth]
username = "cobranza"
password = "demo-secret"
realm = "carrier.sim"

[default]
action = "answer"
ring_s = 1.0
hangup_after_s = 14.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340001"
digits = [{{ at_s = 6.0, key = "1" }}]
hangup_after_s = 18.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340003"
ring_s = 1.5
digits = [{promise_3}]
hangup_after_s = 32.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340004"
action = "busy"

# Two answering machines: one beeps, one falls quiet after its greeting.
# The dialer leaves them the message for machines ([amd] in the config).
[[number]]
number = "+525512340005"
greeting = "Hola, has llamado a Verónica Torres. En este momento no puedo contestar. Deja tu mensaje después del tono."
beep_hz = 1000
hangup_after_s = 40.0

[[number]]
number = "+525512340013"
greeting = "Hola, soy Leticia. No estoy disponible, deja tu nombre y tu número y te llamo más tarde."
hangup_after_s = 40.0

[[number]]
number = "+525512340006"
action = "no_answer"

[[number]]
number = "+525512340008"
ring_s = 0.5
digits = [{{ at_s = 5.0, key = "0" }}]
hangup_after_s = 32.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340009"
action = "reject"
ring_s = 0
code = 404

[[number]]
number = "+525512340011"
digits = [{{ at_s = 5.5, key = "9" }}]
greeting = "¿Bueno?"

[[number]]
number = "+525512340012"
action = "busy"
ring_s = 2.0

[[number]]
number = "+525512340014"
ring_s = 2.0
digits = [{promise_14}]
hangup_after_s = 32.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340015"
action = "no_answer"

[[number]]
number = "+525512340017"
hangup_after_s = 5.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340018"
digits = [{{ at_s = 7.0, key = "0" }}]
hangup_after_s = 18.0
greeting = "¿Bueno?"

[[number]]
number = "+525512340020"
action = "reject"
ring_s = 1.0
code = 603
"#,
        promise_3 = promise_keys(5.0),
        promise_14 = promise_keys(6.0),
    )
}

fn config_text(carrier: SocketAddr, sip_port: u16, api_port: u16) -> String {
    format!(
        r#"# Demo campaign: the recordatorio flow for 20 debtors, through the simulated carrier.
[database]
path = "demo.db"

[sip]
bind = "127.0.0.1:{sip_port}"

[media]
ip = "127.0.0.1"
rtp_port_min = 20000
rtp_port_max = 24999

[[trunk]]
name = "carrier-sim"
address = "{carrier}"
transport = "udp"
username = "cobranza"
password = "demo-secret"
caller_id = "+525599990000"
caller_name = "Cobranza Demo"
max_channels = 20
max_cps = 10

[campaign]
name = "recordatorio-demo"
contacts = "contactos.csv"
trunk = "carrier-sim"
ring_timeout_s = 5
default_region = "MX"
# Each debtor hears their own name, balance and due date, then the menu:
# 1 saldo, 2 promesa de pago, 0 asesor, 9 no más llamadas.
flow = "ivr-flows/recordatorio.es-MX.toml"

[tts]
engine = "espeak"
cache_dir = "tts-cache"

# The dialer listens before it speaks: a debtor who says "¿Bueno?" hears
# the flow at once; an answering machine is left this message after its
# beep (or after its greeting, when it does not beep). It names nobody's
# debt: a machine's tape may be heard by anyone at home.
[amd]
message = ["tts:Este es un mensaje para {{nombre}}. Por favor comuníquese con Cobranza Demo al cincuenta y cinco, noventa y nueve noventa y nueve, cero cero cero cero. Gracias."]

# The demo's numbers are fictitious and it runs at any hour: the calling
# rules (hours in the debtor's zone, holidays, calls per debt) are off.
# Leave them on for real debtors (see docs/compliance.md).
[compliance]
enabled = false

# Debtors who press 0 reach an agent. Two simulated agents register their
# softphones here (digest), answer, talk, and record a tipificación over
# the HTTP API.
[api]
bind = "127.0.0.1:{api_port}"

[[agent]]
login = "ana"
name = "Ana López"
password = "{ana_password}"
skills = ["cobranza-temprana:8"]

[[agent]]
login = "beto"
name = "Alberto Núñez"
password = "{beto_password}"
skills = ["cobranza-temprana:6", "cobranza-tardia:7"]

[[queue]]
name = "cobranza-temprana"
skills = ["cobranza-temprana"]
wrap_up_s = 3
max_wait_s = 60
agent_ring_timeout_s = 10
overflow = "callback"
priority_by = "segmento"
priority = {{ mora_tardia = 10, mora_intermedia = 5 }}
"#,
        ana_password = AGENTS[0].1,
        beto_password = AGENTS[1].1,
    )
}

/// The simulated agents: login, password, seconds ringing before they
/// answer, seconds before they hang up (if the debtor has not), what they
/// say, their tipificación and promise (days ahead, amount).
type AgentRow = (
    &'static str,
    &'static str,
    f64,
    f64,
    &'static str,
    &'static str,
    Option<(i64, u64)>,
);
const AGENTS: [AgentRow; 2] = [
    (
        "ana",
        "demo-ana-2026",
        1.0,
        10.0,
        "Buenas tardes, le atiende Ana López, de Cobranza Demo. ¿En qué le puedo ayudar?",
        "promesa_de_pago",
        Some((10, 500)),
    ),
    (
        "beto",
        "demo-beto-2026",
        1.5,
        30.0,
        "Buenas tardes, habla Alberto Núñez, de Cobranza Demo. Con gusto le ayudo con su cuenta.",
        "convenio_de_pago",
        None,
    ),
];

/// A free port on loopback for the dialer's SIP or API (known before the
/// run, so the simulated agents can register to it).
fn free_port() -> anyhow::Result<u16> {
    let socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    let udp = socket.local_addr()?.port();
    // TCP too, for SIP over TCP and the API.
    drop(std::net::TcpListener::bind(("127.0.0.1", udp))?);
    Ok(udp)
}

/// Starts the simulated agents, their greetings spoken by the demo's TTS.
async fn start_agents(config: &Config, sip_port: u16, api_port: u16) -> anyhow::Result<SimAgents> {
    let voice = config.tts.voice_for(media::say::Language::EsMx);
    let tts = crate::campaign::message::build_tts(&config.tts, &voice).await?;
    let mut plans = Vec::new();
    for (login, password, answer_after_s, talk_s, greeting, code, promise) in AGENTS {
        let samples = tts.render(greeting, &voice).await?;
        plans.push(AgentPlan {
            login: login.into(),
            password: password.into(),
            answer_after_s,
            talk_s,
            greeting: Some(std::sync::Arc::new(Prompt::from_samples(
                login,
                samples.to_vec(),
            ))),
            disposition: Some((code.into(), promise)),
        });
    }
    SimAgents::start(
        plans,
        AgentsSetup {
            registrar: SocketAddr::from(([127, 0, 0, 1], sip_port)),
            api: Some(format!("http://127.0.0.1:{api_port}")),
            rtp_port_min: 30_000,
            rtp_port_max: 30_999,
        },
    )
    .await
}

pub async fn run(dir: Option<PathBuf>, stop: CancellationToken) -> anyhow::Result<ExitCode> {
    let dir = match dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!("dialer-demo-{}", std::process::id())),
    };
    for sub in ["ivr-flows", "prompts/es-MX"] {
        std::fs::create_dir_all(dir.join(sub))
            .with_context(|| format!("creating {}/{sub}", dir.display()))?;
    }
    let write = |name: &str, bytes: &[u8]| -> anyhow::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    };
    write("contactos.csv", CONTACTS.as_bytes())?;
    write("ivr-flows/recordatorio.es-MX.toml", FLOW.as_bytes())?;
    for (name, audio) in PHRASES {
        write(&format!("prompts/es-MX/{name}.wav"), audio)?;
    }
    // Promises fall a week from today, inside the flow's 30-day window.
    let promise = Local::now().date_naive() + Duration::days(7);
    let plan_path = write(
        "carrier-plan.toml",
        plan(&format!("{:02}{:02}", promise.day(), promise.month())).as_bytes(),
    )?;
    let db_path = dir.join("demo.db");
    // A rerun in the same folder starts a fresh campaign.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("demo.db{suffix}")));
    }

    let carrier = Carrier::start(
        CarrierPlan::load(&plan_path)?,
        CarrierOptions {
            listen: "127.0.0.1:0".parse().expect("a valid address"),
            rtp_ip: "127.0.0.1".parse().expect("a valid address"),
            rtp_port_min: 25_000,
            rtp_port_max: 29_999,
            record_dir: Some(dir.join("carrier")),
        },
    )
    .await?;
    let (sip_port, api_port) = (free_port()?, free_port()?);
    let config_path = write(
        "config.toml",
        config_text(carrier.local_addr(), sip_port, api_port).as_bytes(),
    )?;
    println!("Demo files in {}", dir.display());
    println!(
        "Simulated carrier on {} (UDP and TCP)\n",
        carrier.local_addr()
    );

    let config = Config::load(&config_path)?;
    let agents = start_agents(&config, sip_port, api_port).await?;
    println!(
        "Simulated agents: {} (their softphones register to 127.0.0.1:{sip_port})\n",
        AGENTS.map(|a| a.0).join(", ")
    );
    let summary = runner::run(&config, RunOptions { progress: true }, stop).await?;
    carrier.shutdown();
    agents.shutdown();

    let store = Store::open(&db_path).await?;
    let rows = store.attempts(None).await?;
    let promises = store.promises(None).await?;
    let queues = store.queue_figures().await?;
    let agent_figures = crate::agents::report::agent_figures(&store.agent_events().await?);
    store.close().await;
    println!("{}", crate::report::render_table(&rows));
    print!("{}", summary.render());
    println!(
        "\nPromises to pay:\n{}",
        crate::report::render_promises(&promises)
    );
    println!("Queues:\n{}", crate::agents::report::render_queues(&queues));
    println!(
        "Agents:\n{}",
        crate::agents::report::render_agents(&agent_figures)
    );
    println!("Rerun the report: dialer report --db {}", display(&db_path));
    println!(
        "The flow as a diagram: dialer flows graph {}",
        display(&dir.join("ivr-flows/recordatorio.es-MX.toml"))
    );
    println!("What the carrier heard: {}", display(&dir.join("carrier")));
    Ok(ExitCode::SUCCESS)
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
