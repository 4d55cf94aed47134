//! Queue and agent figures for `dialer report --queues` / `--agents`.
//!
//! Queue figures come straight from `queue_calls`. Agent figures are
//! computed from the agents' state changes: each event opens a span that
//! the next event of the same agent closes, so time ready, reserved
//! (ringing), on a call, in wrap-up and paused add up per agent.
//! Occupancy is the contact-center one: time working calls (ringing, talk,
//! wrap-up) over that plus time ready; paused time counts in neither.

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};

use crate::report::columns;
use crate::store::{AgentEventRow, CallbackRow, QueueFigures};

/// One agent's totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentFigures {
    pub agent: String,
    /// Calls the agent answered.
    pub calls: u64,
    /// Offers the agent let ring out or declined.
    pub missed: u64,
    pub logged_in_s: f64,
    pub ready_s: f64,
    pub ringing_s: f64,
    pub talk_s: f64,
    pub wrap_up_s: f64,
    pub paused_s: f64,
}

impl AgentFigures {
    /// Working time over working plus ready time (0-1), when there was any.
    pub fn occupancy(&self) -> Option<f64> {
        let working = self.ringing_s + self.talk_s + self.wrap_up_s;
        let available = working + self.ready_s;
        (available > 0.0).then(|| working / available)
    }

    pub fn avg_talk_s(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.talk_s / self.calls as f64)
    }

    pub fn avg_wrap_up_s(&self) -> Option<f64> {
        (self.calls > 0).then(|| self.wrap_up_s / self.calls as f64)
    }
}

fn parse(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Totals per agent from their state changes (ordered by agent, then time).
pub fn agent_figures(events: &[AgentEventRow]) -> Vec<AgentFigures> {
    let mut by_agent: BTreeMap<&str, Vec<&AgentEventRow>> = BTreeMap::new();
    for e in events {
        by_agent.entry(&e.agent).or_default().push(e);
    }
    by_agent
        .into_iter()
        .map(|(agent, events)| {
            let mut f = AgentFigures {
                agent: agent.to_owned(),
                ..AgentFigures::default()
            };
            for pair in events.windows(2) {
                let (Some(from), Some(to)) = (parse(&pair[0].at), parse(&pair[1].at)) else {
                    continue;
                };
                let span = (to - from).num_milliseconds().max(0) as f64 / 1000.0;
                let slot = match pair[0].state.as_str() {
                    "ready" => Some(&mut f.ready_s),
                    "reserved" => Some(&mut f.ringing_s),
                    "on_call" => Some(&mut f.talk_s),
                    "wrap_up" => Some(&mut f.wrap_up_s),
                    "paused" => Some(&mut f.paused_s),
                    _ => None,
                };
                if let Some(slot) = slot {
                    *slot += span;
                    f.logged_in_s += span;
                }
                if pair[0].state == "reserved" && pair[1].state == "paused" {
                    f.missed += 1;
                }
            }
            f.calls = events.iter().filter(|e| e.state == "on_call").count() as u64;
            f
        })
        .collect()
}

pub const CALLBACK_CSV_HEADER: [&str; 9] = [
    "callback_id",
    "campaign",
    "contact_id",
    "name",
    "phone",
    "queue",
    "due_at",
    "attempt_id",
    "created_at",
];

fn callback_record(c: &CallbackRow) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.campaign.clone(),
        c.contact_id.clone(),
        c.name.clone(),
        c.phone.clone(),
        c.queue.clone(),
        c.due_at.clone(),
        c.attempt_id.to_string(),
        c.created_at.clone(),
    ]
}

pub fn write_callbacks_csv(rows: &[CallbackRow], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CALLBACK_CSV_HEADER)?;
    for c in rows {
        w.write_record(callback_record(c))?;
    }
    w.flush()?;
    Ok(())
}

pub fn render_callbacks(rows: &[CallbackRow]) -> String {
    columns(
        &CALLBACK_CSV_HEADER,
        rows.iter().map(callback_record).collect(),
    )
}

fn secs(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.1}")).unwrap_or_default()
}

pub const QUEUE_CSV_HEADER: [&str; 8] = [
    "queue",
    "offered",
    "answered",
    "abandoned",
    "overflowed",
    "avg_speed_of_answer_s",
    "max_wait_s",
    "avg_talk_s",
];

pub const AGENT_CSV_HEADER: [&str; 12] = [
    "agent",
    "calls",
    "missed",
    "logged_in_s",
    "ready_s",
    "ringing_s",
    "talk_s",
    "wrap_up_s",
    "paused_s",
    "avg_talk_s",
    "avg_wrap_up_s",
    "occupancy",
];

fn queue_record(q: &QueueFigures) -> Vec<String> {
    vec![
        q.queue.clone(),
        q.offered.to_string(),
        q.answered.to_string(),
        q.abandoned.to_string(),
        q.overflowed.to_string(),
        secs(q.avg_speed_of_answer_s),
        secs(q.max_wait_s),
        secs(q.avg_talk_s),
    ]
}

fn agent_record(a: &AgentFigures) -> Vec<String> {
    vec![
        a.agent.clone(),
        a.calls.to_string(),
        a.missed.to_string(),
        format!("{:.1}", a.logged_in_s),
        format!("{:.1}", a.ready_s),
        format!("{:.1}", a.ringing_s),
        format!("{:.1}", a.talk_s),
        format!("{:.1}", a.wrap_up_s),
        format!("{:.1}", a.paused_s),
        secs(a.avg_talk_s()),
        secs(a.avg_wrap_up_s()),
        a.occupancy()
            .map(|o| format!("{:.1}%", o * 100.0))
            .unwrap_or_default(),
    ]
}

pub fn write_queues_csv(rows: &[QueueFigures], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(QUEUE_CSV_HEADER)?;
    for q in rows {
        w.write_record(queue_record(q))?;
    }
    w.flush()?;
    Ok(())
}

pub fn write_agents_csv(rows: &[AgentFigures], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(AGENT_CSV_HEADER)?;
    for a in rows {
        w.write_record(agent_record(a))?;
    }
    w.flush()?;
    Ok(())
}

pub fn render_queues(rows: &[QueueFigures]) -> String {
    columns(&QUEUE_CSV_HEADER, rows.iter().map(queue_record).collect())
}

pub fn render_agents(rows: &[AgentFigures]) -> String {
    columns(&AGENT_CSV_HEADER, rows.iter().map(agent_record).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(agent: &str, state: &str, at: &str) -> AgentEventRow {
        AgentEventRow {
            agent: agent.into(),
            state: state.into(),
            reason: None,
            attempt_id: None,
            at: format!("2026-12-01T10:{at}.000Z"),
        }
    }

    #[test]
    fn spans_add_up_per_state_and_occupancy_leaves_pauses_out() {
        let events = vec![
            event("ana", "ready", "00:00"),
            event("ana", "reserved", "01:00"),
            event("ana", "on_call", "01:05"),
            event("ana", "wrap_up", "04:05"),
            event("ana", "ready", "04:35"),
            event("ana", "reserved", "05:00"),
            event("ana", "paused", "05:15"),
            event("ana", "ready", "15:15"),
            event("ana", "logged_out", "16:15"),
            event("beto", "ready", "00:00"),
            event("beto", "logged_out", "00:30"),
        ];
        let figures = agent_figures(&events);
        let ana = &figures[0];
        assert_eq!(ana.agent, "ana");
        assert_eq!(ana.calls, 1);
        assert_eq!(ana.missed, 1, "rang out and was paused");
        assert_eq!(ana.ready_s, 60.0 + 25.0 + 60.0);
        assert_eq!(ana.ringing_s, 5.0 + 15.0);
        assert_eq!(ana.talk_s, 180.0);
        assert_eq!(ana.wrap_up_s, 30.0);
        assert_eq!(ana.paused_s, 600.0);
        assert_eq!(ana.logged_in_s, 16.0 * 60.0 + 15.0);
        let occupancy = ana.occupancy().unwrap();
        assert!((occupancy - 230.0 / 375.0).abs() < 1e-9, "{occupancy}");
        assert_eq!(figures[1].occupancy(), Some(0.0));
        let csv = {
            let mut out = Vec::new();
            write_agents_csv(&figures, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(csv.starts_with("agent,calls,missed,"), "{csv}");
        assert!(
            csv.contains("ana,1,1,975.0,145.0,20.0,180.0,30.0,600.0,180.0,30.0,61.3%"),
            "{csv}"
        );
    }
}
