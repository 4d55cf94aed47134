//! The `dialer` command line: run, report, demo, carrier.

mod agent;
mod demo;
mod flows;
mod prompts;
mod simulate;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use std::str::FromStr;

use clap::{Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use crate::campaign::runner::{self, RunOptions};
use crate::config::Config;
use crate::sim::{Carrier, CarrierOptions, CarrierPlan};
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "dialer",
    version,
    about = "Voice campaigns over SIP trunks for collections contact centers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a campaign: call every contact of its list once, then print a summary.
    Run {
        /// The campaign's TOML configuration (see docs/configuration.md).
        config: PathBuf,
        /// Never draw the progress bar (it is only drawn on a terminal anyway).
        #[arg(long)]
        no_progress: bool,
    },
    /// Print every attempt stored in a database.
    Report {
        /// The SQLite database file (database.path of the config).
        #[arg(long)]
        db: PathBuf,
        /// Only this campaign.
        #[arg(long)]
        campaign: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// The promises to pay instead of the attempts.
        #[arg(long)]
        promises: bool,
        /// Queue figures (offered, answered, abandoned, speed of answer, talk time).
        #[arg(long, conflicts_with_all = ["promises", "agents"])]
        queues: bool,
        /// Agent figures (calls, talk, wrap-up, pauses, occupancy).
        #[arg(long, conflicts_with_all = ["promises", "queues"])]
        agents: bool,
        /// Callbacks promised to debtors no agent could take, soonest first.
        #[arg(long, conflicts_with_all = ["promises", "queues", "agents"])]
        callbacks: bool,
        /// Contacts the calling rules refused (hours, holidays, calls per
        /// debt) and not called since, with when they may be.
        #[arg(long, conflicts_with_all = ["promises", "queues", "agents", "callbacks"])]
        deferrals: bool,
        /// Each trunk's calls, answer-seizure ratio (ASR), talk time and failures.
        #[arg(long, conflicts_with_all = ["promises", "queues", "agents", "callbacks", "deferrals"])]
        trunks: bool,
    },
    /// Put numbers on the database's do-not-call list, which every
    /// campaign on it respects (a registry's export such as REPEP or the
    /// Registro de Números Excluidos, a client's list).
    DoNotCall {
        /// The SQLite database file (database.path of the config); created if missing.
        #[arg(long)]
        db: PathBuf,
        /// Why these numbers are on the list, stored with each.
        #[arg(long, default_value = "registry")]
        reason: String,
        /// Country of numbers written without a country code.
        #[arg(long, default_value = "MX")]
        region: String,
        /// Files: one number per line, or a CSV whose first field is the number.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Agents kept in the database (besides the configuration's [[agent]]s).
    Agents {
        #[command(subcommand)]
        command: agent::AgentsCommand,
    },
    /// Change an agent's state in a running dialer (through its HTTP API).
    Agent {
        /// The running dialer's API, e.g. http://127.0.0.1:8080 ([api] bind).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        api: String,
        /// The agent's login.
        #[arg(long)]
        login: String,
        /// The agent's password (or set DIALER_AGENT_PASSWORD).
        #[arg(long, env = "DIALER_AGENT_PASSWORD", hide_env_values = true)]
        password: String,
        #[command(subcommand)]
        change: agent::AgentChange,
    },
    /// Run a 20-contact Spanish sample campaign against the built-in simulated carrier.
    Demo {
        /// Keep the demo's files (config, list, database, recordings) here
        /// instead of a new temporary folder.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Check IVR flow files and draw them.
    Flows {
        #[command(subcommand)]
        command: flows::FlowsCommand,
    },
    /// Hear values and messages before a campaign; record fragments and phrases.
    Prompts {
        #[command(subcommand)]
        command: prompts::PromptsCommand,
    },
    /// Simulate a shift in virtual time and compare pacers (docs/pacing.md).
    Simulate(simulate::SimulateArgs),
    /// Run the simulated carrier: a SIP trunk on loopback that follows a plan.
    Carrier {
        /// SIP address (UDP and TCP); port 0 picks a free one, printed on stdout.
        #[arg(long, default_value = "127.0.0.1:5070")]
        listen: SocketAddr,
        /// What to do per dialed number (see docs/simulated-carrier.md).
        #[arg(long)]
        plan: Option<PathBuf>,
        #[arg(long, default_value = "127.0.0.1")]
        rtp_ip: IpAddr,
        /// RTP port range, e.g. 25000-25999.
        #[arg(long, default_value = "25000-29999", value_parser = parse_range)]
        rtp_ports: (u16, u16),
        /// Write calls.jsonl and received audio (WAV) here.
        #[arg(long)]
        record_dir: Option<PathBuf>,
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        duration_s: Option<f64>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Csv,
}

fn parse_range(text: &str) -> Result<(u16, u16), String> {
    let (a, b) = text
        .split_once('-')
        .ok_or("expected MIN-MAX, e.g. 25000-25999")?;
    let a = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a port"))?;
    let b = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a port"))?;
    if b <= a {
        return Err(format!("{b} is not above {a}"));
    }
    Ok((a, b))
}

/// Parses the command line, runs the command, and maps errors to an exit code.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A token cancelled by the first Ctrl-C or SIGTERM (a service manager
/// stopping us); a second signal exits at once.
fn stop_on_ctrl_c() -> CancellationToken {
    use tokio::signal::unix::{SignalKind, signal};
    let stop = CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let (Ok(mut interrupt), Ok(mut terminate)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        for round in 0..2 {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            if round == 1 {
                std::process::exit(130);
            }
            eprintln!("\nstopping: ending calls in flight (Ctrl-C again to quit at once)");
            token.cancel();
        }
    });
    stop
}

async fn dispatch(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Run {
            config,
            no_progress,
        } => {
            let config = Config::load(&config)?;
            let options = RunOptions {
                progress: !no_progress,
            };
            let summary = runner::run(&config, options, stop_on_ctrl_c()).await?;
            print!("{}", summary.render());
            Ok(if summary.stopped.is_some() && summary.not_dialed > 0 {
                ExitCode::from(3)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Report {
            db,
            campaign,
            format,
            promises,
            queues,
            agents,
            callbacks,
            deferrals,
            trunks,
        } => {
            let store = Store::open_existing(&db).await?;
            let csv = matches!(format, Format::Csv);
            if trunks {
                let rows = store.trunks(campaign.as_deref()).await?;
                store.close().await;
                if csv {
                    crate::report::write_trunks_csv(&rows, std::io::stdout().lock())
                        .context("writing CSV")?;
                } else {
                    print!("{}", crate::report::render_trunks(&rows));
                }
                return Ok(ExitCode::SUCCESS);
            }
            if deferrals {
                let rows = store.deferrals(campaign.as_deref()).await?;
                store.close().await;
                if csv {
                    crate::report::write_deferrals_csv(&rows, std::io::stdout().lock())
                        .context("writing CSV")?;
                } else {
                    print!("{}", crate::report::render_deferrals(&rows));
                }
                return Ok(ExitCode::SUCCESS);
            }
            if callbacks {
                return agent::callbacks(store, csv).await;
            }
            if queues || agents {
                return agent::report(store, queues, csv).await;
            }
            if promises {
                let rows = store.promises(campaign.as_deref()).await?;
                store.close().await;
                match format {
                    Format::Table => print!("{}", crate::report::render_promises(&rows)),
                    Format::Csv => {
                        crate::report::write_promises_csv(&rows, std::io::stdout().lock())
                            .context("writing CSV")?
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let rows = store.attempts(campaign.as_deref()).await?;
            store.close().await;
            match format {
                Format::Table => print!("{}", crate::report::render_table(&rows)),
                Format::Csv => crate::report::write_csv(&rows, std::io::stdout().lock())
                    .context("writing CSV")?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::DoNotCall {
            db,
            reason,
            region,
            files,
        } => {
            let region = phonenumber::country::Id::from_str(&region.to_uppercase()).map_err(|_| {
                anyhow::anyhow!("--region: '{region}' is not an ISO 3166 region code like MX, CO, PE, CL, US")
            })?;
            let numbers = crate::campaign::gate::read_do_not_call(&files, region)?;
            let mut numbers: Vec<String> = numbers.into_iter().collect();
            numbers.sort();
            let store = Store::open(&db).await?;
            let added = store
                .import_do_not_call(&numbers, reason.trim(), chrono::Utc::now())
                .await?;
            store.close().await;
            println!(
                "{} numbers read, {added} added to the do-not-call list of {} ({} were on it already)",
                numbers.len(),
                db.display(),
                numbers.len() - added
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Agents { command } => agent::accounts(command).await,
        Command::Agent {
            api,
            login,
            password,
            change,
        } => agent::change(&api, &login, &password, change).await,
        Command::Demo { dir } => demo::run(dir, stop_on_ctrl_c()).await,
        Command::Prompts { command } => prompts::run(command).await,
        Command::Flows { command } => flows::run(command),
        Command::Simulate(args) => simulate::run(args).map(|()| ExitCode::SUCCESS),
        Command::Carrier {
            listen,
            plan,
            rtp_ip,
            rtp_ports,
            record_dir,
            duration_s,
        } => {
            let plan = match plan {
                Some(path) => CarrierPlan::load(&path)?,
                None => CarrierPlan::default(),
            };
            let carrier = Carrier::start(
                plan,
                CarrierOptions {
                    listen,
                    rtp_ip,
                    rtp_port_min: rtp_ports.0,
                    rtp_port_max: rtp_ports.1,
                    record_dir,
                },
            )
            .await?;
            println!("listening on {}", carrier.local_addr());
            let stop = stop_on_ctrl_c();
            match duration_s {
                Some(s) => {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs_f64(s)) => {}
                        _ = stop.cancelled() => {}
                    }
                }
                None => stop.cancelled().await,
            }
            carrier.shutdown();
            eprintln!("carrier: {} calls", carrier.call_count());
            Ok(ExitCode::SUCCESS)
        }
    }
}
