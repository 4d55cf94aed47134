//! The dial order: which contact goes next.
//!
//! Retries whose time has come go first. Then fresh contacts, segment by
//! segment (`campaign.segment_by`, e.g. the days-past-due bucket) in
//! proportion to the segments' weights (smooth weighted round robin), so a
//! heavy segment goes first more often and a light one still gets its
//! turn: no segment starves. Within a segment, contacts go by
//! `campaign.order_by` (a number, highest first: the most days past due),
//! then in list order.
//!
//! Pure: told the time, it hands out items.

#![deny(clippy::disallowed_methods)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, VecDeque};

use tokio::time::Instant;

/// A segment's contacts and its place in the round.
#[derive(Debug)]
struct Segment<T> {
    weight: f64,
    /// Smooth weighted round robin: the segment with the most credit goes.
    credit: f64,
    queue: VecDeque<T>,
}

/// The contacts waiting to be dialed.
#[derive(Debug)]
pub struct Feed<T> {
    segments: Vec<Segment<T>>,
    /// Retries, by when they are due (with an insertion number for order).
    pending: BinaryHeap<Reverse<(Instant, u64)>>,
    waiting: HashMap<u64, T>,
    scheduled: u64,
}

/// One contact for the feed: its segment and its order value.
pub struct Entry<T> {
    pub item: T,
    pub segment: String,
    pub order: Option<f64>,
}

impl<T> Feed<T> {
    /// Fresh contacts, in list order, with their segments' weights (a
    /// segment not named weighs 1).
    pub fn new(entries: Vec<Entry<T>>, weights: &BTreeMap<String, f64>) -> Feed<T> {
        let mut by_segment: BTreeMap<String, Vec<(Option<f64>, T)>> = BTreeMap::new();
        for e in entries {
            by_segment
                .entry(e.segment)
                .or_default()
                .push((e.order, e.item));
        }
        let segments = by_segment
            .into_iter()
            .map(|(name, mut items)| {
                // Highest first; contacts without a value last; stable, so
                // list order within equal values.
                items.sort_by(|(a, _), (b, _)| match (a, b) {
                    (Some(a), Some(b)) => b.total_cmp(a),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                });
                Segment {
                    weight: weights.get(&name).copied().unwrap_or(1.0),
                    credit: 0.0,
                    queue: items.into_iter().map(|(_, item)| item).collect(),
                }
            })
            .collect();
        Feed {
            segments,
            pending: BinaryHeap::new(),
            waiting: HashMap::new(),
            scheduled: 0,
        }
    }

    /// A retry due at `due`.
    pub fn schedule(&mut self, item: T, due: Instant) {
        self.scheduled += 1;
        self.pending.push(Reverse((due, self.scheduled)));
        self.waiting.insert(self.scheduled, item);
    }

    /// Whether an item may go at `now`.
    pub fn has_ready(&self, now: Instant) -> bool {
        self.next_due().is_some_and(|due| due <= now) || self.fresh_left() > 0
    }

    /// When the soonest retry is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.peek().map(|Reverse((due, _))| *due)
    }

    pub fn fresh_left(&self) -> usize {
        self.segments.iter().map(|s| s.queue.len()).sum()
    }

    pub fn retries_left(&self) -> usize {
        self.waiting.len()
    }

    /// The next item: a retry due by `now`, else the next fresh contact.
    pub fn next(&mut self, now: Instant) -> Option<T> {
        if let Some(&Reverse((due, n))) = self.pending.peek()
            && due <= now
        {
            self.pending.pop();
            return self.waiting.remove(&n);
        }
        let live: Vec<usize> = (0..self.segments.len())
            .filter(|&i| !self.segments[i].queue.is_empty())
            .collect();
        let total: f64 = live.iter().map(|&i| self.segments[i].weight).sum();
        let best = live.iter().copied().max_by(|&a, &b| {
            let (sa, sb) = (&self.segments[a], &self.segments[b]);
            (sa.credit + sa.weight)
                .total_cmp(&(sb.credit + sb.weight))
                .then(b.cmp(&a))
        })?;
        for &i in &live {
            self.segments[i].credit += self.segments[i].weight;
        }
        self.segments[best].credit -= total;
        self.segments[best].queue.pop_front()
    }

    /// Everything still waiting, fresh contacts and retries.
    pub fn drain(&mut self) -> Vec<T> {
        let mut all: Vec<T> = self
            .segments
            .iter_mut()
            .flat_map(|s| s.queue.drain(..))
            .collect();
        self.pending.clear();
        all.extend(self.waiting.drain().map(|(_, item)| item));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn entry(item: &'static str, segment: &str, order: Option<f64>) -> Entry<&'static str> {
        Entry {
            item,
            segment: segment.into(),
            order,
        }
    }

    #[test]
    fn segments_share_by_weight_and_none_starves() {
        let mut entries = Vec::new();
        let late: Vec<&'static str> = vec!["t1", "t2", "t3", "t4", "t5", "t6"];
        let early: Vec<&'static str> = vec!["e1", "e2", "e3"];
        for t in &late {
            entries.push(entry(t, "tardia", None));
        }
        for e in &early {
            entries.push(entry(e, "temprana", None));
        }
        let weights = BTreeMap::from([("tardia".to_string(), 3.0)]);
        let mut feed = Feed::new(entries, &weights);
        #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
        let now = Instant::now();
        let order: Vec<&str> = std::iter::from_fn(|| feed.next(now)).collect();
        // Three late-stage debtors for each early one, the early ones spread.
        assert_eq!(
            order,
            ["t1", "t2", "e1", "t3", "t4", "t5", "e2", "t6", "e3"]
        );
    }

    #[test]
    fn the_order_column_goes_highest_first_and_due_retries_before_fresh() {
        let entries = vec![
            entry("sin-dato", "", None),
            entry("mora-10", "", Some(10.0)),
            entry("mora-90", "", Some(90.0)),
            entry("mora-10-b", "", Some(10.0)),
        ];
        let mut feed = Feed::new(entries, &BTreeMap::new());
        #[allow(clippy::disallowed_methods)] // the test's clock starts somewhere
        let now = Instant::now();
        feed.schedule("reintento", now + Duration::from_secs(60));
        assert_eq!(feed.next(now), Some("mora-90"));
        assert_eq!(feed.next_due(), Some(now + Duration::from_secs(60)));
        let later = now + Duration::from_secs(61);
        assert!(feed.has_ready(later));
        assert_eq!(feed.next(later), Some("reintento"));
        assert_eq!(feed.next(later), Some("mora-10"));
        assert_eq!(feed.next(later), Some("mora-10-b"));
        assert_eq!(feed.next(later), Some("sin-dato"));
        assert_eq!(feed.next(later), None);
        assert!(!feed.has_ready(later));
    }
}
