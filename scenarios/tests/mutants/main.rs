//! Every check bites: each mutant of the catalog fails its scenario, by the invariant that
//! names its bug. (That the reference passes every scenario is `tests/suite`.)
//!
//! A mutant is run on its scenario seed after seed until a run violates the expected
//! invariant, up to `SEEDS` seeds (`SYNCSIM_SEEDS=N` tries more).

use scenarios::mutant::{self, Mutant};
use syncsim::suite;

/// Seeds tried per mutant before it is declared uncaught.
const SEEDS: u64 = 16;

/// Runs `name`'s scenario until its invariant catches it; panics if no seed does.
fn caught(name: &str) {
    let mutant = mutant::by_name(name).unwrap_or_else(|| panic!("no mutant named {name} in the catalog"));
    let scenario = suite::by_name(mutant.scenario)
        .unwrap_or_else(|| panic!("{name}: its scenario {} is not in the suite", mutant.scenario));
    let (client, server) = (mutant.client(), mutant.server());
    let mut seen = Vec::new();
    for seed in syncsim::seed::sweep(SEEDS) {
        let report = scenario.run(&client, &server, seed);
        if report.finding(mutant.caught_by).is_some_and(|f| !f.violations.is_empty()) {
            report.violations().for_each(cites_as_data);
            return;
        }
        seen.push(format!("seed {seed}: {:?}", violated(&report)));
    }
    panic!(
        "mutant {name} ({}) was not caught by `{}` on {}:\n  {}",
        mutant.change,
        mutant.caught_by,
        mutant.scenario,
        seen.join("\n  ")
    );
}

/// A violation carries, as data, every operation and record its words cite: the timeline
/// and the reports read those fields, never the words.
fn cites_as_data(violation: &syncsim::invariant::Violation) {
    let text = &violation.details;
    for (i, _) in text.match_indices("op ") {
        let digits: String = text[i + 3..].chars().take_while(char::is_ascii_digit).collect();
        if let Ok(op) = digits.parse::<u64>() {
            assert!(violation.ops.contains(&op), "op {op} is cited but not in `ops` {:?}: {violation}", violation.ops);
        }
    }
    for key in &violation.records {
        assert!(text.contains(&key.to_string()), "{key} is in `records` but not cited: {violation}");
    }
    let names_a_record = text.contains("task/") || text.contains("project/");
    assert!(!names_a_record || !violation.records.is_empty(), "a record is cited but `records` is empty: {violation}");
}

fn violated(report: &syncsim::Report) -> Vec<&'static str> {
    report.findings.iter().filter(|f| !f.violations.is_empty()).map(|f| f.invariant).collect()
}

#[test]
fn every_mutant_has_a_test_here() {
    let tested = include_str!("main.rs");
    for Mutant { name, .. } in mutant::ALL {
        assert!(tested.contains(&format!("mutant!({name})")), "mutant {name} has no `mutant!({name})` line below");
    }
}

macro_rules! mutant {
    ($name:ident) => {
        #[test]
        fn $name() {
            caught(stringify!($name));
        }
    };
}

mod is_caught {
    use super::caught;

    mutant!(fresh_key_per_retry);
    mutant!(idempotency_ignored);
    mutant!(idempotency_recorded_after_commit);
    mutant!(idempotency_checked_apart);
    mutant!(dequeue_before_ack);
    mutant!(cursor_saved_before_page);
    mutant!(cursor_by_timestamp);
    mutant!(versions_from_server_clock);
    mutant!(pull_cursor_read_apart);
    mutant!(hard_deletes);
    mutant!(pull_skips_tombstones);
    mutant!(last_write_wins_by_device_clock);
    mutant!(hlc_ignores_remote);
    mutant!(no_base_version_check);
    mutant!(counter_overwrite);
    mutant!(leaks_other_users);
    mutant!(migration_recreates_database);
    mutant!(migration_not_idempotent);
    mutant!(not_null_without_default);
    mutant!(upgrade_keeps_cursors);
    mutant!(old_writes_reset_unknown_fields);
    mutant!(second_resolution_tie_break);
    mutant!(pull_overwrites_pending_edits);
    mutant!(retry_without_backoff);
    mutant!(resync_ignored);
    mutant!(replayed_answer_trusted);
    mutant!(failed_mutation_dropped);
    mutant!(view_restored_at_open);
    mutant!(rounds_overlap);
    mutant!(refused_push_retried);
    mutant!(tombstone_drops_pending_edits);
    mutant!(store_shared_across_users);
    mutant!(logout_wipes_the_store);
}

/// What catches `view_restored_at_open` is the read the harness records as an app comes
/// back, before any round: the same runs without those reads (as the harness recorded
/// them before) hold "read your writes", since the first round re-applies the queue.
#[test]
fn view_restored_at_open_is_caught_only_by_the_read_right_after_a_reopen() {
    use syncsim::history::EventKind;
    use syncsim::invariant::{Invariant, ReadYourWrites};
    let mutant = mutant::by_name("view_restored_at_open").expect("in the catalog");
    let scenario = suite::by_name(mutant.scenario).expect("in the suite");
    for seed in syncsim::seed::sweep(SEEDS) {
        let report = scenario.run(&mutant.client(), &mutant.server(), seed);
        if ReadYourWrites.check(&report.history).violations.is_empty() {
            continue;
        }
        let mut history = report.history.clone();
        let mut reopened = std::collections::BTreeSet::new();
        history.events.retain(|event| {
            match &event.kind {
                EventKind::Restart | EventKind::Upgraded { .. } => {
                    reopened.insert(event.host.clone());
                }
                EventKind::SyncStart { .. } => {
                    reopened.remove(&event.host);
                }
                EventKind::Read { .. } => return !reopened.contains(&event.host),
                _ => {}
            }
            true
        });
        let without = ReadYourWrites.check(&history);
        assert!(without.violations.is_empty(), "seed {seed}: caught without the reads after a reopen: {without:?}");
        return;
    }
    panic!("view_restored_at_open was not caught by read your writes in {SEEDS} seeds");
}

/// What catches `versions_from_server_clock` is the server's clock stepping back: the same
/// scenario with its clock steps left out converges on every seed that caught it.
#[test]
fn versions_from_server_clock_is_caught_only_when_the_servers_clock_steps() {
    use syncsim::Fault;
    only_with_faults("versions_from_server_clock", |fault| matches!(fault, Fault::ServerClock(_)));
}

/// Runs mutant `name` on its scenario until its invariant catches it, then the same seed
/// with the faults `picked` left out (they must be all the scenario's faults): that run
/// must pass, so the catch needs those faults.
fn only_with_faults(name: &str, picked: impl Fn(&syncsim::Fault) -> bool) {
    let scenario = suite::by_name(mutant::by_name(name).expect("in the catalog").scenario).expect("in the suite");
    let steady = scenario.without_faults(&picked);
    assert!(steady.schedule().is_empty(), "{}: its only faults are the ones picked", scenario.name());
    passes_without(name, picked);
}

/// Runs mutant `name` on its scenario until its invariant catches it, then the same seed
/// with the faults `picked` left out: that run must pass, so the catch needs those faults.
fn passes_without(name: &str, picked: impl Fn(&syncsim::Fault) -> bool) {
    let mutant = mutant::by_name(name).expect("in the catalog");
    let scenario = suite::by_name(mutant.scenario).expect("in the suite");
    let steady = scenario.without_faults(picked);
    for seed in syncsim::seed::sweep(SEEDS) {
        let report = scenario.run(&mutant.client(), &mutant.server(), seed);
        if report.finding(mutant.caught_by).is_none_or(|f| f.violations.is_empty()) {
            continue;
        }
        let without = steady.run(&mutant.client(), &mutant.server(), seed);
        assert!(without.ok(), "seed {seed}: {name} fails without the faults: {:?}", violated(&without));
        return;
    }
    panic!("{name} was not caught by {} in {SEEDS} seeds", mutant.caught_by);
}

/// What catches `idempotency_recorded_after_commit` is the crash right after a commit: the
/// same scenario with its crashes at that step left out passes on every seed that caught it.
#[test]
fn idempotency_recorded_after_commit_is_caught_only_by_a_crash_right_after_a_commit() {
    only_with_faults("idempotency_recorded_after_commit", |fault| matches!(fault, syncsim::Fault::ServerCrashAt(..)));
}

/// What catches `idempotency_checked_apart` is a push arriving twice at once: the same
/// scenario without its duplicated pushes passes on every seed that caught it.
#[test]
fn idempotency_checked_apart_is_caught_only_by_a_push_arriving_twice_at_once() {
    use syncsim::net::HttpFault;
    only_with_faults("idempotency_checked_apart", |fault| {
        matches!(fault, syncsim::Fault::Http(HttpFault::Duplicate, ..) | syncsim::Fault::HttpCalm)
    });
}

/// What catches `pull_cursor_read_apart` is a pull stalled inside the server while pushes
/// commit: the same scenario without the stalls passes on every seed that caught it.
#[test]
fn pull_cursor_read_apart_is_caught_only_by_a_pull_stalled_in_the_server() {
    only_with_faults("pull_cursor_read_apart", |fault| matches!(fault, syncsim::Fault::ServerStallAt(..)));
}

/// What catches `rounds_overlap` is a second sync round started beside one under way: the
/// same scenario with every round taking its turn passes on every seed that caught it.
#[test]
fn rounds_overlap_is_caught_only_by_two_rounds_at_once() {
    only_with_faults("rounds_overlap", |fault| matches!(fault, syncsim::Fault::SecondRound(..)));
}

/// What catches `refused_push_retried` is a write the server refuses for ever: the same
/// scenario with the server's rule left as it was (device0 still offline a while) passes on
/// every seed that caught it.
#[test]
fn refused_push_retried_is_caught_only_when_the_server_refuses_a_field() {
    passes_without("refused_push_retried", |fault| matches!(fault, syncsim::Fault::RefuseField(_)));
}

/// What catches `tombstone_drops_pending_edits` is "no lost acknowledged writes" holding a
/// client to its declaration that it shows the edits a delete overtook: the same history
/// judged as before (the declaration left out) holds every invariant of the scenario.
#[test]
fn tombstone_drops_pending_edits_is_caught_only_by_the_declared_overtaken_writes() {
    let mutant = mutant::by_name("tombstone_drops_pending_edits").expect("in the catalog");
    let scenario = suite::by_name(mutant.scenario).expect("in the suite");
    for seed in syncsim::seed::sweep(SEEDS) {
        let report = scenario.run(&mutant.client(), &mutant.server(), seed);
        if report.finding(mutant.caught_by).is_none_or(|f| f.violations.is_empty()) {
            continue;
        }
        let mut history = report.history.clone();
        history.header.overtaken_writes_surfaced = false;
        for invariant in scenario.invariants() {
            let check = invariant.check(&history);
            assert!(
                check.violations.is_empty(),
                "seed {seed}: {} without the declaration: {check:?}",
                invariant.name()
            );
        }
        return;
    }
    panic!("tombstone_drops_pending_edits was not caught by {} in {SEEDS} seeds", mutant.caught_by);
}

/// What catches `store_shared_across_users` is another user logging in on the device: the
/// same scenario with every device keeping its user passes on every seed that caught it.
#[test]
fn store_shared_across_users_is_caught_only_when_another_user_logs_in() {
    only_with_switches("store_shared_across_users");
}

/// What catches `logout_wipes_the_store` is another user logging in on the device while
/// the first user's writes wait on it: without the switches the same seeds pass.
#[test]
fn logout_wipes_the_store_is_caught_only_when_another_user_logs_in() {
    only_with_switches("logout_wipes_the_store");
}

fn only_with_switches(name: &str) {
    passes_without(name, |fault| matches!(fault, syncsim::Fault::SwitchUser(..)));
}
