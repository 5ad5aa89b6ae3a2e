use crate::support::{accepted, conflict, id, project_with_task, rejected, Device, Edit, Server, ALICE};
use protocol::{Entity, RejectCode, Resolution};
use std::collections::BTreeSet;

#[tokio::test]
async fn replayed_push_is_answered_from_the_idempotency_table() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let task = project_with_task(&server, &phone, &id(1), &id(2)).await;
    let batch = vec![phone.update(Entity::Task, &id(2), task.version).field("done", true).increment("pomodoros", 1)];

    let first = server.push(&phone, batch.clone()).await;
    let seq_after_first = server.last_seq();
    let replay = server.push(&phone, batch).await;

    assert_eq!(replay, first, "a replay gets the stored result, byte for byte");
    assert_eq!(server.last_seq(), seq_after_first, "a replay commits no new change");
    let stored = server.record(ALICE, &id(2));
    assert_eq!(stored.visible()["pomodoros"], 1, "the increment was applied once, not per delivery");
    assert_eq!(stored.version, seq_after_first);
}

#[tokio::test]
async fn a_key_repeated_within_one_batch_takes_effect_once() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let task = project_with_task(&server, &phone, &id(1), &id(2)).await;
    let bump = phone.update(Entity::Task, &id(2), task.version).increment("pomodoros", 5);

    let results = server.push(&phone, vec![bump.clone(), bump]).await;

    assert_eq!(results[0], results[1]);
    assert_eq!(server.record(ALICE, &id(2)).visible()["pomodoros"], 5);
    assert_eq!(server.last_seq(), task.version + 1, "one change for two deliveries of one key");
}

#[tokio::test]
async fn a_create_chained_to_an_update_in_one_batch_does_not_conflict() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let project = phone.create_project(&id(1), "home");
    let create = phone.create_task(&id(2), &id(1), "draft");
    // Made offline before the create was acknowledged: based on version 0, chained to it.
    let edit = phone.update(Entity::Task, &id(2), 0).after(&create.key).field("title", "final").field("done", true);

    let results = server.push(&phone, vec![project, create, edit]).await;

    let record = accepted(results[2].outcome.clone());
    assert_eq!(record.fields["title"], "final");
    assert_eq!(record.fields["done"], true);
    assert_eq!(record.version, 3, "project, create and update are changes 1, 2 and 3");
    assert!(
        matches!(results[2].outcome, protocol::MutationOutcome::Accepted { concurrent: false, .. }),
        "a device's own chained edit is not a concurrent write: {:?}",
        results[2].outcome
    );
}

#[tokio::test]
async fn a_mutation_after_an_unknown_key_waits_and_its_rejection_is_not_stored() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let project = phone.create_project(&id(1), "home");
    let create = phone.create_task(&id(2), &id(1), "draft");
    let edit = phone.update(Entity::Task, &id(2), 0).after(&create.key).field("title", "final");

    let early = server.push_one(&phone, edit.clone()).await;
    assert_eq!(rejected(early), (RejectCode::WaitingForPredecessor, true));
    assert_eq!(server.last_seq(), 0, "a waiting mutation changes nothing");

    server.push(&phone, vec![project, create]).await;
    let retry = accepted(server.push_one(&phone, edit).await);

    assert_eq!(retry.fields["title"], "final", "the retry was applied, not answered with the stored rejection");
    assert_eq!(server.record(ALICE, &id(2)), retry);
}

#[tokio::test]
async fn an_update_of_a_deleted_record_is_a_deleted_conflict() {
    let server = Server::new();
    let (phone, laptop) = (Device::alice("phone"), Device::alice("laptop"));
    let task = project_with_task(&server, &phone, &id(1), &id(2)).await;
    accepted(server.push_one(&phone, phone.delete(Entity::Task, &id(2), task.version)).await);
    let tombstone = server.record(ALICE, &id(2));

    let late_edit =
        laptop.update(Entity::Task, &id(2), task.version).field("title", "revived?").increment("pomodoros", 1);
    let (resolution, fields_kept, record) = conflict(server.push_one(&laptop, late_edit).await);

    assert_eq!(resolution, Resolution::Deleted);
    assert_eq!(fields_kept, ["title"]);
    assert!(record.deleted);
    assert_eq!(server.record(ALICE, &id(2)), tombstone, "the delete wins: nothing of the edit, counters included");
}

#[tokio::test]
async fn a_create_of_an_existing_id_is_rejected_as_already_exists() {
    let server = Server::new();
    let (phone, laptop) = (Device::alice("phone"), Device::alice("laptop"));
    let task = project_with_task(&server, &phone, &id(1), &id(2)).await;

    let outcome = server.push_one(&laptop, laptop.create_task(&id(2), &id(1), "same id")).await;

    assert_eq!(rejected(outcome.clone()), (RejectCode::AlreadyExists, false));
    assert_eq!(outcome.record(), Some(&task), "the rejection carries the record as it stands");
    assert_eq!(server.record(ALICE, &id(2)), task);
}

/// Regression: a write chained to a create that was rejected as `already_exists` was based
/// on the existing record's version, so it overwrote a record its device had never seen.
#[tokio::test]
async fn a_write_chained_to_a_create_of_an_existing_id_does_not_overwrite_that_record() {
    let server = Server::new();
    let (phone, laptop) = (Device::alice("phone"), Device::alice("laptop"));
    server.push_one(&phone, phone.create_project(&id(1), "home")).await;
    let create = laptop.create_project(&id(1), "work");
    let rename = laptop.update(Entity::Project, &id(1), 0).after(&create.key).field("name", "office");

    let results = server.push(&laptop, vec![create, rename]).await;

    assert_eq!(rejected(results[0].outcome.clone()), (RejectCode::AlreadyExists, false));
    let (resolution, kept, _) = conflict(results[1].outcome.clone());
    assert_eq!((resolution, kept), (Resolution::KeptServer, vec!["name".to_owned()]), "projects merge fields");
    assert_eq!(server.record(ALICE, &id(1)).fields["name"], "home");
}

#[tokio::test]
async fn a_task_whose_project_is_missing_is_rejected_retryably_and_succeeds_later() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let orphan = phone.create_task(&id(2), &id(1), "early child");

    let outcome = server.push_one(&phone, orphan.clone()).await;

    assert_eq!(rejected(outcome), (RejectCode::MissingParent, true));
    assert!(server.records(ALICE).is_empty());
    server.push_one(&phone, phone.create_project(&id(1), "home")).await;
    let record = accepted(server.push_one(&phone, orphan).await);
    assert_eq!(record.fields["project_id"], id(1).as_str(), "missing_parent is not stored for idempotency");
}

#[tokio::test]
async fn a_task_whose_project_is_deleted_is_rejected_as_parent_deleted() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let project = accepted(server.push_one(&phone, phone.create_project(&id(1), "home")).await);
    server.push_one(&phone, phone.delete(Entity::Project, &id(1), project.version)).await;
    let seq = server.last_seq();

    let outcome = server.push_one(&phone, phone.create_task(&id(2), &id(1), "late child")).await;

    assert_eq!(rejected(outcome), (RejectCode::ParentDeleted, false));
    assert_eq!(server.last_seq(), seq);
    assert_eq!(server.records(ALICE).len(), 1, "only the project's tombstone");
}

#[tokio::test]
async fn a_concurrent_add_survives_a_remove_that_did_not_observe_it() {
    let server = Server::new();
    let (phone, laptop) = (Device::alice("phone"), Device::alice("laptop"));
    let create = phone.create_task(&id(2), &id(1), "plan").add("labels", "urgent");
    server.push(&phone, vec![phone.create_project(&id(1), "home"), create.clone()]).await;
    let seen = server.record(ALICE, &id(2));
    assert_eq!(
        seen.sets["labels"].tags("urgent"),
        BTreeSet::from([create.key.clone()]),
        "an add is tagged with its key"
    );

    let add_again = laptop.update(Entity::Task, &id(2), seen.version).add("labels", "urgent");
    server.push_one(&laptop, add_again.clone()).await;
    let observed = seen.sets["labels"].tags("urgent");
    let remove = phone.update(Entity::Task, &id(2), seen.version).remove("labels", "urgent", observed);
    let after = accepted(server.push_one(&phone, remove).await);

    assert_eq!(after.visible()["labels"], serde_json::json!(["urgent"]), "the laptop's add was not observed");
    assert_eq!(after.sets["labels"].tags("urgent"), BTreeSet::from([add_again.key]));
}

#[tokio::test]
async fn a_remove_of_every_observed_tag_removes_the_element() {
    let server = Server::new();
    let phone = Device::alice("phone");
    let create = phone.create_task(&id(2), &id(1), "plan").add("labels", "urgent").add("labels", "home");
    server.push(&phone, vec![phone.create_project(&id(1), "home"), create]).await;
    let seen = server.record(ALICE, &id(2));

    let observed = seen.sets["labels"].tags("urgent");
    let remove = phone.update(Entity::Task, &id(2), seen.version).remove("labels", "urgent", observed);
    let after = accepted(server.push_one(&phone, remove).await);

    assert_eq!(after.visible()["labels"], serde_json::json!(["home"]));
}
