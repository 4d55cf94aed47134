//! `dialer agent`: an agent's state from the command line; `dialer agents`:
//! agents kept in the database; and the queue and agent figures of
//! `dialer report`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::agents::report as figures;
use crate::store::Store;

#[derive(Subcommand)]
pub enum AgentsCommand {
    /// Add an agent (or replace the one with the same login).
    Add {
        /// The database (database.path of the campaign's configuration); created if needed.
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: Option<String>,
        /// The softphone's password (or set DIALER_AGENT_PASSWORD).
        #[arg(long, env = "DIALER_AGENT_PASSWORD", hide_env_values = true)]
        password: String,
        /// A skill with its level, e.g. cobranza-temprana:8 (repeat for more).
        #[arg(long = "skill")]
        skills: Vec<String>,
        /// Registering the softphone does not log the agent in.
        #[arg(long)]
        no_login_on_register: bool,
    },
    /// List the stored agents (passwords not shown).
    List {
        #[arg(long)]
        db: PathBuf,
    },
    /// Remove a stored agent.
    Remove {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        login: String,
    },
}

/// `dialer agents add|list|remove`.
pub async fn accounts(command: AgentsCommand) -> anyhow::Result<ExitCode> {
    match command {
        AgentsCommand::Add {
            db,
            login,
            name,
            password,
            skills,
            no_login_on_register,
        } => {
            let (login, parsed) = crate::config::check_agent(&login, &password, &skills)
                .map_err(|(field, reason)| anyhow::anyhow!("--{field}: {reason}"))?;
            let store = Store::open(&db).await?;
            let now = crate::store::format_time(chrono::Utc::now());
            store
                .save_agent_account(&crate::store::AgentAccount {
                    name: name.unwrap_or_else(|| login.clone()),
                    login: login.clone(),
                    password,
                    skills: serde_json::to_string(
                        &parsed
                            .iter()
                            .map(|s| format!("{}:{}", s.name, s.level))
                            .collect::<Vec<_>>(),
                    )
                    .expect("strings serialize"),
                    login_on_register: !no_login_on_register,
                    created_at: now.clone(),
                    updated_at: now,
                })
                .await?;
            store.close().await;
            println!("agent '{login}' saved in {}", db.display());
        }
        AgentsCommand::List { db } => {
            let store = Store::open_existing(&db).await?;
            let accounts = store.agent_accounts().await?;
            store.close().await;
            for a in &accounts {
                let skills: Vec<String> = serde_json::from_str(&a.skills).unwrap_or_default();
                println!(
                    "{}\t{}\t{}{}",
                    a.login,
                    a.name,
                    skills.join(","),
                    if a.login_on_register {
                        ""
                    } else {
                        "\t(logs in by API)"
                    }
                );
            }
            println!("{} agents", accounts.len());
        }
        AgentsCommand::Remove { db, login } => {
            if !db.is_file() {
                bail!("{}: no such database", db.display());
            }
            let store = Store::open(&db).await?;
            let removed = store.remove_agent_account(&login.to_lowercase()).await?;
            store.close().await;
            if !removed {
                bail!("no agent '{login}' in {}", db.display());
            }
            println!("agent '{login}' removed");
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
pub enum AgentChange {
    /// Ready for calls (also ends wrap-up and pauses).
    Ready,
    /// Not taking calls, with a reason code (break, lunch, training ...).
    Pause { reason: String },
    /// Log out (after the current call, if on one).
    Logout,
    /// Finish wrap-up now.
    EndWrapUp,
    /// Show the agent's state.
    Status,
}

/// Sends the change to the running dialer and prints the agent's state.
pub async fn change(
    api: &str,
    login: &str,
    password: &str,
    change: AgentChange,
) -> anyhow::Result<ExitCode> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let base = api.trim_end_matches('/');
    let request = match &change {
        AgentChange::Ready => client
            .post(format!("{base}/agents/{login}/state"))
            .json(&serde_json::json!({ "state": "ready" })),
        AgentChange::Pause { reason } => client
            .post(format!("{base}/agents/{login}/state"))
            .json(&serde_json::json!({ "state": "paused", "reason": reason })),
        AgentChange::Logout => client
            .post(format!("{base}/agents/{login}/state"))
            .json(&serde_json::json!({ "state": "logged_out" })),
        AgentChange::EndWrapUp => client.post(format!("{base}/agents/{login}/wrap-up/end")),
        AgentChange::Status => client.get(format!("{base}/agents/{login}")),
    };
    let response = request
        .basic_auth(login, Some(password))
        .send()
        .await
        .with_context(|| format!("cannot reach the dialer's API at {base}"))?;
    let status = response.status();
    let body: serde_json::Value = response
        .json()
        .await
        .with_context(|| format!("{base} did not answer JSON"))?;
    if !status.is_success() {
        bail!(
            "{status}: {}",
            body["error"].as_str().unwrap_or("refused by the dialer")
        );
    }
    let agent = body;
    let reason = agent["reason"].as_str().unwrap_or("");
    println!(
        "{}: {}{}",
        agent["login"].as_str().unwrap_or(login),
        agent["state"].as_str().unwrap_or("?"),
        if reason.is_empty() {
            String::new()
        } else {
            format!(" ({reason})")
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `dialer report --queues` / `--agents`.
pub async fn report(store: Store, queues: bool, csv: bool) -> anyhow::Result<ExitCode> {
    let out = std::io::stdout().lock();
    if queues {
        let rows = store.queue_figures().await?;
        store.close().await;
        if csv {
            figures::write_queues_csv(&rows, out).context("writing CSV")?;
        } else {
            print!("{}", figures::render_queues(&rows));
        }
    } else {
        let rows = figures::agent_figures(&store.agent_events().await?);
        store.close().await;
        if csv {
            figures::write_agents_csv(&rows, out).context("writing CSV")?;
        } else {
            print!("{}", figures::render_agents(&rows));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `dialer report --callbacks`.
pub async fn callbacks(store: Store, csv: bool) -> anyhow::Result<ExitCode> {
    let rows = store.callbacks().await?;
    store.close().await;
    if csv {
        figures::write_callbacks_csv(&rows, std::io::stdout().lock()).context("writing CSV")?;
    } else {
        print!("{}", figures::render_callbacks(&rows));
    }
    Ok(ExitCode::SUCCESS)
}
