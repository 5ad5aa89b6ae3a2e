//! Upgrade preserves data: an app upgrade keeps every record and pending mutation, and the
//! fields newer apps write survive the writes of older ones.

use super::facts::{cite, shown, Facts};
use super::{Check, Details, Expectation, Invariant, Violation};
use crate::history::{EventKind, History};
use crate::operation::RecordKey;
use crate::state::{knows, DeviceState};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Catches upgrades that lose data, in two ways.
///
/// - **Across an upgrade.** What the app held just before it was killed for the upgrade
///   (its visible records, its pending mutations, the failures and conflicts it showed)
///   must be what the upgraded app holds when it first opens, before it syncs or the user
///   acts. An upgraded app that cannot open at all (its migration fails) loses everything.
/// - **Across versions.** A field that a newer protocol version added (a task's `due_on`)
///   must not be erased by the writes of apps that do not know it: a field the server holds
///   as null while an acknowledged write set it, no write set it to null, and an app of an
///   older protocol wrote to the record.
#[derive(Clone, Copy, Debug, Default)]
pub struct UpgradePreservesData;

const NAME: &str = "upgrade preserves data";

impl Invariant for UpgradePreservesData {
    fn name(&self) -> &'static str {
        NAME
    }

    fn expectation(&self) -> Expectation {
        Expectation::Always
    }

    fn description(&self) -> &'static str {
        "every record and pending mutation survives an app upgrade, and older apps' writes keep the fields they \
         do not know"
    }

    fn check(&self, history: &History) -> Check {
        let mut violations = across_upgrades(history);
        violations.extend(erased_newer_fields(&Facts::of(history)));
        Check::found(violations)
    }
}

/// An upgrade whose app has not opened yet.
struct Pending<'a> {
    t_ms: u64,
    from: u32,
    to: u32,
    before: Option<&'a DeviceState>,
}

/// Compares each upgraded app's first state with what the app held before the upgrade.
fn across_upgrades(history: &History) -> Vec<Violation> {
    let mut waiting: BTreeMap<&str, Pending<'_>> = BTreeMap::new();
    let mut violations = Vec::new();
    for event in &history.events {
        let host = event.host.as_str();
        match &event.kind {
            EventKind::Upgrade { from, to, before } => {
                let first = Pending { t_ms: event.t_ms, from: *from, to: *to, before: before.as_ref() };
                // Upgraded again before it opened: the data to keep is still the first one's.
                let entry = waiting.entry(host).or_insert(first);
                entry.to = *to;
            }
            EventKind::SwitchUser { .. } => {
                // Another user logs in before the upgraded app opened: it opens with that
                // user's data, not comparable with what it held before.
                if let Some(upgrade) = waiting.get_mut(host) {
                    upgrade.before = None;
                }
            }
            EventKind::Upgraded { state, .. } => {
                let Some(upgrade) = waiting.remove(host) else { continue };
                let Some(before) = upgrade.before else { continue };
                if let Some(lost) = difference(before, state) {
                    let text = format!(
                        "{host}'s upgrade from app version {} to {} at {} ms lost data: {}",
                        upgrade.from, upgrade.to, upgrade.t_ms, lost.text
                    );
                    let details = Details { text, ..lost };
                    violations.push(Violation::new(NAME, event.t_ms, Some(host), details));
                }
            }
            EventKind::OpenFailed { error } => {
                let Some(upgrade) = waiting.remove(host) else { continue };
                let details = format!(
                    "{host} could not open after its upgrade from app version {} to {} at {} ms, so its data is \
                     out of reach: {error}",
                    upgrade.from, upgrade.to, upgrade.t_ms
                );
                violations.push(Violation::new(NAME, event.t_ms, Some(host), details));
            }
            _ => {}
        }
    }
    let end = history.events.last().map_or(0, |e| e.t_ms);
    violations.extend(waiting.into_iter().map(|(host, upgrade)| {
        let details =
            format!("{host} never opened again after its upgrade to app version {} at {} ms", upgrade.to, upgrade.t_ms);
        Violation::new(NAME, end, Some(host), details)
    }));
    violations
}

/// How `after` fails to hold what `before` held, if it does: records and fields (those both
/// versions know), pending mutations, surfaced failures and conflicts.
fn difference<'s>(before: &'s DeviceState, after: &DeviceState) -> Option<Details> {
    let protocol = before.protocol.min(after.protocol);
    let record = before.records.iter().find_map(|(key, fields)| {
        let Some(now) = after.records.get(key) else {
            return Some((Some(key), format!("it no longer shows {key}")));
        };
        let field = fields.keys().filter(|f| knows(protocol, key, f)).find(|f| now.get(*f) != fields.get(*f))?;
        Some((Some(key), format!("{key} {field} was {} and is {}", shown(fields.get(field)), shown(now.get(field)))))
    });
    let surfaced = |what: &str, was: &'s [RecordKey], is: &[RecordKey]| {
        let is: BTreeSet<_> = is.iter().collect();
        was.iter()
            .find(|key| !is.contains(key))
            .map(|key| (Some(key), format!("it no longer shows the {what} on {key}")))
    };
    let (key, first) = record
        .or_else(|| (before.pending != after.pending).then(|| (None, "its queue changed".to_owned())))
        .or_else(|| surfaced("failed write", &before.failed, &after.failed))
        .or_else(|| surfaced("conflict", &before.conflicts, &after.conflicts))?;
    let text = format!(
        "before, {} records and {} pending mutations; after, {} records and {} pending mutations; {first}",
        before.records.len(),
        before.pending,
        after.records.len(),
        after.pending
    );
    Some(key.into_iter().fold(Details::from(text), Details::record))
}

/// The protocol version each device spoke over time, from its reads.
struct Protocols<'a>(BTreeMap<&'a str, Vec<(u64, u32)>>);

impl<'a> Protocols<'a> {
    fn of(history: &'a History) -> Self {
        let mut by_host: BTreeMap<&str, Vec<(u64, u32)>> = BTreeMap::new();
        for event in &history.events {
            if let EventKind::Read { protocol, .. } = &event.kind {
                by_host.entry(event.host.as_str()).or_default().push((event.t_ms, *protocol));
            }
        }
        Self(by_host)
    }

    /// What `host` spoke at `t_ms`: its last read before, else its first read after.
    fn at(&self, host: &str, t_ms: u64) -> Option<u32> {
        let reads = self.0.get(host)?;
        let before = reads.iter().take_while(|(t, _)| *t <= t_ms).last();
        before.or(reads.first()).map(|(_, p)| *p)
    }
}

/// Fields of later protocol versions that the server holds as null although an
/// acknowledged write set them and none cleared them, on records an older app wrote to.
fn erased_newer_fields(facts: &Facts<'_>) -> Vec<Violation> {
    let protocols = Protocols::of(facts.history);
    let end = facts.end_ms();
    let mut violations = Vec::new();
    for (user, records) in &facts.servers {
        for (key, fields) in records.iter() {
            let newer = key.entity.fields().iter().filter(|f| f.since > 1 && f.kind.is_register());
            for def in newer {
                if fields.get(def.name).is_some_and(|v| !v.is_null()) {
                    continue;
                }
                if let Some(erased) = erased(facts, &protocols, key, def.name, def.since) {
                    let details = Details { text: format!("{user}'s {key} {}: {}", def.name, erased.text), ..erased };
                    violations.push(Violation::new(NAME, end, None, details));
                }
            }
        }
    }
    violations
}

/// Why `field` of `key` (added in protocol `since`, null on the server) was erased, if it
/// was: an acknowledged value, no write of null, and a write from an older app.
fn erased(facts: &Facts<'_>, protocols: &Protocols<'_>, key: &RecordKey, field: &str, since: u32) -> Option<Details> {
    let mut writers = facts.writers(key, field);
    if writers.any(|(_, value)| value.is_null()) {
        return None;
    }
    let (set, value) = facts
        .writers(key, field)
        .find(|(op, value)| op.acknowledged() && !value.is_null() && !facts.surfaced_for(op))?;
    let older = facts.on(key).filter(|op| op.maybe_applied()).find_map(|op| {
        let protocol = protocols.at(op.host, op.invoked_ms)?;
        (protocol < since).then_some((op, protocol))
    })?;
    let (old, protocol) = older;
    let text = format!(
        "{} set it to {value} and was acknowledged, no write cleared it, yet the server holds {}; {} came from an \
         app speaking protocol {protocol}, which does not know {field}",
        cite(set),
        shown(Some(&Value::Null)),
        cite(old)
    );
    Some(Details::from(text).op(set.op).op(old.op).record(key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invariant::fixture::{create, records, showing, task, update, Timeline, ALICE, DEVICE0, DEVICE1};
    use protocol::Changes;
    use serde_json::json;

    fn upgrade(before: Option<DeviceState>) -> EventKind {
        EventKind::Upgrade { from: 1, to: 5, before }
    }

    fn holding(pending: usize) -> DeviceState {
        DeviceState { pending, ..showing(records(&[(&task("t1"), json!({ "title": "a" }))])) }
    }

    /// device0 holds `before`, is upgraded from 1 to 5, then reopens: `after` is what
    /// happens at the reopen (`upgraded`, or `open_failed`).
    fn upgraded(before: DeviceState, after: EventKind) -> History {
        Timeline::new(&[ALICE]).at(100).event(DEVICE0, upgrade(Some(before))).at(1_100).event(DEVICE0, after).build()
    }

    fn opened(state: DeviceState) -> EventKind {
        EventKind::Upgraded { version: 5, state }
    }

    #[test]
    fn an_upgrade_that_keeps_records_and_queue_preserves_data() {
        let history = upgraded(holding(3), opened(holding(3)));
        assert_eq!(UpgradePreservesData.check(&history), Check::ok());
    }

    #[test]
    fn an_upgrade_that_empties_the_database_is_caught_with_both_counts() {
        let history = upgraded(holding(3), opened(DeviceState::default()));
        let check = UpgradePreservesData.check(&history);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("1 records and 3 pending mutations; after, 0 records and 0 pending"), "{details}");
        assert!(details.contains("no longer shows task/t1"), "{details}");
    }

    #[test]
    fn a_lost_queue_entry_is_caught() {
        let history = upgraded(holding(3), opened(holding(2)));
        assert_eq!(UpgradePreservesData.check(&history).violations.len(), 1);
    }

    #[test]
    fn an_app_that_cannot_open_after_its_upgrade_is_caught_until_it_opens() {
        let failed = upgraded(holding(1), EventKind::OpenFailed { error: "duplicate column name: protocol".into() });
        let check = UpgradePreservesData.check(&failed);
        assert_eq!(check.violations.len(), 1, "{check:?}");
        assert!(check.violations[0].details.contains("duplicate column"), "{check:?}");
        let never = Timeline::new(&[ALICE]).at(100).event(DEVICE0, upgrade(None)).build();
        assert_eq!(UpgradePreservesData.check(&never).violations.len(), 1);
    }

    #[test]
    fn a_field_the_new_version_does_not_show_is_not_compared() {
        let mut before = holding(0);
        before.records.get_mut(&task("t1")).unwrap().insert("due_on".into(), json!("2026-12-01"));
        let mut after = holding(0);
        after.protocol = 1;
        let history = upgraded(before, opened(after));
        assert_eq!(UpgradePreservesData.check(&history), Check::ok());
    }

    fn due_then_retitled(old_protocol: u32) -> History {
        let t1 = task("t1");
        let history = Timeline::new(&[ALICE, ALICE])
            .at(100)
            .acked(DEVICE0, 1, create(&t1, json!({ "title": "a", "due_on": "2026-12-01" })))
            .at(200)
            .event(
                DEVICE1,
                EventKind::Read {
                    user: ALICE.into(),
                    protocol: old_protocol,
                    records: records(&[]),
                    pending: None,
                    failed: Vec::new(),
                    conflicts: Vec::new(),
                },
            )
            .at(300)
            .acked(DEVICE1, 2, update(&t1, Changes::new().set("title", "b")));
        history.settle(&[(ALICE, records(&[(&t1, json!({ "title": "b" }))]))]).build()
    }

    #[test]
    fn an_older_apps_write_that_erases_a_newer_field_is_caught() {
        let check = UpgradePreservesData.check(&due_then_retitled(1));
        assert_eq!(check.violations.len(), 1, "{check:?}");
        let details = &check.violations[0].details;
        assert!(details.contains("due_on") && details.contains("protocol 1"), "{details}");
    }

    #[test]
    fn a_newer_field_lost_among_apps_that_all_know_it_is_left_to_the_other_checks() {
        assert_eq!(UpgradePreservesData.check(&due_then_retitled(2)), Check::ok());
    }

    #[test]
    fn a_newer_field_cleared_by_a_write_is_not_erased() {
        let t1 = task("t1");
        let history = Timeline::new(&[ALICE, ALICE])
            .at(100)
            .acked(DEVICE0, 1, create(&t1, json!({ "title": "a", "due_on": "2026-12-01" })))
            .at(200)
            .event(
                DEVICE1,
                EventKind::Read {
                    user: ALICE.into(),
                    protocol: 1,
                    records: records(&[]),
                    pending: None,
                    failed: Vec::new(),
                    conflicts: Vec::new(),
                },
            )
            .acked(DEVICE0, 2, update(&t1, Changes::new().set("due_on", Value::Null)))
            .at(300)
            .acked(DEVICE1, 3, update(&t1, Changes::new().set("title", "b")))
            .settle(&[(ALICE, records(&[(&t1, json!({ "title": "b" }))]))])
            .build();
        assert_eq!(UpgradePreservesData.check(&history), Check::ok());
    }
}
