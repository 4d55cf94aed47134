//! `dialer simulate`: a shift in virtual time, to compare pacers before a
//! campaign places a real call (docs/pacing.md).

use std::time::Instant;

use clap::{Args, ValueEnum};

use crate::pacing::{Pacer, Predictive, PredictiveConfig};
use crate::sim::shift::{SecondTrunk, ShiftConfig, ShiftReport, simulate};

#[derive(Args)]
pub struct SimulateArgs {
    /// Agents logged in all shift.
    #[arg(long, default_value_t = 50)]
    agents: usize,
    /// The share of calls a person answers.
    #[arg(long, default_value_t = 0.25)]
    answer_rate: f64,
    /// The answer rate from --change-at-h on (an afternoon that goes quiet).
    #[arg(long)]
    answer_rate_after: Option<f64>,
    /// When the answer rate changes, in hours (default: mid-shift).
    #[arg(long)]
    change_at_h: Option<f64>,
    /// The share of calls an answering machine takes (no agent needed).
    #[arg(long, default_value_t = 0.0)]
    machine_rate: f64,
    /// Mean talk time, seconds (log-normal).
    #[arg(long, default_value_t = 180.0)]
    handle_s: f64,
    /// Wrap-up after each call, seconds.
    #[arg(long, default_value_t = 10.0)]
    wrap_s: f64,
    /// Mean ring time before an answer, seconds.
    #[arg(long, default_value_t = 10.0)]
    ring_s: f64,
    /// Mean seconds a debtor who hears no agent waits before hanging up
    /// (exponential; default: every debtor waits the 2 s grace time).
    #[arg(long)]
    patience_s: Option<f64>,
    /// A second trunk whose calls a person answers at this share
    /// (--answer-rate is then the first trunk's).
    #[arg(long)]
    second_trunk_answer_rate: Option<f64>,
    /// The share of calls the second trunk takes.
    #[arg(long, default_value_t = 0.5, requires = "second_trunk_answer_rate")]
    second_trunk_share: f64,
    /// From this hour on the first trunk is out: every call goes to the
    /// second.
    #[arg(long, requires = "second_trunk_answer_rate")]
    first_trunk_out_at_h: Option<f64>,
    /// Tell the pacer, as each hour begins, the share of calls a person
    /// answered in that hour on earlier days (here: the shift's own, as
    /// if earlier days were like it), as a live run is told from its
    /// campaign's history.
    #[arg(long)]
    tell_hour_rates: bool,
    /// Do not tell the pacer which trunk each call is on: it paces by the
    /// campaign's figures alone (to compare).
    #[arg(long)]
    campaign_estimates_only: bool,
    #[arg(long, default_value_t = 8.0)]
    hours: f64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The pacers to run, side by side.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Kind::Progressive, Kind::Power, Kind::Predictive, Kind::KnowsAgents, Kind::KnowsCalls, Kind::Oracle])]
    pacers: Vec<Kind>,
    /// Calls per ready agent for the power pacer.
    #[arg(long, default_value_t = 2.0)]
    power_ratio: f64,
    /// The legal cap on abandoned calls, a share of person answers.
    #[arg(long, default_value_t = 0.03)]
    abandon_cap: f64,
    /// The benchmark: 10, 50 and 200 agents × 10, 25 and 40% answer rate ×
    /// 60 and 180 s talk, SEEDS seeds each, and each again with the answer
    /// rate halving mid-shift; prints docs/BENCHMARKS.md's tables.
    #[arg(long)]
    grid: bool,
    /// Seeds per cell of the grid.
    #[arg(long, default_value_t = 3)]
    seeds: u64,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Progressive,
    Power,
    Predictive,
    /// Predictive, shown when each busy agent will free.
    KnowsAgents,
    /// Predictive, shown when each busy agent will free and how each
    /// ringing call will end.
    KnowsCalls,
    Oracle,
}

impl SimulateArgs {
    fn pacer(&self, kind: Kind) -> Pacer {
        let predictive = |oracle, knows_agents, knows_calls| {
            Pacer::Predictive(Box::new(Predictive::new(PredictiveConfig {
                abandon_cap: self.abandon_cap,
                oracle,
                knows_agents,
                knows_calls,
                ..PredictiveConfig::default()
            })))
        };
        match kind {
            Kind::Progressive => Pacer::Progressive,
            Kind::Power => Pacer::Power {
                lines_per_agent: self.power_ratio,
            },
            Kind::Predictive => predictive(false, false, false),
            Kind::KnowsAgents => predictive(false, true, false),
            Kind::KnowsCalls => predictive(false, true, true),
            Kind::Oracle => predictive(true, true, false),
        }
    }

    /// The answer rate's change mid-shift the options ask for: from which
    /// hour, to what.
    fn change(&self) -> Option<(f64, f64)> {
        self.answer_rate_after
            .map(|rate| (self.change_at_h.unwrap_or(self.hours / 2.0), rate))
    }

    fn shift(
        &self,
        agents: usize,
        answer_rate: f64,
        handle_s: f64,
        seed: u64,
        change: Option<(f64, f64)>,
    ) -> ShiftConfig {
        let mut config = ShiftConfig {
            hours: self.hours,
            machine_rate: self.machine_rate,
            wrap_s: self.wrap_s,
            answer_ring_s: self.ring_s,
            patience_s: self.patience_s,
            second_trunk: self
                .second_trunk_answer_rate
                .map(|answer_rate| SecondTrunk {
                    share: self.second_trunk_share,
                    answer_rate,
                    first_out_at_h: self.first_trunk_out_at_h,
                }),
            tell_trunks: !self.campaign_estimates_only,
            change,
            ..ShiftConfig::new(agents, answer_rate, handle_s, seed)
        };
        if self.tell_hour_rates {
            config.hour_rates = Some(config.own_hour_rates());
        }
        config
    }
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    if !(args.answer_rate > 0.0 && args.answer_rate + args.machine_rate <= 1.0) {
        anyhow::bail!("--answer-rate must be above 0, and with --machine-rate at most 1");
    }
    if args.agents == 0 || args.hours <= 0.0 {
        anyhow::bail!("--agents and --hours must be above 0");
    }
    if args.patience_s.is_some_and(|p| p.is_nan() || p <= 0.0) {
        anyhow::bail!("--patience-s must be above 0");
    }
    if args
        .second_trunk_answer_rate
        .is_some_and(|r| !(r > 0.0 && r + args.machine_rate <= 1.0))
    {
        anyhow::bail!(
            "--second-trunk-answer-rate must be above 0, and with --machine-rate at most 1"
        );
    }
    if !(args.second_trunk_share > 0.0 && args.second_trunk_share < 1.0) {
        anyhow::bail!("--second-trunk-share must be between 0 and 1");
    }
    if args.grid {
        grid(&args);
        return Ok(());
    }
    let config = args.shift(
        args.agents,
        args.answer_rate,
        args.handle_s,
        args.seed,
        args.change(),
    );
    println!(
        "{} agents, {} h, {:.0}% of calls answered by a person{}, {:.0} s talk + {:.0} s wrap-up{}, seed {}",
        config.agents,
        config.hours,
        config.answer_rate * 100.0,
        config
            .change
            .map(|(h, r)| format!(" ({:.0}% from hour {h})", r * 100.0))
            .unwrap_or_default(),
        config.handle_s,
        config.wrap_s,
        config
            .patience_s
            .map(|p| format!(", debtors waiting hang up after {p} s on average"))
            .unwrap_or_default(),
        config.seed
    );
    if config.hour_rates.is_some() {
        println!(
            "the pacer is told each hour's answer rate as it begins (earlier days like this one)"
        );
    }
    if let Some(t) = config.second_trunk {
        println!(
            "a second trunk takes {:.0}% of the calls, {:.0}% answered by a person{}; the pacer {}",
            t.share * 100.0,
            t.answer_rate * 100.0,
            t.first_out_at_h
                .map(|h| format!(", and all of them from hour {h}, when the first is out"))
                .unwrap_or_default(),
            if config.tell_trunks {
                "is told each call's trunk"
            } else {
                "paces by the campaign's figures alone"
            }
        );
    }
    println!(
        "{:<12} {:>8} {:>8} {:>9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>8}",
        "pacer",
        "dials",
        "answered",
        "connected",
        "abandoned",
        "abandon %",
        "occupancy",
        "conn/ag-h",
        "wait s",
        "p95 s",
        "wall ms"
    );
    for &kind in &args.pacers {
        let started = Instant::now();
        let r = simulate(&config, args.pacer(kind));
        let wall = started.elapsed();
        println!(
            "{:<12} {:>8} {:>8} {:>9} {:>9} {:>9.2} {:>9.1}% {:>9.1} {:>9.2} {:>9.2} {:>8}",
            r.pacer,
            r.dials,
            r.answered,
            r.connected,
            r.abandoned,
            r.abandon_rate * 100.0,
            r.occupancy * 100.0,
            r.connects_per_agent_hour,
            r.mean_wait_s,
            r.p95_wait_s,
            wall.as_millis()
        );
        if let (Some(occupancy), Some(abandon)) =
            (r.occupancy_after_change, r.abandon_rate_after_change)
        {
            println!(
                "{:<12} after the change: occupancy {:.1}%, abandon {:.2}%",
                "",
                occupancy * 100.0,
                abandon * 100.0
            );
        }
    }
    Ok(())
}

/// One cell's pacers over its seeds.
struct Cell {
    agents: usize,
    answer_rate: f64,
    handle_s: f64,
    halving: bool,
    runs: Vec<Vec<ShiftReport>>,
}

fn grid(args: &SimulateArgs) {
    let kinds = [
        Kind::Progressive,
        Kind::Power,
        Kind::Predictive,
        Kind::KnowsAgents,
        Kind::KnowsCalls,
        Kind::Oracle,
    ];
    let mut cells = Vec::new();
    for halving in [false, true] {
        for agents in [10, 50, 200] {
            for answer_rate in [0.10, 0.25, 0.40] {
                for handle_s in [60.0, 180.0] {
                    cells.push(Cell {
                        agents,
                        answer_rate,
                        handle_s,
                        halving,
                        runs: Vec::new(),
                    });
                }
            }
        }
    }
    let started = Instant::now();
    let mut jobs = Vec::new();
    for (c, cell) in cells.iter().enumerate() {
        for seed in 1..=args.seeds {
            for (k, &kind) in kinds.iter().enumerate() {
                jobs.push((
                    c,
                    seed,
                    k,
                    kind,
                    cell.agents,
                    cell.answer_rate,
                    cell.handle_s,
                    cell.halving,
                ));
            }
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    let dials = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&(c, seed, k, kind, agents, rate, handle, halving)) = jobs.get(i)
                    else {
                        break;
                    };
                    let change = halving.then_some((args.hours / 2.0, rate / 2.0));
                    let config = args.shift(agents, rate, handle, seed, change);
                    let report = simulate(&config, args.pacer(kind));
                    dials.fetch_add(report.dials, std::sync::atomic::Ordering::Relaxed);
                    results
                        .lock()
                        .expect("no thread panics holding it")
                        .push((c, seed, k, report));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("the threads are done");
    results.sort_by_key(|(c, seed, k, _)| (*c, *seed, *k));
    for (c, _, k, report) in results {
        let runs = &mut cells[c].runs;
        if runs.len() <= k {
            runs.resize_with(kinds.len(), Vec::new);
        }
        runs[k].push(report);
    }
    let wall = started.elapsed().as_secs_f64();
    let dials = dials.into_inner();
    println!(
        "{} shifts of {} h, {} calls simulated in {:.1} s of wall time on {} threads ({:.0} calls per second)",
        jobs.len(),
        args.hours,
        dials,
        wall,
        threads,
        dials as f64 / wall
    );
    let mut met = 0;
    let mut total = 0;
    for halving in [false, true] {
        println!();
        println!(
            "{}",
            if halving {
                "The answer rate halves mid-shift:"
            } else {
                "Steady answer rate:"
            }
        );
        println!(
            "| agents | answer | talk | progressive | power 2 | predictive | knows agents | knows calls | oracle | gap to knows agents | gap to oracle | met |"
        );
        println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        for cell in cells.iter().filter(|c| c.halving == halving) {
            let occupancy = |k: usize| mean(cell.runs[k].iter().map(|r| r.occupancy));
            let abandon = |k: usize| mean(cell.runs[k].iter().map(|r| r.abandon_rate));
            let worst = |k: usize| {
                cell.runs[k]
                    .iter()
                    .map(|r| r.abandon_rate)
                    .fold(0.0, f64::max)
            };
            let figures =
                |k: usize| format!("{:.1}% / {:.2}%", occupancy(k) * 100.0, abandon(k) * 100.0);
            let gap = (occupancy(3) - occupancy(2)) * 100.0;
            let oracle_gap = (occupancy(5) - occupancy(2)) * 100.0;
            let ok = worst(2) <= args.abandon_cap && gap <= 1.5;
            total += 1;
            met += usize::from(ok);
            println!(
                "| {} | {:.0}% | {:.0} s | {:.1}% | {} | {} (worst {:.2}%) | {} | {} | {} | {:.1} | {:.1} | {} |",
                cell.agents,
                cell.answer_rate * 100.0,
                cell.handle_s,
                occupancy(0) * 100.0,
                figures(1),
                figures(2),
                worst(2) * 100.0,
                figures(3),
                figures(4),
                figures(5),
                gap,
                oracle_gap,
                if ok { "yes" } else { "no" }
            );
        }
    }
    println!();
    println!(
        "occupancy / abandon rate, mean of {} seeds; gaps = their occupancy minus predictive's (points); met = predictive's worst seed at or under {:.1}% abandon and the gap to knows-agents at most 1.5: {met} of {total} cells",
        args.seeds,
        args.abandon_cap * 100.0
    );
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}
