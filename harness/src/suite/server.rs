//! Scenarios about the server: restarts mid-sync, crashes right after a commit, a request
//! stalled inside it while others go on, pushes arriving twice at once, storms of refusals,
//! big transactions pulled in small pages, a clock that steps back.

use super::secs;
use crate::fault::Host;
use crate::net::{HttpFault, Route};
use crate::workload::Mix;
use crate::{Fault, Profile, Scenario, Step, Workload};
use std::time::Duration;

/// The server crashes and restarts while devices sync.
pub fn server_restart_mid_sync() -> Scenario {
    Scenario::builder("server_restart_mid_sync")
        .description("the server crashes at 5, 15 and 25 s (back 1 s later) and is bounced at 10 and 20 s")
        .devices(3)
        .profile(Profile::THREE_G)
        .workload(Workload::mixed(30).every(secs(1)))
        .at(secs(5), Fault::Crash(Host::Server))
        .at(secs(6), Fault::Bounce(Host::Server))
        .at(secs(10), Fault::Bounce(Host::Server))
        .at(secs(15), Fault::Crash(Host::Server))
        .at(secs(16), Fault::Bounce(Host::Server))
        .at(secs(20), Fault::Bounce(Host::Server))
        .at(secs(25), Fault::Crash(Host::Server))
        .at(secs(26), Fault::Bounce(Host::Server))
        .duration(secs(40))
        .build()
}

/// The server crashes right after it commits a push, before it answers, every 4 s: the
/// devices never hear of those writes and push them again. Counters are incremented often,
/// so that a write applied twice shows.
pub fn server_crashes_right_after_a_commit() -> Scenario {
    let mix = Mix { increment: 12, ..Mix::BALANCED };
    let mut builder = Scenario::builder("server_crashes_right_after_a_commit")
        .description("the server crashes right after committing a push, before answering, every 4 s from 4 to 32 s")
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(30).mix(mix).every(secs(1)));
    for at in (4..=32).step_by(4) {
        builder = builder.at(secs(at), Fault::crash_server_at(Step::PushCommitted));
    }
    builder.duration(secs(40)).build()
}

/// A pull stalls inside the server every 2 s, its page read and its answer not yet sent,
/// while the other devices' pushes commit: a server that reads anything more for that answer
/// after the stall (its cursor, say) reads a store that has moved.
pub fn server_stalls_while_answering_a_pull() -> Scenario {
    let mut builder = Scenario::builder("server_stalls_while_answering_a_pull")
        .description(
            "from 3 to 33 s, every 2 s, the next pull stalls 1.5 s in the server between its read and its answer",
        )
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(40).every(Duration::from_millis(700)));
    for at in (3..=33).step_by(2) {
        builder = builder.at(secs(at), Fault::stall_server_at_pull_read(Duration::from_millis(1_500)));
    }
    builder.duration(secs(40)).build()
}

/// From 3 to 33 s, a third of the pushes reach the server twice at once, as from a proxy
/// that retries a request it believes lost while the first is still being handled. Counters
/// are incremented often, so that a write applied twice shows.
pub fn pushes_arrive_twice_at_once() -> Scenario {
    let mix = Mix { increment: 12, ..Mix::BALANCED };
    Scenario::builder("pushes_arrive_twice_at_once")
        .description("from 3 to 33 s, a third of the pushes reach the server twice at once (a proxy's retry)")
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(30).mix(mix).every(secs(1)))
        .at(secs(3), Fault::duplicate_pushes(333))
        .at(secs(33), Fault::HttpCalm)
        .duration(secs(40))
        .build()
}

/// Midway, the server stops accepting the task field `notes` (a deploy that dropped it),
/// while device0 is offline with edits of it queued: those edits, and the others' after the
/// change, are refused for ever. They must be surfaced as failed, and hold up nothing queued
/// beside or behind them.
pub fn server_refuses_a_field_for_ever() -> Scenario {
    Scenario::builder("server_refuses_a_field_for_ever")
        .description("device0 offline from 3 to 16 s; from 10 s the server refuses every write of the task field notes")
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(40).every(Duration::from_millis(700)))
        .at(secs(3), Fault::partition(0))
        .at(secs(10), Fault::RefuseField("notes"))
        .at(secs(16), Fault::repair(0))
        .duration(secs(40))
        .build()
}

/// The server refuses everything for a while, then rate-limits, then refuses a share.
pub fn server_error_and_rate_limit_storms() -> Scenario {
    let refuse = |fault, permille| Fault::Http(fault, Route::Any, permille);
    let rate_limited = |secs| HttpFault::TooManyRequests { retry_after: Duration::from_secs(secs) };
    Scenario::builder("server_error_and_rate_limit_storms")
        .description("every request gets 503 from 3 s, then 429 Retry-After 3 s from 12 s, then 500 on 40% of pushes")
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(32).every(secs(1)))
        .at(secs(3), refuse(HttpFault::ServerError(503), 1000))
        .at(secs(12), Fault::HttpCalm)
        .at(secs(12), refuse(rate_limited(3), 1000))
        .at(secs(21), Fault::HttpCalm)
        .at(secs(21), Fault::Http(HttpFault::ServerError(500), Route::Push, 400))
        .at(secs(21), refuse(rate_limited(2), 150))
        .at(secs(31), Fault::HttpCalm)
        .duration(secs(40))
        .build()
}

/// Hundreds of changes committed in a few server transactions, pulled in pages smaller
/// than a transaction.
pub fn many_changes_pulled_in_small_pages() -> Scenario {
    let mix = Mix { create_project: 1, create_task: 12, edit_text: 2, ..Mix::EDITS };
    Scenario::builder("many_changes_pulled_in_small_pages")
        .description("device0 writes 240 records offline, pushes them 100 to a transaction; others pull 50 a page")
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(80).mix(mix).every(Duration::from_millis(100)))
        .at(Duration::ZERO, Fault::Profile(0.into(), Profile::OFFLINE))
        .at(secs(12), Fault::Profile(0.into(), Profile::LTE))
        .duration(secs(30))
        .build()
}

/// The server's clock steps back an hour (a failover to a node that is behind, an NTP step)
/// while devices write and sync, then forward twenty minutes.
pub fn server_clock_steps_back() -> Scenario {
    Scenario::builder("server_clock_steps_back")
        .description(
            "the server's clock steps back 1 h at 10 s (a failover to a node behind) and forward 20 min at 25 s",
        )
        .devices(3)
        .profile(Profile::LTE)
        .workload(Workload::mixed(30).every(secs(1)))
        .at(secs(10), Fault::server_clock_jump(-3_600_000))
        .at(secs(25), Fault::server_clock_jump(1_200_000))
        .duration(secs(40))
        .build()
}
