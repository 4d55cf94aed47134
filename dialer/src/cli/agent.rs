//! `dialer agent`: an agent's state from the command line, and the queue
//! and agent figures of `dialer report`.

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Subcommand;

use crate::agents::report as figures;
use crate::store::Store;

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
