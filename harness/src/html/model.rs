//! The timeline's data, built from a run's history: lanes, operations, sync rounds, spans
//! and marks, with times in virtual milliseconds. The page's script draws it as it is.

use super::fault::{self, Effect, Scope};
use crate::fault::FaultRecord;
use crate::history::{Event, EventKind, History, HARNESS};
use crate::net::SERVER;
use crate::operation::{Operation, RecordKey};
use crate::state::{SyncOutcome, UserRecords};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// Lines of a sync round's changes kept; the rest are counted.
const CHANGES_KEPT: usize = 12;
/// Characters of a field value shown in a change line.
const VALUE_CHARS: usize = 60;

/// Everything the page draws.
#[derive(Debug, Default, Serialize)]
pub(super) struct Timeline {
    /// The last event's time.
    pub(super) end_ms: u64,
    /// When the final phase started, if the run got there.
    pub(super) final_phase_ms: Option<u64>,
    /// One lane per row: the run, each device, the server.
    pub(super) lanes: Vec<Lane>,
    /// User operations, invoke to completion.
    pub(super) ops: Vec<Op>,
    /// Sync rounds, start to end.
    pub(super) rounds: Vec<Round>,
    /// Shaded spans: faults in effect, hosts down.
    pub(super) spans: Vec<Span>,
    /// Instants: kills, restarts, clock changes, upgrades, HTTP faults that hit a request.
    pub(super) marks: Vec<Mark>,
    /// Requests that reached the server's edge: time and the sending device's lane.
    pub(super) requests: Vec<(u64, usize)>,
    /// Idle time skipped at once: where, and how much.
    pub(super) skips: Vec<(u64, u64)>,
}

/// A row of the timeline.
#[derive(Debug, Serialize)]
pub(super) struct Lane {
    /// `harness`, a device's host name, or `server`.
    pub(super) host: String,
    /// What the label says under the host name (the device's user).
    pub(super) label: String,
    /// `run`, `device` or `server`.
    pub(super) kind: &'static str,
}

/// A user operation.
#[derive(Debug, Serialize)]
pub(super) struct Op {
    pub(super) op: u64,
    pub(super) lane: usize,
    pub(super) t0: u64,
    /// When it completed; `None` when it never did.
    pub(super) t1: Option<u64>,
    /// `ok`, `fail` or `unknown`.
    pub(super) end: &'static str,
    /// `entity/id`.
    pub(super) key: String,
    pub(super) summary: String,
    pub(super) operation: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) observed: Option<Value>,
    /// The app's error, or what interrupted it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) note: Option<String>,
}

/// A sync round.
#[derive(Debug, Serialize)]
pub(super) struct Round {
    pub(super) lane: usize,
    pub(super) round: u64,
    pub(super) t0: u64,
    pub(super) t1: Option<u64>,
    /// `ok`, `fail`, `cut` or `open` (never ended).
    pub(super) end: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) outcome: Option<SyncOutcome>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) note: Option<String>,
    /// What the device showed differently after the round, a line per change.
    pub(super) changes: Vec<String>,
    /// Changes beyond those listed.
    pub(super) more: usize,
    /// Requests it made that reached the server, by path.
    pub(super) requests: BTreeMap<String, u64>,
}

/// A shaded span of one lane.
#[derive(Debug, Serialize)]
pub(super) struct Span {
    pub(super) lane: usize,
    pub(super) t0: u64,
    pub(super) t1: u64,
    pub(super) kind: &'static str,
    pub(super) label: String,
    #[serde(skip)]
    slot: String,
}

/// An instant on one lane.
#[derive(Debug, Serialize)]
pub(super) struct Mark {
    pub(super) lane: usize,
    pub(super) t: u64,
    /// `kill`, `restart`, `clock`, `arm`, `upgrade`, `upgraded`, `edge`, `lost_response`,
    /// `open_failed`, `conflict`, `note`, `final_phase`, `converged`, `not_converged`.
    pub(super) kind: &'static str,
    pub(super) label: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(super) detail: String,
    /// For a conflict: the index of the sync round that met it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) round: Option<usize>,
}

impl Timeline {
    /// The timeline of `history`.
    pub(super) fn of(history: &History) -> Self {
        let mut builder = Builder::new(history);
        for event in &history.events {
            builder.add(event);
        }
        builder.finish()
    }

    /// The lane of `host`, if it has one.
    pub(super) fn lane_of(&self, host: &str) -> Option<usize> {
        self.lanes.iter().position(|lane| lane.host == host)
    }
}

/// The timeline under construction, with what is still open.
struct Builder {
    timeline: Timeline,
    lanes: BTreeMap<String, usize>,
    devices: Vec<usize>,
    /// Open operations and rounds, by lane and number: their index.
    open_ops: BTreeMap<u64, usize>,
    open_rounds: BTreeMap<(usize, u64), usize>,
    /// Each device lane's last round and last read.
    last_round: BTreeMap<usize, usize>,
    last_read: BTreeMap<usize, UserRecords>,
    /// What each lane's last read showed as failed or in conflict.
    last_surfaced: BTreeMap<usize, Vec<RecordKey>>,
    /// Hosts down since, by lane.
    down: BTreeMap<usize, u64>,
}

impl Builder {
    fn new(history: &History) -> Self {
        let mut lanes = vec![Lane { host: HARNESS.to_owned(), label: "run".to_owned(), kind: "run" }];
        for device in &history.header.devices {
            lanes.push(Lane { host: device.host.clone(), label: device.user.clone(), kind: "device" });
        }
        lanes.push(Lane { host: SERVER.to_owned(), label: "sync server".to_owned(), kind: "server" });
        let index = lanes.iter().enumerate().map(|(i, lane)| (lane.host.clone(), i)).collect();
        Builder {
            devices: (1..lanes.len() - 1).collect(),
            timeline: Timeline { lanes, ..Timeline::default() },
            lanes: index,
            open_ops: BTreeMap::new(),
            open_rounds: BTreeMap::new(),
            last_round: BTreeMap::new(),
            last_read: BTreeMap::new(),
            last_surfaced: BTreeMap::new(),
            down: BTreeMap::new(),
        }
    }

    /// The lane of `host`; an unknown host (a history edited by hand) gets one of its own.
    fn lane(&mut self, host: &str) -> usize {
        if let Some(lane) = self.lanes.get(host) {
            return *lane;
        }
        let lane = self.timeline.lanes.len();
        let kind = if host.starts_with("device") { "device" } else { "server" };
        self.timeline.lanes.push(Lane { host: host.to_owned(), label: String::new(), kind });
        self.lanes.insert(host.to_owned(), lane);
        lane
    }

    fn add(&mut self, event: &Event) {
        let (t, lane) = (event.t_ms, self.lane(&event.host));
        self.timeline.end_ms = self.timeline.end_ms.max(t);
        match &event.kind {
            EventKind::Invoke { op, operation, observed, .. } => self.invoke(lane, t, *op, operation, observed),
            EventKind::Ok { op } => self.complete(*op, t, "ok", None),
            EventKind::Fail { op, error } => self.complete(*op, t, "fail", Some(error)),
            EventKind::Info { op, reason } => self.complete(*op, t, "unknown", Some(reason)),
            EventKind::SyncStart { round } => self.start_round(lane, t, *round),
            EventKind::SyncOk { round, outcome } => self.end_round(lane, *round, t, "ok", Some(outcome), None),
            EventKind::SyncFail { round, error } => self.end_round(lane, *round, t, "fail", None, Some(error)),
            EventKind::SyncCut { round, reason } => self.end_round(lane, *round, t, "cut", None, Some(reason)),
            EventKind::Read { records, failed, conflicts, .. } => {
                let surfaced: Vec<RecordKey> = failed.iter().chain(conflicts).cloned().collect();
                self.read(lane, records, &surfaced)
            }
            EventKind::Fault { text, fault } => self.fault(t, text, fault),
            EventKind::Note { text } => self.mark(lane, t, "note", text, String::new()),
            EventKind::Request { path } => self.request(lane, t, path),
            EventKind::Edge { fault, path } => self.edge(lane, t, fault, path),
            other => self.lifecycle(lane, t, other),
        }
    }

    /// Kills, restarts, upgrades, failures to open, and the harness's phases.
    fn lifecycle(&mut self, lane: usize, t: u64, kind: &EventKind) {
        match kind {
            EventKind::Kill { cause, step } => {
                let at = step.map(|s| format!(" during {}", crate::step::Step::name(s))).unwrap_or_default();
                self.mark(lane, t, "kill", &format!("killed ({}){at}", cause.describe()), String::new());
                self.down.entry(lane).or_insert(t);
            }
            EventKind::Restart => {
                self.host_up(lane, t);
                self.mark(lane, t, "restart", "restarted", String::new());
            }
            EventKind::Upgrade { from, to, .. } => {
                self.mark(lane, t, "upgrade", &format!("upgrade app {from} \u{2192} {to}"), String::new())
            }
            EventKind::SwitchUser { from, to } => {
                let detail = format!("{from} logged out; the device is {to}'s from here on");
                self.mark(lane, t, "switch_user", &format!("{to} logs in"), detail)
            }
            EventKind::Upgraded { version, state } => {
                let detail = format!("{} records, {} pending writes", state.records.len(), state.pending);
                self.mark(lane, t, "upgraded", &format!("app {version} opened"), detail)
            }
            EventKind::OpenFailed { error } => self.mark(lane, t, "open_failed", "could not open", error.clone()),
            EventKind::FinalPhase => self.final_phase(t),
            EventKind::Converged { after_ms } => {
                self.mark(0, t, "converged", &format!("converged after {after_ms} ms"), String::new())
            }
            EventKind::NotConverged { bound_ms } => {
                self.mark(0, t, "not_converged", &format!("not converged within {bound_ms} ms"), String::new())
            }
            _ => {}
        }
    }

    fn invoke(&mut self, lane: usize, t: u64, op: u64, operation: &Operation, observed: &crate::Fields) {
        self.open_ops.insert(op, self.timeline.ops.len());
        self.timeline.ops.push(Op {
            op,
            lane,
            t0: t,
            t1: None,
            end: "unknown",
            key: operation.key().to_string(),
            summary: summary(operation),
            operation: serde_json::to_value(operation).unwrap_or(Value::Null),
            observed: (!observed.is_empty()).then(|| serde_json::to_value(observed).unwrap_or(Value::Null)),
            note: None,
        });
    }

    fn complete(&mut self, op: u64, t: u64, end: &'static str, note: Option<&String>) {
        if let Some(i) = self.open_ops.remove(&op) {
            let entry = &mut self.timeline.ops[i];
            (entry.t1, entry.end, entry.note) = (Some(t), end, note.cloned());
        }
    }

    fn start_round(&mut self, lane: usize, t: u64, round: u64) {
        self.open_rounds.insert((lane, round), self.timeline.rounds.len());
        self.last_round.insert(lane, self.timeline.rounds.len());
        self.timeline.rounds.push(Round {
            lane,
            round,
            t0: t,
            t1: None,
            end: "open",
            outcome: None,
            note: None,
            changes: Vec::new(),
            more: 0,
            requests: BTreeMap::new(),
        });
    }

    fn end_round(
        &mut self,
        lane: usize,
        round: u64,
        t: u64,
        end: &'static str,
        outcome: Option<&SyncOutcome>,
        note: Option<&String>,
    ) {
        let Some(i) = self.open_rounds.remove(&(lane, round)) else { return };
        let entry = &mut self.timeline.rounds[i];
        (entry.t1, entry.end, entry.outcome, entry.note) = (Some(t), end, outcome.cloned(), note.cloned());
        if let Some(outcome) = outcome.filter(|o| o.conflicts > 0) {
            let label = format!("{} conflict{}", outcome.conflicts, if outcome.conflicts == 1 { "" } else { "s" });
            let detail =
                format!("round {round}: {} of {} pushed mutations met a conflict", outcome.conflicts, outcome.pushed);
            self.mark(lane, t, "conflict", &label, detail);
            if let Some(mark) = self.timeline.marks.last_mut() {
                mark.round = Some(i);
            }
        }
    }

    /// A read after a round: what changed on screen goes to that round.
    fn read(&mut self, lane: usize, records: &UserRecords, surfaced: &[RecordKey]) {
        let before = self.last_read.insert(lane, records.clone()).unwrap_or_default();
        let shown_before = self.last_surfaced.insert(lane, surfaced.to_vec()).unwrap_or_default();
        let Some(&i) = self.last_round.get(&lane) else { return };
        let mut lines = changes(&before, records);
        let told = surfaced.iter().filter(|key| !shown_before.contains(key));
        lines.extend(told.map(|key| format!("! {key} shown as failed or in conflict")));
        let round = &mut self.timeline.rounds[i];
        round.more = lines.len().saturating_sub(CHANGES_KEPT);
        round.changes = lines.into_iter().take(CHANGES_KEPT).collect();
    }

    fn request(&mut self, lane: usize, t: u64, path: &str) {
        self.timeline.requests.push((t, lane));
        if let Some(&i) = self.last_round.get(&lane).filter(|&&i| self.timeline.rounds[i].end == "open") {
            *self.timeline.rounds[i].requests.entry(path.to_owned()).or_default() += 1;
        }
    }

    fn edge(&mut self, lane: usize, t: u64, fault: &str, path: &str) {
        let (kind, label) = match fault {
            "lose_response" => ("lost_response", "response lost".to_owned()),
            other => ("edge", other.replace('_', " ")),
        };
        let detail = format!("HTTP fault `{fault}` at the server's edge hit {path}");
        self.mark(lane, t, kind, &label, detail);
    }

    fn fault(&mut self, t: u64, text: &str, fault: &FaultRecord) {
        let (scope, effect) = fault::classify(fault);
        let lanes = match scope {
            Scope::Devices => self.devices.clone(),
            Scope::Device(host) => vec![self.lane(&host)],
            Scope::Server => vec![self.timeline.lanes.len() - 1],
            Scope::Run => vec![0],
        };
        for lane in lanes {
            match &effect {
                Effect::Start { slot, kind, label } => {
                    self.end_spans(lane, slot, t);
                    let span = Span { lane, t0: t, t1: u64::MAX, kind, label: label.clone(), slot: slot.clone() };
                    self.timeline.spans.push(span);
                }
                Effect::End(prefix) => self.end_spans(lane, prefix, t),
                Effect::Mark(kind) => self.mark(lane, t, kind, text, String::new()),
                Effect::Skip(ms) => self.timeline.skips.push((t, *ms)),
                Effect::Nothing => {}
            }
        }
    }

    /// Ends the open spans of `lane` whose slot starts with `prefix`.
    fn end_spans(&mut self, lane: usize, prefix: &str, t: u64) {
        let open = self.timeline.spans.iter_mut().filter(|s| s.lane == lane && s.t1 == u64::MAX);
        open.filter(|s| s.slot.starts_with(prefix)).for_each(|s| s.t1 = t);
    }

    /// Every fault stops at the final phase; hosts that are down stay down until restarted.
    fn final_phase(&mut self, t: u64) {
        self.timeline.final_phase_ms = Some(t);
        let open = self.timeline.spans.iter_mut().filter(|s| s.t1 == u64::MAX && s.kind != "down");
        open.for_each(|s| s.t1 = t);
        self.mark(0, t, "final_phase", "final phase: faults stop, every device restarts", String::new());
    }

    fn host_up(&mut self, lane: usize, t: u64) {
        if let Some(t0) = self.down.remove(&lane) {
            let slot = "down".to_owned();
            self.timeline.spans.push(Span { lane, t0, t1: t, kind: "down", label: "down".into(), slot });
        }
    }

    fn mark(&mut self, lane: usize, t: u64, kind: &'static str, label: &str, detail: String) {
        self.timeline.marks.push(Mark { lane, t, kind, label: label.to_owned(), detail, round: None });
    }

    fn finish(mut self) -> Timeline {
        let end = self.timeline.end_ms;
        for (lane, t0) in std::mem::take(&mut self.down) {
            let slot = "down".to_owned();
            self.timeline.spans.push(Span { lane, t0, t1: end, kind: "down", label: "down".into(), slot });
        }
        self.timeline.spans.iter_mut().filter(|s| s.t1 == u64::MAX).for_each(|s| s.t1 = end);
        self.timeline.spans.sort_by_key(|s| (s.lane, s.t0));
        self.timeline
    }
}

/// `update task/1a2b: title, done, pomodoros +2, labels +e1 -e2`.
pub(super) fn summary(operation: &Operation) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(changes) = operation.changes() {
        parts.extend(changes.fields.keys().cloned());
        parts.extend(changes.increments.iter().map(|(field, by)| format!("{field} {by:+}")));
        for (field, added) in &changes.set_add {
            parts.push(format!("{field} {}", added.iter().map(|e| format!("+{e}")).collect::<Vec<_>>().join(" ")));
        }
        for (field, removed) in &changes.set_remove {
            parts.push(format!("{field} {}", removed.keys().map(|e| format!("-{e}")).collect::<Vec<_>>().join(" ")));
        }
    }
    let fields = if parts.is_empty() { String::new() } else { format!(": {}", parts.join(", ")) };
    format!("{} {}{fields}", operation.action(), operation.key())
}

/// What changed between two reads, a line per record: `+ key {fields}`, `- key`, or
/// `~ key field: old -> new` for each changed field.
pub(super) fn changes(before: &UserRecords, after: &UserRecords) -> Vec<String> {
    let mut lines = Vec::new();
    for (key, fields) in after {
        match before.get(key) {
            None => lines.push(format!("+ {key} {}", clip(&serde_json::to_string(fields).unwrap_or_default()))),
            Some(old) if old != fields => {
                let names = old.keys().chain(fields.keys()).collect::<std::collections::BTreeSet<_>>();
                for name in names.into_iter().filter(|n| old.get(*n) != fields.get(*n)) {
                    lines.push(format!(
                        "~ {key} {name}: {} \u{2192} {}",
                        shown(old.get(name)),
                        shown(fields.get(name))
                    ));
                }
            }
            Some(_) => {}
        }
    }
    lines.extend(before.keys().filter(|key| !after.contains_key(key)).map(|key| format!("- {key}")));
    lines
}

fn shown(value: Option<&Value>) -> String {
    value.map_or_else(|| "(none)".to_owned(), |v| clip(&v.to_string()))
}

fn clip(text: &str) -> String {
    match text.char_indices().nth(VALUE_CHARS) {
        Some((end, _)) => format!("{}\u{2026}", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::KillCause;
    use crate::invariant::fixture::{create, fields, records, task, update, Timeline as Fixture, ALICE, DEVICE0};
    use crate::Fault;
    use protocol::Changes;
    use serde_json::json;

    fn outcome(pulled: u64, pushed: u64, conflicts: u64) -> SyncOutcome {
        SyncOutcome { pulled, pushed, conflicts, ..SyncOutcome::default() }
    }

    #[test]
    fn an_operation_runs_from_invoke_to_completion_and_one_never_completed_stays_unknown() {
        let history = Fixture::new(&[ALICE])
            .at(10)
            .invoke(DEVICE0, 1, create(&task("t1"), json!({"title": "a"})))
            .at(25)
            .ok(DEVICE0, 1)
            .invoke(DEVICE0, 2, update(&task("t1"), Changes::new().set("title", "b").increment("pomodoros", 2)))
            .build();
        let timeline = Timeline::of(&history);
        let ends: Vec<_> = timeline.ops.iter().map(|op| (op.op, op.t0, op.t1, op.end)).collect();
        assert_eq!(ends, [(1, 10, Some(25), "ok"), (2, 25, None, "unknown")]);
        assert_eq!(timeline.ops[1].summary, "update task/t1: title, pomodoros +2");
    }

    #[test]
    fn a_round_carries_its_counts_what_it_changed_on_screen_and_its_conflicts() {
        let before = records(&[(&task("t1"), json!({"title": "a"})), (&task("t2"), json!({"title": "x"}))]);
        let after = records(&[(&task("t1"), json!({"title": "b"})), (&task("t3"), json!({"title": "y"}))]);
        let history = Fixture::new(&[ALICE])
            .at(0)
            .read(DEVICE0, before)
            .at(100)
            .event(DEVICE0, EventKind::SyncStart { round: 4 })
            .request(DEVICE0, "/api/sync/push")
            .at(300)
            .event(DEVICE0, EventKind::SyncOk { round: 4, outcome: outcome(2, 1, 1) })
            .read(DEVICE0, after)
            .build();
        let timeline = Timeline::of(&history);
        let round = &timeline.rounds[0];
        assert_eq!((round.round, round.t0, round.t1, round.end), (4, 100, Some(300), "ok"));
        assert_eq!(
            round.changes,
            ["~ task/t1 title: \"a\" \u{2192} \"b\"", "+ task/t3 {\"title\":\"y\"}", "- task/t2"]
        );
        assert_eq!(round.requests.get("/api/sync/push"), Some(&1));
        let conflict = timeline.marks.iter().find(|m| m.kind == "conflict").expect("a conflict is marked");
        assert_eq!((conflict.t, conflict.label.as_str(), conflict.round), (300, "1 conflict", Some(0)));
    }

    #[test]
    fn a_round_lists_the_records_it_newly_shows_as_failed_or_in_conflict() {
        let told = |keys: &[&str]| crate::DeviceState {
            conflicts: keys.iter().map(|id| task(id)).collect(),
            ..crate::DeviceState::default()
        };
        let history = Fixture::new(&[ALICE])
            .at(100)
            .sync_start(DEVICE0, 1)
            .at(200)
            .synced(DEVICE0, 1, told(&["t1"]))
            .at(300)
            .sync_start(DEVICE0, 2)
            .at(400)
            .synced(DEVICE0, 2, told(&["t1", "t2"]))
            .build();
        let timeline = Timeline::of(&history);
        assert_eq!(timeline.rounds[0].changes, ["! task/t1 shown as failed or in conflict"]);
        assert_eq!(timeline.rounds[1].changes, ["! task/t2 shown as failed or in conflict"], "t1 was shown already");
    }

    #[test]
    fn faults_become_spans_that_end_at_their_repair_or_the_final_phase_and_kills_leave_the_host_down() {
        let history = Fixture::new(&[ALICE])
            .at(1_000)
            .event(HARNESS, EventKind::fault(&Fault::Profile(crate::fault::Target::All, crate::Profile::BLACKHOLE)))
            .event(HARNESS, EventKind::fault(&Fault::lose_push_responses(500)))
            .at(2_000)
            .event(HARNESS, EventKind::fault(&Fault::skip(std::time::Duration::from_secs(86_400))))
            .event(DEVICE0, EventKind::Kill { cause: KillCause::Random, step: None })
            .at(86_403_000)
            .event(DEVICE0, EventKind::Restart)
            .event(HARNESS, EventKind::FinalPhase)
            .at(86_404_000)
            .event(SERVER, EventKind::Kill { cause: KillCause::Scheduled, step: None })
            .build();
        let timeline = Timeline::of(&history);
        let spans: Vec<_> = timeline.spans.iter().map(|s| (s.lane, s.kind, s.t0, s.t1)).collect();
        assert_eq!(
            spans,
            [
                (1, "blackhole", 1_000, 86_403_000),
                (1, "down", 2_000, 86_403_000),
                (2, "lose_response", 1_000, 86_403_000),
                (2, "down", 86_404_000, 86_404_000)
            ]
        );
        assert_eq!(timeline.skips, [(2_000, 86_400_000)]);
        let marks: Vec<_> = timeline.marks.iter().map(|m| (m.lane, m.kind)).collect();
        assert_eq!(marks, [(1, "kill"), (1, "restart"), (0, "final_phase"), (2, "kill")]);
        assert_eq!(fields(json!({"a": 1})).len(), 1);
    }
}
