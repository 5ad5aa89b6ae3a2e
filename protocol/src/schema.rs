//! The data model: entities, their fields and what kind of value each field holds.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A synced entity type. Projects are parents; tasks reference a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entity {
    /// A project: the parent entity.
    Project,
    /// A task: the child entity, referencing a project by `project_id`.
    Task,
}

impl Entity {
    /// Every entity, parents first: the order pulls and creates follow.
    pub const ALL: [Entity; 2] = [Entity::Project, Entity::Task];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Project => "project",
            Entity::Task => "task",
        }
    }

    /// Parses a wire name.
    pub fn parse(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The entity's declared fields.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            Entity::Project => PROJECT_FIELDS,
            Entity::Task => TASK_FIELDS,
        }
    }

    /// Looks up one declared field.
    pub fn field(self, name: &str) -> Option<&'static FieldDef> {
        self.fields().iter().find(|f| f.name == name)
    }

    /// The fields a client speaking protocol `version` knows.
    pub fn fields_in(self, version: u32) -> impl Iterator<Item = &'static FieldDef> {
        self.fields().iter().filter(move |f| f.since <= version)
    }

    /// Looks up one field a client speaking protocol `version` knows.
    pub fn field_in(self, name: &str, version: u32) -> Option<&'static FieldDef> {
        self.field(name).filter(|f| f.since <= version)
    }

    /// Depth in the parent -> child hierarchy: parents are created before their children
    /// and deleted after them.
    pub fn depth(self) -> u8 {
        match self {
            Entity::Project => 0,
            Entity::Task => 1,
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a field holds, which decides how concurrent writes to it combine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    /// A UTF-8 string of at most `max_len` characters; resolved by the entity's strategy.
    Text {
        /// Longest accepted value, in characters.
        max_len: usize,
    },
    /// A boolean; resolved by the entity's strategy.
    Bool,
    /// The id of a record of another entity; resolved by the entity's strategy.
    Reference(Entity),
    /// A PN-counter: writes are increments and always merge.
    Counter,
    /// An OR-set of strings: writes are adds and removes and always merge.
    Set,
}

impl FieldKind {
    /// Whether writes to this field replace its value (and so go through the strategy).
    pub fn is_register(self) -> bool {
        !matches!(self, FieldKind::Counter | FieldKind::Set)
    }
}

/// One declared field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDef {
    /// The wire name.
    pub name: &'static str,
    /// What it holds.
    pub kind: FieldKind,
    /// Whether a create must set it.
    pub required: bool,
    /// The protocol version that introduced it. A client speaking an older version never
    /// sees it, and its writes leave it as it is.
    pub since: u32,
}

const fn field(name: &'static str, kind: FieldKind, required: bool) -> FieldDef {
    FieldDef { name, kind, required, since: 1 }
}

const fn field_since(version: u32, name: &'static str, kind: FieldKind) -> FieldDef {
    FieldDef { name, kind, required: false, since: version }
}

const TEXT: FieldKind = FieldKind::Text { max_len: 1_000 };
const LONG_TEXT: FieldKind = FieldKind::Text { max_len: 10_000 };
/// A calendar date, `YYYY-MM-DD`.
const DATE: FieldKind = FieldKind::Text { max_len: 10 };

const PROJECT_FIELDS: &[FieldDef] = &[
    field("name", TEXT, true),
    field("description", LONG_TEXT, false),
    field("archived", FieldKind::Bool, false),
    field("tags", FieldKind::Set, false),
];

const TASK_FIELDS: &[FieldDef] = &[
    field("project_id", FieldKind::Reference(Entity::Project), true),
    field("title", TEXT, true),
    field("notes", LONG_TEXT, false),
    field("done", FieldKind::Bool, false),
    field("pomodoros", FieldKind::Counter, false),
    field("labels", FieldKind::Set, false),
    field_since(2, "due_on", DATE),
];

/// Whether `id` is a textual UUID (8-4-4-4-12 lower- or upper-case hex digits).
pub fn is_uuid(id: &str) -> bool {
    let groups: Vec<&str> = id.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    groups.len() == 5 && groups.iter().zip(lens).all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_points_at_a_shallower_entity() {
        for entity in Entity::ALL {
            for f in entity.fields() {
                if let FieldKind::Reference(parent) = f.kind {
                    assert!(parent.depth() < entity.depth(), "{entity}.{} would break push order", f.name);
                }
            }
        }
    }

    #[test]
    fn fields_of_later_versions_are_optional_and_hidden_from_older_ones() {
        for entity in Entity::ALL {
            for f in entity.fields().iter().filter(|f| f.since > 1) {
                assert!(!f.required, "{entity}.{}: an older client cannot set a field it does not know", f.name);
                assert!(entity.field_in(f.name, f.since - 1).is_none());
                assert!(entity.fields_in(f.since - 1).all(|g| g.name != f.name));
            }
        }
        assert_eq!(Entity::Task.field_in("due_on", 2).map(|f| f.since), Some(2));
    }

    #[test]
    fn uuid_check_accepts_only_the_textual_form() {
        assert!(is_uuid("67e55044-10b1-426f-9247-bb680e5fe0c8"));
        assert!(!is_uuid("67e5504410b1426f9247bb680e5fe0c8"));
        assert!(!is_uuid("67e55044-10b1-426f-9247-bb680e5fe0cz"));
    }
}
