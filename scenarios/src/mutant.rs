//! The mutant catalog: deliberately broken variants of the reference, each a small change
//! from a bug class seen in real sync engines, each caught by the invariant that names it.
//!
//! A check that cannot fail is worthless: the suite passes on the reference, and fails on
//! every mutant here, by the invariant listed with it (`tests/mutants` proves both).
//! Certify one with `syncsim certify --mutant NAME`; `syncsim list --mutants` names them.

use crate::reference::{ReferenceClient, ReferenceServer};
use reference_client::Bug as ClientBug;
use reference_server::Bug as ServerBug;
use syncsim::certify::Planted;
use syncsim::cli::{PresetVariant, Variant};
use syncsim::fuzz::Adapters;

/// Where the bug is planted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plant {
    /// In the reference client.
    Client(ClientBug),
    /// In the reference server.
    Server(ServerBug),
}

/// One deliberately broken variant of the reference.
#[derive(Clone, Copy, Debug)]
pub struct Mutant {
    /// Its stable name, for `--mutant`.
    pub name: &'static str,
    /// The change, in one sentence.
    pub change: &'static str,
    /// The real-world failure it imitates.
    pub imitates: &'static str,
    /// The invariant that must catch it.
    pub caught_by: &'static str,
    /// The scenario built to catch it (any other may catch it too).
    pub scenario: &'static str,
    /// Where the bug is planted.
    pub plant: Plant,
}

impl Mutant {
    /// The reference client, with this mutant's bug when it is a client bug.
    pub fn client(&self) -> ReferenceClient {
        let bug = match self.plant {
            Plant::Client(bug) => Some(bug),
            Plant::Server(_) => None,
        };
        ReferenceClient { bug, ..ReferenceClient::default() }
    }

    /// The reference server, with this mutant's bug when it is a server bug.
    pub fn server(&self) -> ReferenceServer {
        let bug = match self.plant {
            Plant::Server(bug) => Some(bug),
            Plant::Client(_) => None,
        };
        ReferenceServer { bug, ..ReferenceServer::default() }
    }
}

impl Mutant {
    /// This mutant as a variant of the reference's command line (`--mutant NAME`).
    pub fn variant(&self) -> Variant<ReferenceClient, ReferenceServer> {
        let planted = Planted {
            name: self.name.to_owned(),
            change: self.change.to_owned(),
            caught_by: self.caught_by.to_owned(),
            scenario: self.scenario.to_owned(),
        };
        let adapters = Adapters {
            imports: vec!["scenarios::mutant".to_owned()],
            setup: vec![format!("let mutant = mutant::by_name({:?}).expect(\"the catalog has it\");", self.name)],
            client: "mutant.client()".to_owned(),
            server: "mutant.server()".to_owned(),
        };
        Variant { planted, client: self.client(), server: self.server(), adapters }
    }
}

/// The mutant named `name`, if there is one.
pub fn by_name(name: &str) -> Option<&'static Mutant> {
    ALL.iter().find(|m| m.name == name)
}

/// Every mutant, in the order `syncsim list --mutants` shows them.
pub const ALL: &[Mutant] = &[
    Mutant {
        name: "fresh_key_per_retry",
        change:
            "the client makes a mutation's idempotency key when it builds the request, not when it queues the write",
        imitates:
            "a retry after a lost response is a new mutation to the server: counters count twice, comments post twice",
        caught_by: "exactly once",
        scenario: "lost_acknowledgements",
        plant: Plant::Client(ClientBug::FreshKeyPerRetry),
    },
    Mutant {
        name: "idempotency_ignored",
        change: "the server applies every pushed mutation without looking up its idempotency key",
        imitates: "an endpoint that is not idempotent behind a client that retries: double charges, double increments",
        caught_by: "exactly once",
        scenario: "lost_acknowledgements",
        plant: Plant::Server(ServerBug::IdempotencyIgnored),
    },
    Mutant {
        name: "idempotency_recorded_after_commit",
        change: "the server writes a push's idempotency records in a transaction of their own, after its effects \
                 have committed",
        imitates: "a crash between the two commits: the retry finds no record of the write and applies it again \
                   (counters count twice, a create is refused as a duplicate)",
        caught_by: "exactly once",
        scenario: "server_crashes_right_after_a_commit",
        plant: Plant::Server(ServerBug::IdempotencyRecordedAfterCommit),
    },
    Mutant {
        name: "idempotency_checked_apart",
        change: "the server looks a push's idempotency keys up in a read of its own, then applies the push after an \
                 await, recording with INSERT OR IGNORE",
        imitates: "a check-then-act over an async database driver: a copy of the push that arrives while the first \
                   is in flight (a proxy's retry) finds no record either and applies every mutation again",
        caught_by: "exactly once",
        scenario: "pushes_arrive_twice_at_once",
        plant: Plant::Server(ServerBug::IdempotencyCheckedApart),
    },
    Mutant {
        name: "dequeue_before_ack",
        change: "the client removes a queue entry when its push starts, before the server answered",
        imitates: "writes made offline vanish when the app is killed or the network drops during the upload",
        caught_by: "no lost acknowledged writes",
        scenario: "kill_at_each_sync_step",
        plant: Plant::Client(ClientBug::DequeueBeforeAck),
    },
    Mutant {
        name: "cursor_saved_before_page",
        change: "the client saves a pull page's cursor in its own transaction, before it applies the page",
        imitates: "a kill between the two commits skips a page for ever: records other devices wrote never appear",
        caught_by: "convergence",
        scenario: "kill_at_each_sync_step",
        plant: Plant::Client(ClientBug::CursorSavedBeforePage),
    },
    Mutant {
        name: "cursor_by_timestamp",
        change: "the server's pull cursor is the last change's timestamp, and a pull returns changes after it",
        imitates: "changes committed in the same millisecond as a page's last one are skipped at the page boundary",
        caught_by: "convergence",
        scenario: "many_changes_pulled_in_small_pages",
        plant: Plant::Server(ServerBug::CursorByTimestamp),
    },
    Mutant {
        name: "versions_from_server_clock",
        change: "the server's change versions are its clock in microseconds (the millisecond and a counter within it)",
        imitates: "an `updated_at` cursor: after the server's clock steps back, new changes sort behind the cursors \
                   devices already hold, and those devices never pull them",
        caught_by: "convergence",
        scenario: "server_clock_steps_back",
        plant: Plant::Server(ServerBug::VersionsFromServerClock),
    },
    Mutant {
        name: "pull_cursor_read_apart",
        change: "a pull's cursor is the store's newest change, read after the page's rows with an await between",
        imitates: "commit order against the cursor: a push committed between the two reads lies behind a cursor \
                   already served, and the device never pulls it",
        caught_by: "convergence",
        scenario: "server_stalls_while_answering_a_pull",
        plant: Plant::Server(ServerBug::PullCursorReadApart),
    },
    Mutant {
        name: "hard_deletes",
        change: "the server deletes the row instead of keeping a tombstone",
        imitates: "other devices never learn of a delete and keep showing the record",
        caught_by: "convergence",
        scenario: "delete_on_one_device_while_another_edits",
        plant: Plant::Server(ServerBug::HardDeletes),
    },
    Mutant {
        name: "pull_skips_tombstones",
        change: "the server's pull leaves out deleted records",
        imitates: "a delete reaches the server but no other device: deleted records stay on every other phone",
        caught_by: "convergence",
        scenario: "delete_on_one_device_while_another_edits",
        plant: Plant::Server(ServerBug::PullSkipsTombstones),
    },
    Mutant {
        name: "last_write_wins_by_device_clock",
        change: "the server's last-write-wins compares the devices' wall clocks instead of hybrid logical clocks",
        imitates: "a phone whose clock is behind loses every edit it makes, even to edits it had already seen",
        caught_by: "causality",
        scenario: "clock_skew_of_hours",
        plant: Plant::Server(ServerBug::LastWriteWinsByDeviceClock),
    },
    Mutant {
        name: "hlc_ignores_remote",
        change: "the client's hybrid logical clock never observes the stamps it pulls",
        imitates: "a hybrid clock that degenerates into the wall clock: a slow phone's edits lose to older ones",
        caught_by: "causality",
        scenario: "clock_skew_of_hours",
        plant: Plant::Client(ClientBug::HlcIgnoresRemote),
    },
    Mutant {
        name: "no_base_version_check",
        change: "the server applies a write whatever version it was based on",
        imitates: "a stale client silently overwrites what another user saved a minute ago (the lost update)",
        caught_by: "declared strategy honoured",
        scenario: "concurrent_edits_under_server_wins",
        plant: Plant::Server(ServerBug::NoBaseVersionCheck),
    },
    Mutant {
        name: "counter_overwrite",
        change: "the server overwrites a device's share of a counter with each increment instead of adding to it",
        imitates: "likes or stock counts that go down when two phones increment them offline",
        caught_by: "declared strategy honoured",
        scenario: "counters_and_sets_edited_everywhere",
        plant: Plant::Server(ServerBug::CounterOverwrite),
    },
    Mutant {
        name: "leaks_other_users",
        change: "the server's pull is not filtered by the authenticated user",
        imitates: "one customer's records appear on another customer's phone",
        caught_by: "isolation",
        scenario: "many_devices_of_several_users",
        plant: Plant::Server(ServerBug::LeaksOtherUsers),
    },
    Mutant {
        name: "migration_recreates_database",
        change: "opening the app after an upgrade recreates the local database instead of migrating it",
        imitates: "\"clear the cache on schema change\": the offline queue is thrown away with the cache",
        caught_by: "upgrade preserves data",
        scenario: "app_upgrade_with_a_full_queue",
        plant: Plant::Client(ClientBug::MigrationRecreatesDatabase),
    },
    Mutant {
        name: "migration_not_idempotent",
        change: "migrations commit statement by statement and assume nothing of them has run yet",
        imitates:
            "a migration killed halfway: the next start fails on \"duplicate column\" and the app never opens again",
        caught_by: "upgrade preserves data",
        scenario: "kill_in_the_middle_of_a_migration",
        plant: Plant::Client(ClientBug::MigrationNotIdempotent),
    },
    Mutant {
        name: "not_null_without_default",
        change: "the version 3 migration adds `cursors.protocol` as NOT NULL without a default",
        imitates:
            "a migration tested only on an empty database: SQLite refuses it on every upgrade, the app cannot start",
        caught_by: "upgrade preserves data",
        scenario: "app_upgrade_with_a_full_queue",
        plant: Plant::Client(ClientBug::NotNullWithoutDefault),
    },
    Mutant {
        name: "upgrade_keeps_cursors",
        change: "an app upgraded to a newer protocol goes on pulling from the cursors the old protocol left",
        imitates: "an update that adds a field: records synced before it never show the field on the upgraded phone",
        caught_by: "convergence",
        scenario: "upgrade_from_v1_straight_to_v5",
        plant: Plant::Client(ClientBug::UpgradeKeepsCursors),
    },
    Mutant {
        name: "old_writes_reset_unknown_fields",
        change: "the server brings an older client's update to the current protocol by filling in the fields it lacks \
                 with null",
        imitates: "a compatibility shim that upgrades old requests to full new ones: an old app's edit erases the due \
                   dates newer apps set",
        caught_by: "upgrade preserves data",
        scenario: "newer_server_with_old_clients",
        plant: Plant::Server(ServerBug::OldWritesResetUnknownFields),
    },
    Mutant {
        name: "second_resolution_tie_break",
        change:
            "the client keeps a pulled version only if its timestamp, in whole seconds, is newer; ties keep what it has",
        imitates:
            "a non-deterministic tie-break: replicas that saw two versions of one second in different orders disagree",
        caught_by: "convergence",
        scenario: "edits_on_both_sides_of_a_partition",
        plant: Plant::Client(ClientBug::SecondResolutionTieBreak),
    },
    Mutant {
        name: "pull_overwrites_pending_edits",
        change: "the client stores a pulled record over the local row, hiding the device's own pending writes",
        imitates: "the user's edit flickers back to the old value after a background sync",
        caught_by: "read your writes",
        scenario: "server_error_and_rate_limit_storms",
        plant: Plant::Client(ClientBug::PullOverwritesPendingEdits),
    },
    Mutant {
        name: "retry_without_backoff",
        change: "the client retries a failed round at the next trigger, with no backoff and no respect for Retry-After",
        imitates: "a fleet of phones hammering a server that is already failing (the thundering herd)",
        caught_by: "retries back off",
        scenario: "server_error_and_rate_limit_storms",
        plant: Plant::Client(ClientBug::RetryWithoutBackoff),
    },
    Mutant {
        name: "resync_ignored",
        change: "the client ignores the server's \"re-sync: your cursor is past the tombstone horizon\"",
        imitates: "a phone back from a long trip keeps records that were deleted (and purged) while it was away",
        caught_by: "convergence",
        scenario: "device_offline_longer_than_the_tombstone_horizon",
        plant: Plant::Client(ClientBug::ResyncIgnored),
    },
    Mutant {
        name: "replayed_answer_trusted",
        change: "the client stores a push's answer as the record's server copy even when it replays a write whose \
                 first answer was lost and the last full re-sync found the record gone",
        imitates: "a record whose create was answered to a dead app, deleted elsewhere and purged, comes back on \
                   that phone for good when the retry is answered (a zombie)",
        caught_by: "convergence",
        scenario: "answer_lost_then_deleted_and_purged",
        plant: Plant::Client(ClientBug::ReplayedAnswerTrusted),
    },
    Mutant {
        name: "failed_mutation_dropped",
        change: "the client drops a mutation the server refuses for good, without telling anyone",
        imitates: "an edit that silently disappears because its parent was deleted on another device",
        caught_by: "no lost acknowledged writes",
        scenario: "parent_and_child_created_offline",
        plant: Plant::Client(ClientBug::FailedMutationDropped),
    },
    Mutant {
        name: "view_restored_at_open",
        change: "at start-up the client shows each record as the server last sent it, and re-applies its pending \
                 writes only when the next sync round starts",
        imitates: "an app killed in the background comes back without the edits its user just made; they reappear \
                   after the next sync (reads go backwards), or never, if it cannot sync",
        caught_by: "read your writes",
        scenario: "kill_at_each_sync_step",
        plant: Plant::Client(ClientBug::ViewRestoredAtOpen),
    },
    Mutant {
        name: "refused_push_retried",
        change: "the client sends a push the server refused (a 4xx) again as it is at the next round, like a \
                 network error",
        imitates: "a poison write after a server's validation changed: the queue is stuck behind it for ever, \
                   every later write of the device with it",
        caught_by: "no lost acknowledged writes",
        scenario: "server_refuses_a_field_for_ever",
        plant: Plant::Client(ClientBug::RefusedPushRetried),
    },
    Mutant {
        name: "rounds_overlap",
        change: "a sync round does not wait for one under way: a second runs beside it on a connection of its own; \
                 a pulled row is stored as the truth, whatever version the device holds",
        imitates: "a foreground sync and a background task at once: a page read before the device's own write \
                   committed lands after that write's answer, and the write vanishes from the screen (or a \
                   deleted record comes back) until the next pull",
        caught_by: "read your writes",
        scenario: "two_sync_rounds_at_once",
        plant: Plant::Client(ClientBug::RoundsOverlap),
    },
    Mutant {
        name: "tombstone_drops_pending_edits",
        change: "a pulled tombstone of a record the client still has edits queued for completes them, and nobody \
                 is told (the client declares that it shows such edits)",
        imitates: "an edit made offline to a record deleted on another device vanishes without a word: the delete \
                   wins on the phone before the edit was ever sent",
        caught_by: "no lost acknowledged writes",
        scenario: "delete_on_one_device_while_another_edits",
        plant: Plant::Client(ClientBug::TombstoneDropsPendingEdits),
    },
    Mutant {
        name: "store_shared_across_users",
        change: "the app keeps one local database whoever logs in: the next user opens the previous one's store \
                 with their own token",
        imitates: "a logout that forgets to clear or partition the local store: the next user of a shared tablet \
                   sees the previous one's records, and their queued writes are pushed into the new user's account",
        caught_by: "isolation",
        scenario: "another_user_logs_in_on_the_same_device",
        plant: Plant::Client(ClientBug::StoreSharedAcrossUsers),
    },
    Mutant {
        name: "logout_wipes_the_store",
        change: "logging out deletes the local database of the user who leaves, writes not yet synced included",
        imitates: "a logout that clears the device for the next user: what the first user wrote offline never \
                   reaches the server, and is gone from their screen when they log back in",
        caught_by: "read your writes",
        scenario: "another_user_logs_in_on_the_same_device",
        plant: Plant::Client(ClientBug::LogoutWipesTheStore),
    },
];

/// A bug planted in one of the reference server's dialects for a third-party client: caught
/// live, against that client's driver (`--live PRESET --mutant NAME`), never in the
/// simulation, where the reference client speaks only the reference protocol.
#[derive(Clone, Copy, Debug)]
pub struct DialectMutant {
    /// The live preset whose client catches it (`crate::preset`).
    pub preset: &'static str,
    /// The bug, planted in the server (`plant` is always a server bug).
    pub mutant: Mutant,
}

impl DialectMutant {
    /// This mutant as a variant of its preset's server.
    pub fn variant(&self) -> PresetVariant<ReferenceServer> {
        let m = &self.mutant;
        let planted = Planted {
            name: m.name.to_owned(),
            change: m.change.to_owned(),
            caught_by: m.caught_by.to_owned(),
            scenario: m.scenario.to_owned(),
        };
        PresetVariant { planted, server: m.server() }
    }
}

/// Every dialect mutant, by preset.
pub const DIALECTS: &[DialectMutant] = &[
    DialectMutant {
        preset: "replicache",
        mutant: Mutant {
            name: "replicache_lmid_unchecked",
            change: "the Replicache dialect applies every pushed mutation without comparing its id with the client's \
                     lastMutationID",
            imitates: "a push handler that trusts the client to send each mutation once, while Replicache re-sends \
                       every mutation until a pull reports it: increments count twice",
            caught_by: "exactly once",
            scenario: "offline_writes_then_reconnect",
            plant: Plant::Server(ServerBug::ReplicacheLastMutationIdUnchecked),
        },
    },
    DialectMutant {
        preset: "replicache",
        mutant: Mutant {
            name: "replicache_cookie_from_live_rows",
            change: "the Replicache dialect's pull cookie is the version of the user's newest live record, not the \
                     store's version",
            imitates: "a cookie computed from the rows the client can see: it stays put when a push only advanced \
                       lastMutationIDs and goes back after a delete, and Replicache ignores such pulls: its mutations \
                       stay pending for ever",
            caught_by: "convergence",
            scenario: "offline_writes_then_reconnect",
            plant: Plant::Server(ServerBug::ReplicacheCookieFromLiveRows),
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_invariants_exist() {
        let every = ALL.iter().chain(DIALECTS.iter().map(|d| &d.mutant));
        let names: BTreeSet<_> = every.clone().map(|m| m.name).collect();
        assert_eq!(names.len(), ALL.len() + DIALECTS.len(), "two mutants share a name");
        let presets: BTreeSet<_> = crate::preset::all().into_iter().map(|p| p.name).collect();
        for d in DIALECTS {
            assert!(presets.contains(d.preset), "{}: no preset named {:?}", d.mutant.name, d.preset);
            assert!(matches!(d.mutant.plant, Plant::Server(_)), "{}: a dialect bug is the server's", d.mutant.name);
        }
        let invariants: BTreeSet<_> = syncsim::invariant::all().iter().map(|i| i.name()).collect();
        for m in every {
            assert!(invariants.contains(m.caught_by), "{}: no invariant named {:?}", m.name, m.caught_by);
        }
    }
}
