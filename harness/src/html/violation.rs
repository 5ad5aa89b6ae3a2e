//! A violation as the timeline shows it: where it was detected, the operations and records
//! it involves (its `ops` and `records` fields), what became of those records, and the faults and kills that hit the
//! hosts involved while it was in the making.

use super::model::{Op, Timeline};
use crate::history::{EventKind, History};
use crate::invariant::Violation;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Writes of one record listed at most; the rest are counted.
const WRITES_KEPT: usize = 24;
/// Disruptions listed at most.
const DISRUPTIONS_KEPT: usize = 16;
/// Marks and spans that can explain a violation; a kill that opens the final phase cannot.
const DISRUPTIVE_MARKS: [&str; 7] = ["kill", "lost_response", "edge", "open_failed", "clock", "upgrade", "switch_user"];
const DISRUPTIVE_SPANS: [&str; 7] = ["partition", "hold", "offline", "blackhole", "down", "http", "lose_response"];

/// One violation, ready to draw.
#[derive(Debug, Serialize)]
pub(super) struct Found {
    pub(super) invariant: String,
    pub(super) t: u64,
    /// The lane where it shows; `None` for the whole run.
    pub(super) lane: Option<usize>,
    pub(super) host: Option<String>,
    pub(super) details: String,
    /// Operation numbers its details name.
    pub(super) ops: Vec<u64>,
    /// The records its details name, each with its writes and final values.
    pub(super) records: Vec<Record>,
    /// Indexes of the marks and spans that hit the hosts involved, from the first write
    /// involved to the violation.
    pub(super) marks: Vec<usize>,
    pub(super) spans: Vec<usize>,
    /// Disruptions beyond those listed.
    pub(super) more: usize,
}

/// A record a violation names.
#[derive(Debug, Serialize)]
pub(super) struct Record {
    pub(super) key: String,
    /// Indexes of the operations that wrote it, in time order.
    pub(super) writes: Vec<usize>,
    pub(super) more_writes: usize,
    /// Its final fields on the server (`null`: the server does not have it).
    pub(super) server: Value,
    /// Its final fields on each device that reported, by host (`null`: not shown).
    pub(super) devices: BTreeMap<String, Value>,
}

impl Found {
    /// `violation`, with what it involves in `timeline`.
    pub(super) fn new(violation: &Violation, timeline: &Timeline, history: &History) -> Self {
        let ops = violation.ops.clone();
        let keys: Vec<String> = violation.records.iter().map(ToString::to_string).collect();
        let records: Vec<Record> = keys.iter().map(|key| Record::new(key, timeline, history)).collect();
        let mut found = Found {
            invariant: violation.invariant.clone(),
            t: violation.t_ms,
            lane: violation.host.as_deref().and_then(|h| timeline.lane_of(h)),
            host: violation.host.clone(),
            details: violation.details.clone(),
            ops,
            records,
            marks: Vec::new(),
            spans: Vec::new(),
            more: 0,
        };
        found.disruptions(timeline);
        found
    }

    /// The operations involved: those named, else the writes of the records named.
    fn involved<'a>(&self, timeline: &'a Timeline) -> Vec<&'a Op> {
        let named: Vec<&Op> = timeline.ops.iter().filter(|op| self.ops.contains(&op.op)).collect();
        if !named.is_empty() {
            return named;
        }
        self.records.iter().flat_map(|r| r.writes.iter().map(|&i| &timeline.ops[i])).collect()
    }

    /// Disruptions of the hosts involved (their lanes and the server's) between the first
    /// involved operation and the violation, before the final phase (whose kills and
    /// restarts are the harness's, not faults).
    fn disruptions(&mut self, timeline: &Timeline) {
        let involved = self.involved(timeline);
        let from = involved.iter().map(|op| op.t0).min().unwrap_or(0);
        let until = timeline.final_phase_ms.map_or(self.t, |t| t.saturating_sub(1).min(self.t));
        let mut lanes: BTreeSet<usize> = involved.iter().map(|op| op.lane).collect();
        lanes.extend(self.lane);
        lanes.insert(timeline.lanes.len() - 1);
        if involved.is_empty() && self.lane.is_none() {
            lanes.extend(0..timeline.lanes.len());
        }
        let marks = timeline.marks.iter().enumerate().filter(|(_, m)| {
            DISRUPTIVE_MARKS.contains(&m.kind) && lanes.contains(&m.lane) && (from..=until).contains(&m.t)
        });
        let spans = timeline.spans.iter().enumerate().filter(|(_, s)| {
            DISRUPTIVE_SPANS.contains(&s.kind) && lanes.contains(&s.lane) && s.t0 <= until && s.t1 >= from
        });
        // The first ones in time: those closest to the writes involved.
        let mut all: Vec<(u64, bool, usize)> = marks.map(|(i, m)| (m.t, true, i)).collect();
        all.extend(spans.map(|(i, s)| (s.t0, false, i)));
        all.sort_unstable();
        self.more = all.len().saturating_sub(DISRUPTIONS_KEPT);
        for (_, is_mark, i) in all.into_iter().take(DISRUPTIONS_KEPT) {
            if is_mark {
                self.marks.push(i)
            } else {
                self.spans.push(i)
            }
        }
    }
}

impl Record {
    fn new(key: &str, timeline: &Timeline, history: &History) -> Self {
        let writes: Vec<usize> = (0..timeline.ops.len()).filter(|&i| timeline.ops[i].key == key).collect();
        let fields = |records: &crate::state::UserRecords| {
            records.iter().find(|(k, _)| k.to_string() == key).map_or(Value::Null, |(_, f)| json(f))
        };
        let mut server = Value::Null;
        let mut devices = BTreeMap::new();
        for event in &history.events {
            match &event.kind {
                EventKind::ServerState { records, .. } if server.is_null() => server = fields(records),
                EventKind::Snapshot { state, .. } => {
                    devices.insert(event.host.clone(), fields(&state.records));
                }
                _ => {}
            }
        }
        let more_writes = writes.len().saturating_sub(WRITES_KEPT);
        Record {
            key: key.to_owned(),
            writes: writes.into_iter().take(WRITES_KEPT).collect(),
            more_writes,
            server,
            devices,
        }
    }
}

fn json(fields: &crate::Fields) -> Value {
    serde_json::to_value(fields).unwrap_or(Value::Null)
}
