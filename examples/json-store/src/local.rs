//! What the app keeps in its file: the server's records as it knows them, the writes the
//! server has not answered, the writes it refused, and the pull cursor.

use crate::apply::{apply, Records};
use crate::wire::{Mutation, Outcome, PullResponse};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The app's whole stored state.
///
/// What the user sees is [`Local::view`]: the base with the queue applied over it. The
/// base only ever takes writes the server has applied, so a pulled record, which already
/// holds them, can replace its copy outright; and a round pushes before it pulls, so no
/// queued write is in a pulled record (counters are never counted twice).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Local {
    /// The server's records as last pulled, with this app's applied writes since.
    pub(crate) base: Records,
    /// Writes not yet answered, in the order the user made them.
    pub(crate) queue: Vec<Mutation>,
    /// Writes the server refused for good, kept to show the user.
    pub(crate) failed: Vec<Failed>,
    /// The change number of the last change pulled.
    pub(crate) cursor: u64,
}

/// A write the server refused, and why.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Failed {
    /// The write.
    pub(crate) mutation: Mutation,
    /// The server's reason.
    pub(crate) reason: String,
}

impl Local {
    /// What the user sees: the base with every unanswered write applied over it.
    pub(crate) fn view(&self) -> Records {
        let mut view = self.base.clone();
        for mutation in &self.queue {
            apply(&mut view, &mutation.operation, &mutation.key);
        }
        view
    }

    /// Takes the server's answers to a push: applied writes leave the queue for the base,
    /// refused ones leave it for `failed`. Writes without an answer stay queued. Returns
    /// how many met a conflict.
    pub(crate) fn acknowledge(&mut self, outcomes: &BTreeMap<String, Outcome>) -> u64 {
        let mut conflicts = 0;
        for mutation in std::mem::take(&mut self.queue) {
            match outcomes.get(&mutation.key) {
                None => self.queue.push(mutation),
                Some(Outcome::Applied { conflict }) => {
                    apply(&mut self.base, &mutation.operation, &mutation.key);
                    conflicts += u64::from(*conflict);
                }
                Some(Outcome::Refused { reason }) => self.failed.push(Failed { mutation, reason: reason.clone() }),
            }
        }
        conflicts
    }

    /// Takes a pulled page: each record replaces the app's copy, and the cursor moves past
    /// the page.
    pub(crate) fn absorb(&mut self, page: PullResponse) {
        self.base.extend(page.changes);
        self.cursor = page.cursor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncsim::{Changes, Entity, Operation};

    fn mutation(key: &str, operation: Operation) -> Mutation {
        Mutation { key: key.to_owned(), operation, base: 0 }
    }

    #[test]
    fn a_refused_write_leaves_the_view_and_is_kept_as_failed() {
        let changes = Changes::new().set("project_id", "p1").set("title", "t");
        let create = mutation("k1", Operation::Create { entity: Entity::Task, id: "t1".into(), changes });
        let mut local = Local { queue: vec![create.clone()], ..Local::default() };
        assert_eq!(local.view().len(), 1, "a queued write shows at once");
        let refused = Outcome::Refused { reason: "project p1 is deleted".into() };
        local.acknowledge(&BTreeMap::from([("k1".to_owned(), refused)]));
        assert!(local.view().is_empty() && local.queue.is_empty());
        assert_eq!(local.failed[0].mutation, create);
    }

    #[test]
    fn an_applied_increment_counts_once_in_the_view() {
        let create = Operation::Create { entity: Entity::Task, id: "t1".into(), changes: Changes::new() };
        let bump = Operation::Update {
            entity: Entity::Task,
            id: "t1".into(),
            changes: Changes::new().increment("pomodoros", 2),
        };
        let mut local = Local { queue: vec![mutation("k1", create), mutation("k2", bump)], ..Local::default() };
        let applied = Outcome::Applied { conflict: false };
        let applied = BTreeMap::from([("k1".to_owned(), applied.clone()), ("k2".to_owned(), applied)]);
        local.acknowledge(&applied);
        assert_eq!(local.view().values().next().unwrap().counters["pomodoros"], 2);
    }
}
