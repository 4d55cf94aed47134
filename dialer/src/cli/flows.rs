//! `dialer flows`: check flow files before a campaign, and draw them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};

use crate::ivr::{self, graph};

#[derive(Subcommand)]
pub enum FlowsCommand {
    /// Check flow files: every problem with its file, line and node.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Draw a flow as a Mermaid (default) or Graphviz DOT diagram.
    Graph {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
        /// Write here instead of printing.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

pub fn run(command: FlowsCommand) -> anyhow::Result<ExitCode> {
    match command {
        FlowsCommand::Check { files } => {
            let mut failed = false;
            for file in files {
                match ivr::load(&file) {
                    Ok(flow) => println!(
                        "{}: ok: flow '{}', {}, {} nodes, starts at '{}'",
                        file.display(),
                        flow.name,
                        flow.language,
                        flow.nodes.len(),
                        flow.node(flow.start).name
                    ),
                    Err(e) => {
                        failed = true;
                        eprintln!("{e}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        FlowsCommand::Graph { file, format, out } => {
            let flow = ivr::load(&file)?;
            let text = match format {
                GraphFormat::Mermaid => graph::mermaid(&flow),
                GraphFormat::Dot => graph::dot(&flow),
            };
            match out {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
