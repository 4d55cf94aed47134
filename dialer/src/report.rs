//! `dialer report`: every attempt, as a table for people or CSV for the CRM.

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::store::{AttemptRow, DeferralRow, PromiseRow, TrunkRow};

/// The CSV columns, in order. Collection systems import by these names.
pub const CSV_HEADER: [&str; 37] = [
    "attempt_id",
    "campaign",
    "contact_id",
    "attempt",
    "name",
    "phone",
    "trunk",
    "call_id",
    "sip_code",
    "sip_reason",
    "disposition",
    "digits",
    "codec",
    "started_at",
    "ringing_at",
    "answered_at",
    "ended_at",
    "ring_s",
    "talk_s",
    "hangup_by",
    "outcome",
    "flow_path",
    "inputs",
    "note",
    "queue",
    "agent",
    "agent_disposition",
    "recording",
    "rtp_received",
    "rtp_lost",
    "rtp_jitter_ms",
    "far_lost",
    "far_jitter_ms",
    "rtt_ms",
    "compliance",
    "amd",
    "amd_ms",
];

fn parse(at: &Option<String>) -> Option<DateTime<Utc>> {
    at.as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn seconds_between(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!("{:.1}", (b - a).num_milliseconds() as f64 / 1000.0),
        _ => String::new(),
    }
}

/// Seconds from first ring to answer (or to the end when not answered).
fn ring_seconds(row: &AttemptRow) -> String {
    let end = parse(&row.answered_at).or(parse(&row.ended_at));
    seconds_between(parse(&row.ringing_at), end)
}

fn talk_seconds(row: &AttemptRow) -> String {
    seconds_between(parse(&row.answered_at), parse(&row.ended_at))
}

/// Writes the attempts as CSV with [`CSV_HEADER`].
pub fn write_csv(rows: &[AttemptRow], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(CSV_HEADER)?;
    for r in rows {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        let ms = |v: Option<f64>| v.map(|x| format!("{x:.1}")).unwrap_or_default();
        w.write_record([
            r.id.to_string(),
            r.campaign.clone(),
            r.contact_id.clone(),
            r.attempt_no.to_string(),
            r.name.clone(),
            r.phone.clone(),
            r.trunk.clone(),
            r.call_id.clone(),
            r.sip_code.map(|c| c.to_string()).unwrap_or_default(),
            opt(&r.sip_reason),
            r.disposition
                .clone()
                .unwrap_or_else(|| "in_progress".into()),
            r.digits.clone(),
            opt(&r.codec),
            r.started_at.clone(),
            opt(&r.ringing_at),
            opt(&r.answered_at),
            opt(&r.ended_at),
            ring_seconds(r),
            talk_seconds(r),
            opt(&r.hangup_by),
            opt(&r.outcome),
            opt(&r.flow_path),
            opt(&r.inputs),
            opt(&r.note),
            opt(&r.queue),
            opt(&r.agent),
            opt(&r.agent_disposition),
            opt(&r.recording),
            num(r.rtp_received),
            num(r.rtp_lost),
            ms(r.rtp_jitter_ms),
            num(r.far_lost),
            ms(r.far_jitter_ms),
            ms(r.rtt_ms),
            opt(&r.compliance),
            opt(&r.amd),
            num(r.amd_ms),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// A fixed-width table of the columns an operator scans first.
pub fn render_table(rows: &[AttemptRow]) -> String {
    let header = [
        "contact",
        "phone",
        "name",
        "disposition",
        "sip",
        "digits",
        "outcome",
        "ring_s",
        "talk_s",
        "started (UTC)",
        "note",
    ];
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(rows.len());
    for r in rows {
        lines.push(vec![
            r.contact_id.clone(),
            r.phone.clone(),
            clip(&r.name, 22),
            r.disposition
                .clone()
                .unwrap_or_else(|| "in_progress".into()),
            r.sip_code.map(|c| c.to_string()).unwrap_or_default(),
            r.digits.clone(),
            r.outcome.clone().unwrap_or_default(),
            ring_seconds(r),
            talk_seconds(r),
            r.started_at
                .get(..19)
                .unwrap_or(&r.started_at)
                .replace('T', " "),
            clip(r.note.as_deref().unwrap_or(""), 60),
        ]);
    }
    let mut out = columns(&header, lines);
    out.push_str(&format!("{} attempts\n", rows.len()));
    out
}

/// Aligned columns for a terminal: the header, a rule under it, the rows
/// (widths in characters, so accented names line up).
pub fn columns(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut lines = vec![header.iter().map(|s| s.to_string()).collect::<Vec<_>>()];
    lines.extend(rows);
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (n, line) in lines.iter().enumerate() {
        let cells: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

/// The trunks export's columns.
pub const TRUNKS_HEADER: [&str; 11] = [
    "campaign",
    "trunk",
    "calls",
    "answered",
    "asr_pct",
    "talk_s",
    "busy",
    "no_answer",
    "congestion",
    "trunk_failure",
    "other",
];

fn trunk_cells(r: &TrunkRow) -> [String; 11] {
    [
        r.campaign.clone(),
        r.trunk.clone(),
        r.calls.to_string(),
        r.answered.to_string(),
        r.asr()
            .map_or(String::new(), |a| format!("{:.1}", 100.0 * a)),
        r.talk_s.map_or(String::new(), |t| format!("{t:.1}")),
        r.busy.to_string(),
        r.no_answer.to_string(),
        r.congestion.to_string(),
        r.trunk_failure.to_string(),
        r.other.to_string(),
    ]
}

/// Each trunk's calls, answer-seizure ratio and failures.
pub fn render_trunks(rows: &[TrunkRow]) -> String {
    columns(
        &TRUNKS_HEADER,
        rows.iter().map(|r| trunk_cells(r).to_vec()).collect(),
    )
}

pub fn write_trunks_csv(rows: &[TrunkRow], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(TRUNKS_HEADER)?;
    for r in rows {
        w.write_record(trunk_cells(r))?;
    }
    w.flush()?;
    Ok(())
}

/// The deferrals export's columns.
pub const DEFERRALS_HEADER: [&str; 7] = [
    "campaign",
    "contact_id",
    "name",
    "phone",
    "decided_at",
    "retry_at",
    "reason",
];

fn deferral_cells(r: &DeferralRow) -> [String; 7] {
    [
        r.campaign.clone(),
        r.contact_id.clone(),
        r.name.clone(),
        r.phone.clone(),
        r.decided_at.clone(),
        r.retry_at.clone().unwrap_or_default(),
        r.reason.clone(),
    ]
}

/// Contacts the calling rules refused and not called since, soonest first.
pub fn render_deferrals(rows: &[DeferralRow]) -> String {
    let lines = rows
        .iter()
        .map(|r| {
            let mut cells = deferral_cells(r).to_vec();
            cells[2] = clip(&r.name, 22);
            for at in [4, 5] {
                cells[at] = cells[at].get(..16).unwrap_or(&cells[at]).replace('T', " ");
            }
            cells
        })
        .collect();
    let mut out = columns(
        &[
            "campaign",
            "contact",
            "name",
            "phone",
            "decided (UTC)",
            "may call from (UTC)",
            "reason",
        ],
        lines,
    );
    out.push_str(&format!(
        "{} contacts waiting for the calling rules\n",
        rows.len()
    ));
    out
}

pub fn write_deferrals_csv(rows: &[DeferralRow], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(DEFERRALS_HEADER)?;
    for r in rows {
        w.write_record(deferral_cells(r))?;
    }
    w.flush()?;
    Ok(())
}

/// The promises export's columns.
pub const PROMISES_HEADER: [&str; 12] = [
    "promise_id",
    "campaign",
    "contact_id",
    "name",
    "phone",
    "promised_date",
    "amount",
    "balance",
    "call_id",
    "attempt_id",
    "node",
    "created_at",
];

/// The promises to pay (promesas de pago) as CSV.
pub fn write_promises_csv(rows: &[PromiseRow], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(PROMISES_HEADER)?;
    for p in rows {
        w.write_record([
            p.id.to_string(),
            p.campaign.clone(),
            p.contact_id.clone(),
            p.name.clone(),
            p.phone.clone(),
            p.promised_date.clone(),
            p.amount.map(|a| a.to_string()).unwrap_or_default(),
            p.balance.clone(),
            p.call_id.clone(),
            p.attempt_id.to_string(),
            p.node.clone(),
            p.created_at.clone(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// The promises as a table.
pub fn render_promises(rows: &[PromiseRow]) -> String {
    let mut out = format!(
        "{:<12} {:<14} {:<24} {:<12} {:>10} {:>12}\n",
        "contact", "phone", "name", "date", "amount", "balance"
    );
    for p in rows {
        out.push_str(&format!(
            "{:<12} {:<14} {:<24} {:<12} {:>10} {:>12}\n",
            p.contact_id,
            p.phone,
            clip(&p.name, 24),
            p.promised_date,
            p.amount.map(|a| a.to_string()).unwrap_or_default(),
            p.balance
        ));
    }
    out.push_str(&format!("{} promises\n", rows.len()));
    out
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max - 1).collect();
    clipped.push('…');
    clipped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> AttemptRow {
        AttemptRow {
            id: 7,
            campaign: "recordatorio".into(),
            contact_id: "C-1".into(),
            attempt_no: 1,
            name: "José Muñoz, \"Pepe\"".into(),
            phone: "+525512345678".into(),
            trunk: "carrier".into(),
            call_id: "abc@dialer".into(),
            started_at: "2026-11-22T10:00:00.000Z".into(),
            ringing_at: Some("2026-11-22T10:00:00.500Z".into()),
            answered_at: Some("2026-11-22T10:00:03.000Z".into()),
            ended_at: Some("2026-11-22T10:00:15.250Z".into()),
            sip_code: Some(200),
            sip_reason: Some("OK".into()),
            disposition: Some("answered".into()),
            digits: "1".into(),
            codec: Some("PCMU".into()),
            hangup_by: Some("dialer".into()),
            note: None,
            compliance: None,
            outcome: Some("promise_to_pay".into()),
            flow_path: Some("saludo > menu > promesa".into()),
            inputs: Some(r#"[["menu","2"],["promesa","1512"]]"#.into()),
            queue: None,
            agent: None,
            agent_disposition: None,
            recording: Some("recordings/recordatorio/7.wav".into()),
            rtp_received: Some(600),
            rtp_lost: Some(4),
            rtp_jitter_ms: Some(1.234),
            far_lost: None,
            far_jitter_ms: None,
            rtt_ms: Some(18.06),
            amd: Some("person".into()),
            amd_ms: Some(1_660),
        }
    }

    #[test]
    fn csv_has_the_promised_header_and_quotes_names() {
        let mut out = Vec::new();
        write_csv(&[row()], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        for column in [
            "contact_id",
            "phone",
            "sip_code",
            "disposition",
            "digits",
            "answered_at",
            "ended_at",
        ] {
            assert!(
                header.split(',').any(|h| h == column),
                "{column} missing from {header}"
            );
        }
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(&record[4], "José Muñoz, \"Pepe\"");
        assert_eq!(&record[17], "2.5", "ring_s");
        assert_eq!(&record[18], "12.2", "talk_s");
        assert_eq!(&record[27], "recordings/recordatorio/7.wav", "recording");
        assert_eq!(&record[28], "600", "rtp_received");
        assert_eq!(&record[29], "4", "rtp_lost");
        assert_eq!(&record[30], "1.2", "rtp_jitter_ms");
        assert_eq!(&record[31], "", "far_lost: the far end sent no RTCP");
        assert_eq!(&record[33], "18.1", "rtt_ms");
        assert_eq!(&record[35], "person", "amd");
        assert_eq!(&record[36], "1660", "amd_ms");
    }

    #[test]
    fn table_aligns_unicode_names() {
        let table = render_table(&[row()]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("contact  phone"));
        assert!(lines[2].contains("answered") && lines[2].contains("José Muñoz"));
        assert_eq!(lines[3], "1 attempts");
        let col = |l: &str| l.chars().position(|c| c == 'a' || c == 'd').unwrap();
        assert!(col(lines[0]) > 0);
    }
}
