//! A run's agent side: checked before the first call, started with the SIP
//! endpoint.
//!
//! When the configuration has `[[queue]]`s, every `transfer` node of the
//! flow must name one of them (and skills that parse), the queues' prompts
//! join the campaign's script so they are loaded and checked up front, the
//! SIP endpoint takes REGISTERs for the registrar, the agents service
//! starts, and the HTTP API too when `[api]` is set. Without queues a
//! transfer ends the call as `transfer_requested`, as before agents
//! existed.

use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use media::prompt::template::Template;
use rsipstack::transaction::transaction::Transaction;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::message::PreparedScript;
use crate::acd::Requirement;
use crate::agents::{self, AgentsOptions};
use crate::call::AcdContext;
use crate::call::transfer::QueuePrompts;
use crate::config::Config;
use crate::ivr::NodeKind;
use crate::sip::SipEndpoint;
use crate::store::Store;

/// The queues' prompts, three per queue (hold, position, overflow), in
/// queue order, to append to the script.
pub fn queue_templates(config: &Config) -> Vec<Template> {
    config
        .agents
        .queues
        .iter()
        .flat_map(|q| {
            [
                q.hold.clone(),
                q.position.clone(),
                q.overflow_prompt.clone(),
            ]
        })
        .collect()
}

/// An agent mode's answered debtors must reach the queue whose agents
/// the pacer counts: the flow transfers to it.
pub fn check_pacing(config: &Config, script: &PreparedScript) -> anyhow::Result<()> {
    let Some(queue) = &config.pacing.queue else {
        return Ok(());
    };
    let mode = config.pacing.mode.name();
    let Some(flow) = script.flow() else {
        bail!(
            "{}: pacing.mode = \"{mode}\" needs a campaign.flow with a transfer node to queue '{queue}': \
             a message alone never reaches an agent",
            config.path.display()
        );
    };
    let transfers = flow
        .nodes
        .iter()
        .any(|n| matches!(&n.kind, NodeKind::Transfer { queue: q, .. } if q == queue));
    if !transfers {
        bail!(
            "{}: no node transfers to queue '{queue}', the queue of {}'s pacing.queue: \
             answered debtors would never reach the agents the pacer counts",
            flow.path.display(),
            config.path.display()
        );
    }
    Ok(())
}

/// Every transfer of the flow names a configured queue and valid skills.
pub fn check_transfers(config: &Config, script: &PreparedScript) -> anyhow::Result<()> {
    if config.agents.queues.is_empty() {
        return Ok(());
    }
    let Some(flow) = script.flow() else {
        return Ok(());
    };
    let mut problems = Vec::new();
    for node in &flow.nodes {
        let NodeKind::Transfer { queue, skills, .. } = &node.kind else {
            continue;
        };
        let at = format!(
            "{}:{}: node '{}'",
            flow.path.display(),
            node.line,
            node.name
        );
        if config.agents.queue(queue).is_none() {
            let names: Vec<&str> = config
                .agents
                .queues
                .iter()
                .map(|q| q.name.as_str())
                .collect();
            problems.push(format!(
                "{at}: `queue`: no [[queue]] named '{queue}' in {} (there are: {})",
                config.path.display(),
                names.join(", ")
            ));
        }
        for skill in skills {
            if let Err(e) = Requirement::parse(skill) {
                problems.push(format!("{at}: `skills`: {e}"));
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(())
}

/// REGISTERs waiting for the registrar at most; more get 503.
const REGISTER_BACKLOG: usize = 1024;

/// The registrar's end of the SIP endpoint, when agents are configured.
pub fn register_channel(
    config: &Config,
) -> (
    Option<mpsc::Sender<Transaction>>,
    Option<mpsc::Receiver<Transaction>>,
) {
    if config.agents.agents.is_empty() && config.agents.queues.is_empty() {
        return (None, None);
    }
    let (tx, rx) = mpsc::channel(REGISTER_BACKLOG);
    (Some(tx), Some(rx))
}

/// The running agent side.
pub struct RunningAcd {
    pub context: Arc<AcdContext>,
    tasks: Vec<JoinHandle<()>>,
    stop: CancellationToken,
}

impl RunningAcd {
    /// Lets agents finish their wrap-up (they may still be recording the
    /// last call's tipificación), at most `limit`; then stops the service
    /// (agents log out) and the API, and waits for them.
    pub async fn shutdown(self, limit: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            let busy = match self.context.agents.snapshot().await {
                Ok(s) => s
                    .agents
                    .iter()
                    .any(|a| matches!(a.state.as_str(), "wrap_up" | "on_call" | "reserved")),
                Err(_) => false,
            };
            if !busy {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.stop.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Starts the agents service (and the API) for a run.
pub async fn start(
    config: &Config,
    script: &PreparedScript,
    sip: Arc<SipEndpoint>,
    store: Store,
    registers: Option<mpsc::Receiver<Transaction>>,
) -> anyhow::Result<Option<RunningAcd>> {
    let Some(registers) = registers else {
        return Ok(None);
    };
    // Agents from the configuration file, and those added to the store.
    let mut agents_config = config.agents.clone();
    let shadowed = agents_config
        .with_stored(&store.agent_accounts().await?)
        .map_err(|e| anyhow::anyhow!("{}: {e}", config.database.path.display()))?;
    for login in shadowed {
        eprintln!(
            "note: agent '{login}' is both in {} and in the database; the configuration's is used",
            config.path.display()
        );
    }
    let stop = CancellationToken::new();
    let (handle, task) = agents::start(AgentsOptions {
        config: agents_config.clone(),
        store: store.clone(),
        sip,
        registers,
        stop: stop.clone(),
        preview_timeout_s: (config.pacing.mode == crate::config::PacingMode::Preview)
            .then_some(config.pacing.preview_timeout_s)
            .filter(|s| *s > 0.0),
    });
    let mut tasks = vec![task];
    let api_base = match &config.api {
        Some(api) => {
            let passwords = agents_config
                .agents
                .iter()
                .map(|a| (a.login.clone(), a.password.clone()))
                .collect();
            let r = &config.agents.registrar;
            let guard = crate::api::Guard::new(
                passwords,
                api.token.clone(),
                r.lockout_failures,
                std::time::Duration::from_secs_f64(r.lockout_window_s),
                std::time::Duration::from_secs_f64(r.lockout_s),
            );
            let (addr, task) =
                crate::api::serve(api.bind, handle.clone(), store.clone(), guard, stop.clone())
                    .await
                    .map_err(|e| anyhow::anyhow!("{}: `api.bind`: {e}", config.path.display()))?;
            tasks.push(task);
            Some(format!("http://{addr}"))
        }
        None => None,
    };
    let base = script.extra_base();
    let queues = config
        .agents
        .queues
        .iter()
        .enumerate()
        .map(|(i, q)| {
            (
                q.clone(),
                QueuePrompts {
                    hold: base + 3 * i,
                    position: base + 3 * i + 1,
                    overflow: base + 3 * i + 2,
                },
            )
        })
        .collect();
    let voicemail_dir = config
        .database
        .path
        .parent()
        .unwrap_or(Path::new("."))
        .join("voicemail");
    Ok(Some(RunningAcd {
        context: Arc::new(AcdContext {
            agents: handle,
            queues,
            voicemail_dir,
            api_base,
        }),
        tasks,
        stop,
    }))
}
