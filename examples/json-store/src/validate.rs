//! The shape a write must have: fields its entity declares, values of their kind, and the
//! required fields on a create.

use syncsim::{FieldKind, Operation};

/// Checks `operation` against the schema of its entity; the error says what is wrong.
pub(crate) fn validate(operation: &Operation) -> Result<(), String> {
    let key = operation.key();
    if key.id.is_empty() {
        return Err("a record id must not be empty".to_owned());
    }
    let Some(changes) = operation.changes() else { return Ok(()) };
    let entity = key.entity;
    let kind = |name: &str| entity.field(name).map(|f| f.kind).ok_or_else(|| format!("{entity} has no field {name}"));
    for (name, value) in &changes.fields {
        let fits = match kind(name)? {
            FieldKind::Text { max_len } => value.as_str().is_some_and(|s| s.chars().count() <= max_len),
            FieldKind::Bool => value.is_boolean(),
            FieldKind::Reference(_) => value.is_string(),
            FieldKind::Counter | FieldKind::Set => false,
        };
        let clears_optional = value.is_null() && entity.field(name).is_some_and(|f| !f.required);
        if !fits && !clears_optional {
            return Err(format!("{entity} field {name} cannot hold {value}"));
        }
    }
    for name in changes.increments.keys() {
        if kind(name)? != FieldKind::Counter {
            return Err(format!("{entity} field {name} is not a counter"));
        }
    }
    for name in changes.set_add.keys().chain(changes.set_remove.keys()) {
        if kind(name)? != FieldKind::Set {
            return Err(format!("{entity} field {name} is not a set"));
        }
    }
    if let Operation::Create { .. } = operation {
        let missing =
            entity.fields().iter().find(|f| f.required && changes.fields.get(f.name).is_none_or(|v| v.is_null()));
        if let Some(field) = missing {
            return Err(format!("a new {entity} needs a {}", field.name));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use syncsim::{Changes, Entity};

    fn create(changes: Changes) -> Operation {
        Operation::Create { entity: Entity::Task, id: "t1".to_owned(), changes }
    }

    #[test]
    fn a_task_needs_a_project_and_a_title() {
        let titled = Changes::new().set("title", "t");
        assert_eq!(validate(&create(titled.clone())), Err("a new task needs a project_id".to_owned()));
        assert_eq!(validate(&create(titled.set("project_id", "p1"))), Ok(()));
    }

    #[test]
    fn values_must_fit_their_field() {
        let update = |changes| Operation::Update { entity: Entity::Task, id: "t1".to_owned(), changes };
        assert!(validate(&update(Changes::new().set("done", "yes"))).unwrap_err().contains("done"));
        assert!(validate(&update(Changes::new().increment("title", 1))).unwrap_err().contains("not a counter"));
        assert!(validate(&update(Changes::new().set("colour", "red"))).unwrap_err().contains("no field colour"));
        assert_eq!(validate(&update(Changes::new().set("notes", serde_json::Value::Null))), Ok(()));
    }
}
