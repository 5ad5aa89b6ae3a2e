//! Shape checks on a mutation, shared by the server (4xx on failure) and the client (refuse
//! the local write before it is queued).

use crate::error::{ErrorBody, ErrorCode};
use crate::push::{Action, Mutation};
use crate::schema::{is_uuid, Entity, FieldKind};
use serde_json::Value;

/// Longest idempotency key accepted.
pub const MAX_KEY_LEN: usize = 64;
/// Longest set element accepted, in characters.
pub const MAX_ELEMENT_LEN: usize = 100;
/// Largest absolute counter increment accepted in one mutation.
pub const MAX_INCREMENT: i64 = 1_000_000_000;

/// Checks that `m` is well-formed against the schema of the latest protocol version and
/// returns its entity (see [`validate_mutation_in`]).
pub fn validate_mutation(m: &Mutation) -> Result<Entity, ErrorBody> {
    validate_mutation_in(m, crate::PROTOCOL_VERSION)
}

/// Checks that `m` is well-formed against the schema of protocol `version` (a field of a
/// later version is unknown) and returns its entity.
///
/// It does not look at any stored state: conflicts, missing records and missing parents are
/// per-mutation outcomes, not malformed requests.
pub fn validate_mutation_in(m: &Mutation, version: u32) -> Result<Entity, ErrorBody> {
    let bad = |code, msg: String| ErrorBody::new(code, format!("mutation {}: {msg}", m.key));
    let within = |e: ErrorBody| bad(e.error, e.message);
    if m.key.is_empty() || m.key.len() > MAX_KEY_LEN || !m.key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ErrorBody::new(
            ErrorCode::InvalidValue,
            format!("idempotency key {:?} must be 1 to {MAX_KEY_LEN} printable ASCII characters", m.key),
        ));
    }
    let Some(entity) = Entity::parse(&m.entity) else {
        let known: Vec<&str> = Entity::ALL.iter().map(|e| e.name()).collect();
        return Err(bad(ErrorCode::UnknownEntity, format!("unknown entity {:?}; known: {known:?}", m.entity)));
    };
    if !is_uuid(&m.id) {
        return Err(bad(ErrorCode::InvalidValue, format!("id {:?} is not a UUID", m.id)));
    }
    for (name, value) in &m.changes.fields {
        check_register(entity, version, name, value).map_err(within)?;
    }
    for (name, delta) in &m.changes.increments {
        expect_kind(entity, version, name, "counter", |k| k == FieldKind::Counter).map_err(within)?;
        if delta.abs() > MAX_INCREMENT {
            return Err(bad(ErrorCode::InvalidValue, format!("increment of {name} is larger than {MAX_INCREMENT}")));
        }
    }
    let set_fields = m.changes.set_add.iter().map(|(n, e)| (n, e.iter().collect::<Vec<_>>()));
    let removed = m.changes.set_remove.iter().map(|(n, e)| (n, e.keys().collect::<Vec<_>>()));
    for (name, elements) in set_fields.chain(removed) {
        expect_kind(entity, version, name, "set", |k| k == FieldKind::Set).map_err(within)?;
        if let Some(e) = elements.iter().find(|e| e.is_empty() || e.chars().count() > MAX_ELEMENT_LEN) {
            return Err(bad(
                ErrorCode::InvalidValue,
                format!("set element {e:?} of {name} must be 1 to {MAX_ELEMENT_LEN} characters"),
            ));
        }
    }
    check_action(m, entity).map_err(within)?;
    Ok(entity)
}

fn check_action(m: &Mutation, entity: Entity) -> Result<(), ErrorBody> {
    let has_changes = !m.changes.is_empty();
    match m.action {
        Action::Create => {
            if m.base_version != 0 {
                return Err(ErrorBody::new(ErrorCode::InvalidValue, "a create must have base_version 0"));
            }
            let missing =
                entity.fields().iter().find(|f| f.required && m.changes.fields.get(f.name).is_none_or(Value::is_null));
            if let Some(f) = missing {
                return Err(ErrorBody::new(
                    ErrorCode::MissingField,
                    format!("a create of {entity} must set {}", f.name),
                ));
            }
        }
        Action::Update if !has_changes => {
            return Err(ErrorBody::new(ErrorCode::InvalidValue, "an update must change at least one field"));
        }
        Action::Delete if has_changes => {
            return Err(ErrorBody::new(ErrorCode::InvalidValue, "a delete carries no field changes"));
        }
        Action::Update | Action::Delete => {}
    }
    Ok(())
}

fn expect_kind(
    entity: Entity,
    version: u32,
    name: &str,
    what: &str,
    ok: impl Fn(FieldKind) -> bool,
) -> Result<FieldKind, ErrorBody> {
    let Some(def) = entity.field_in(name, version) else {
        let message = match entity.field(name) {
            Some(def) => {
                format!("{entity}.{name} is not in protocol version {version}: it arrived in version {}", def.since)
            }
            None => format!("{entity} has no field {name:?}"),
        };
        return Err(ErrorBody::new(ErrorCode::UnknownField, message));
    };
    if !ok(def.kind) {
        return Err(ErrorBody::new(ErrorCode::WrongType, format!("{entity}.{name} is not a {what} field")));
    }
    Ok(def.kind)
}

/// Checks one register field's value (text, bool or reference; `null` clears an optional
/// one) as protocol `version` declares it.
pub fn check_register(entity: Entity, version: u32, name: &str, value: &Value) -> Result<(), ErrorBody> {
    let kind = expect_kind(entity, version, name, "text, bool or reference", FieldKind::is_register)?;
    let required = entity.field(name).is_some_and(|f| f.required);
    let wrong = |expected: &str| {
        Err(ErrorBody::new(ErrorCode::WrongType, format!("{entity}.{name} must be {expected}, got {value}")))
    };
    match (kind, value) {
        (_, Value::Null) if required => wrong("set (it is required)"),
        (_, Value::Null) => Ok(()),
        (FieldKind::Text { max_len }, Value::String(s)) if s.chars().count() > max_len => {
            Err(ErrorBody::new(ErrorCode::InvalidValue, format!("{entity}.{name} is longer than {max_len} characters")))
        }
        (FieldKind::Text { .. }, Value::String(_)) => Ok(()),
        (FieldKind::Text { .. }, _) => wrong("a string"),
        (FieldKind::Bool, Value::Bool(_)) => Ok(()),
        (FieldKind::Bool, _) => wrong("a boolean"),
        (FieldKind::Reference(_), Value::String(s)) if is_uuid(s) => Ok(()),
        (FieldKind::Reference(parent), _) => wrong(&format!("the UUID of a {parent}")),
        (FieldKind::Counter | FieldKind::Set, _) => unreachable!("filtered by is_register"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hlc::Hlc;

    fn task_create() -> Mutation {
        Mutation {
            key: "k1".into(),
            entity: "task".into(),
            id: "67e55044-10b1-426f-9247-bb680e5fe0c8".into(),
            action: Action::Create,
            base_version: 0,
            after: None,
            changes: crate::Changes::new()
                .set("project_id", "00000000-0000-4000-8000-000000000001")
                .set("title", "write tests"),
            hlc: Hlc::zero("d"),
            client_time_ms: 0,
        }
    }

    fn code_of(m: &Mutation) -> ErrorCode {
        validate_mutation(m).expect_err("must be refused").error
    }

    #[test]
    fn a_complete_create_is_accepted() {
        assert_eq!(validate_mutation(&task_create()), Ok(Entity::Task));
    }

    #[test]
    fn each_class_of_bad_mutation_gets_its_own_code() {
        let mut m = task_create();
        m.entity = "invoice".into();
        assert_eq!(code_of(&m), ErrorCode::UnknownEntity);
        let mut m = task_create();
        m.changes.fields.insert("colour".into(), Value::from("red"));
        assert_eq!(code_of(&m), ErrorCode::UnknownField);
        let mut m = task_create();
        m.changes.fields.insert("done".into(), Value::from("yes"));
        assert_eq!(code_of(&m), ErrorCode::WrongType);
        let mut m = task_create();
        m.changes.fields.remove("title");
        assert_eq!(code_of(&m), ErrorCode::MissingField);
        let mut m = task_create();
        m.id = "not-a-uuid".into();
        assert_eq!(code_of(&m), ErrorCode::InvalidValue);
        let mut m = task_create();
        m.changes.increments.insert("title".into(), 1);
        assert_eq!(code_of(&m), ErrorCode::WrongType);
    }

    #[test]
    fn a_field_of_a_later_version_is_unknown_to_an_older_one() {
        let m = Mutation { changes: task_create().changes.set("due_on", "2026-12-01"), ..task_create() };
        assert_eq!(validate_mutation_in(&m, 2), Ok(Entity::Task));
        let refused = validate_mutation_in(&m, 1).expect_err("version 1 has no due_on");
        assert_eq!(refused.error, ErrorCode::UnknownField);
        assert!(refused.message.contains("arrived in version 2"), "{}", refused.message);
    }
}
