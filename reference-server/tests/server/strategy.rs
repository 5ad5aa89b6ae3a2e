//! Each strategy on the same situation: the phone retitled a task after the laptop last saw
//! it, and the laptop then pushes an update based on the version it saw.

use crate::support::{accepted, conflict, id, project_with_task, Device, Edit, Server, ALICE, START_MS};
use protocol::{Entity, MutationOutcome, Record, Resolution, Strategies, Strategy};
use serde_json::json;

const TASK: u32 = 2;

/// The server after the phone retitled the task; returns the version the laptop saw (the
/// task as created, with notes "from the phone") and the record after the retitle.
async fn retitled_by_phone(server: &Server) -> (u64, Record) {
    let phone = Device::alice("phone");
    let created = project_with_task(server, &phone, &id(1), &id(TASK)).await;
    let notes = phone.update(Entity::Task, &id(TASK), created.version).field("notes", "from the phone");
    let seen = accepted(server.push_one(&phone, notes).await);
    let retitle = phone.update(Entity::Task, &id(TASK), seen.version).field("title", "phone title");
    let current = accepted(server.push_one(&phone, retitle).await);
    (seen.version, current)
}

fn laptop_ahead() -> Device {
    Device::alice("laptop").clock_at(START_MS + 60_000)
}

fn laptop_behind() -> Device {
    Device::alice("laptop").clock_at(START_MS - 60_000)
}

#[tokio::test]
async fn field_merge_applies_the_disjoint_fields_of_a_stale_update() {
    let server = Server::with_strategies(Strategies::uniform(Strategy::FieldMerge));
    let (seen, _) = retitled_by_phone(&server).await;
    let laptop = laptop_behind();

    let stale = laptop.update(Entity::Task, &id(TASK), seen).field("notes", "from the laptop");
    let outcome = server.push_one(&laptop, stale).await;

    assert!(matches!(outcome, MutationOutcome::Accepted { concurrent: true, .. }), "{outcome:?}");
    let record = server.record(ALICE, &id(TASK));
    assert_eq!(record.fields["title"], "phone title", "the phone's edit survives");
    assert_eq!(record.fields["notes"], "from the laptop", "the laptop's disjoint edit applies");
}

#[tokio::test]
async fn server_wins_keeps_the_server_value_against_a_stale_update() {
    let server = Server::with_strategies(Strategies::uniform(Strategy::ServerWins));
    let (seen, current) = retitled_by_phone(&server).await;
    let laptop = laptop_ahead();

    let stale = laptop.update(Entity::Task, &id(TASK), seen).field("notes", "from the laptop");
    let (resolution, kept, record) = conflict(server.push_one(&laptop, stale).await);

    assert_eq!((resolution, kept), (Resolution::KeptServer, vec!["notes".to_owned()]));
    assert_eq!(record, current, "not even a disjoint field of a stale write applies");
    assert_eq!(server.last_seq(), current.version, "nothing changed, so no change was sequenced");
}

#[tokio::test]
async fn user_prompted_changes_no_register_field_but_applies_counter_increments() {
    let server = Server::with_strategies(Strategies::uniform(Strategy::UserPrompted));
    let (seen, current) = retitled_by_phone(&server).await;
    let laptop = laptop_ahead();

    let stale = laptop
        .update(Entity::Task, &id(TASK), seen)
        .field("title", "laptop title")
        .field("notes", "from the laptop")
        .increment("pomodoros", 2);
    let (resolution, kept, record) = conflict(server.push_one(&laptop, stale).await);

    assert_eq!(resolution, Resolution::NeedsUser);
    assert_eq!(kept, ["notes", "title"], "every field waits for the user, not only the overlapping one");
    assert_eq!(record.fields, current.fields);
    assert_eq!(record.visible()["pomodoros"], 2, "counters are CRDTs and never wait");
    assert_eq!(record.version, current.version + 1);
    assert_eq!(server.record(ALICE, &id(TASK)), record);
}

#[tokio::test]
async fn lww_hlc_takes_a_stale_write_with_the_newer_stamp() {
    let server = Server::with_strategies(Strategies::uniform(Strategy::LastWriteWinsHlc));
    let (seen, _) = retitled_by_phone(&server).await;
    let laptop = laptop_ahead();

    let stale = laptop.update(Entity::Task, &id(TASK), seen).field("title", "laptop title");
    let hlc = stale.hlc.clone();
    let record = accepted(server.push_one(&laptop, stale).await);

    assert_eq!(record.fields["title"], "laptop title");
    assert_eq!(record.stamps["title"].hlc, hlc, "the field now carries the winning stamp");
}

/// The laptop, offline on the stale base, edits the notes and then the title; the title edit
/// is chained to the notes edit with `after`. The notes edit did not apply cleanly (the
/// phone's retitle was concurrent), so the chained edit must not count the phone's title as
/// seen. Regression: the server based every chained write on its predecessor's resulting
/// version, which let the stale title overwrite the phone's silently under both strategies.
#[tokio::test]
async fn a_write_chained_to_a_concurrent_one_does_not_overwrite_a_change_it_never_saw() {
    for strategy in [Strategy::ServerWins, Strategy::FieldMerge, Strategy::UserPrompted] {
        let server = Server::with_strategies(Strategies::uniform(strategy));
        let (seen, _) = retitled_by_phone(&server).await;
        let laptop = laptop_ahead();
        let notes = laptop.update(Entity::Task, &id(TASK), seen).field("notes", "from the laptop");
        let title = laptop.update(Entity::Task, &id(TASK), seen).after(&notes.key).field("title", "laptop title");

        let results = server.push(&laptop, vec![notes, title]).await;

        let record = server.record(ALICE, &id(TASK));
        assert_eq!(record.fields["title"], "phone title", "under {strategy}: the laptop never saw the phone's title");
        let (_, kept, _) = conflict(results[1].outcome.clone());
        assert_eq!(kept, ["title"], "under {strategy}");
    }
}

/// The laptop's stale write sets `title` (changed by the phone since) and `notes` (changed
/// by the phone before the laptop saw the task), with a clock a minute behind.
#[tokio::test]
async fn every_strategy_resolves_a_stale_overlapping_update_as_declared() {
    for strategy in Strategy::ALL {
        let server = Server::with_strategies(Strategies::uniform(strategy));
        let (seen, _) = retitled_by_phone(&server).await;
        let laptop = laptop_behind();
        let stale = laptop
            .update(Entity::Task, &id(TASK), seen)
            .field("title", "laptop title")
            .field("notes", "from the laptop");

        let outcome = server.push_one(&laptop, stale).await;

        let record = server.record(ALICE, &id(TASK));
        let got = (summary(&outcome), record.fields["title"].clone(), record.fields["notes"].clone());
        let expected = match strategy {
            Strategy::LastWriteWinsArrival | Strategy::ClientWins => {
                ("accepted, concurrent".to_owned(), json!("laptop title"), json!("from the laptop"))
            }
            Strategy::LastWriteWinsHlc | Strategy::ServerWins => {
                ("kept_server [notes, title]".to_owned(), json!("phone title"), json!("from the phone"))
            }
            Strategy::FieldMerge => ("kept_server [title]".to_owned(), json!("phone title"), json!("from the laptop")),
            Strategy::UserPrompted => {
                ("needs_user [notes, title]".to_owned(), json!("phone title"), json!("from the phone"))
            }
        };
        assert_eq!(got, expected, "under {strategy}");
    }
}

fn summary(outcome: &MutationOutcome) -> String {
    match outcome {
        MutationOutcome::Accepted { concurrent: true, .. } => "accepted, concurrent".to_owned(),
        MutationOutcome::Accepted { concurrent: false, .. } => "accepted".to_owned(),
        MutationOutcome::Conflict { resolution, fields_kept, .. } => {
            let name = serde_json::to_value(resolution).unwrap();
            format!("{} [{}]", name.as_str().unwrap(), fields_kept.join(", "))
        }
        MutationOutcome::Rejected { code, .. } => format!("rejected {code:?}"),
    }
}
