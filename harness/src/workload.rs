//! What users do: a seeded stream of operations chosen from what each device shows.
//!
//! A device's user acts every `every` from `start`, `ops` times. Each operation is drawn
//! from the [`Mix`] with the device's seeded RNG, over the records the device shows at
//! that moment (as a user edits what is on screen), so runs differ per seed and repeat
//! exactly for one seed. Every text value written is unique in the run (`title #42` is op
//! 42's), which lets invariants tell whose write survived.

use crate::capability::Capabilities;
use crate::operation::{Fields, Operation, RecordKey};
use crate::state::DeviceState;
use protocol::{Changes, Entity};
use rand::rngs::SmallRng;
use rand::Rng;
use serde_json::Value;
use std::time::Duration;

/// Relative weights of the kinds of operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mix {
    /// Create a project.
    pub create_project: u32,
    /// Create a task in a visible project.
    pub create_task: u32,
    /// Set a text field of a visible record.
    pub edit_text: u32,
    /// Flip a task's `done`.
    pub toggle_done: u32,
    /// Increment a task's `pomodoros` counter.
    pub increment: u32,
    /// Add a label or tag (set fields).
    pub add_element: u32,
    /// Remove a visible label or tag.
    pub remove_element: u32,
    /// Delete a visible task.
    pub delete_task: u32,
    /// Delete a visible project that shows no tasks.
    pub delete_project: u32,
}

impl Mix {
    /// Mostly creates and edits, some counters and sets, few deletes.
    pub const BALANCED: Mix = Mix {
        create_project: 2,
        create_task: 6,
        edit_text: 8,
        toggle_done: 2,
        increment: 4,
        add_element: 3,
        remove_element: 2,
        delete_task: 2,
        delete_project: 1,
    };

    /// Edits of existing records only: the conflict maker.
    pub const EDITS: Mix = Mix {
        create_project: 0,
        create_task: 0,
        edit_text: 8,
        toggle_done: 2,
        increment: 4,
        add_element: 3,
        remove_element: 2,
        delete_task: 0,
        delete_project: 0,
    };
}

impl Mix {
    /// Edits and deletes of existing records, few creates: what a device away past the
    /// tombstone horizon must learn of when it is back.
    pub const DELETES: Mix = Mix {
        create_project: 0,
        create_task: 1,
        edit_text: 6,
        toggle_done: 0,
        increment: 0,
        add_element: 0,
        remove_element: 0,
        delete_task: 5,
        delete_project: 1,
    };
}

/// The users' behaviour in a scenario.
///
/// Defaults: from 1 s, one operation every 2 s, [`Mix::BALANCED`], nothing set up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// Operations per device.
    pub ops: u32,
    /// When each device's user starts.
    pub start: Duration,
    /// Time between one device's operations.
    pub every: Duration,
    /// What they do.
    pub mix: Mix,
    /// Projects device 0 creates at time 0, before anything else, so that every device
    /// has records to edit once it has synced.
    pub setup_projects: u32,
    /// Tasks in each of those projects.
    pub setup_tasks: u32,
}

impl Workload {
    /// No user activity.
    pub fn idle() -> Self {
        Self::mixed(0)
    }

    /// `ops` operations per device of the balanced mix.
    pub fn mixed(ops: u32) -> Self {
        Self {
            ops,
            start: Duration::from_secs(1),
            every: Duration::from_secs(2),
            mix: Mix::BALANCED,
            setup_projects: 0,
            setup_tasks: 0,
        }
    }

    /// Two projects of three tasks set up by device 0, then `ops` edits per device of
    /// those same records.
    pub fn edit_same_records(ops: u32) -> Self {
        Self { mix: Mix::EDITS, setup_projects: 2, setup_tasks: 3, ..Self::mixed(ops) }
    }

    /// Starts each device's user at `start`.
    pub fn start(mut self, start: Duration) -> Self {
        self.start = start;
        self
    }

    /// One operation every `every` per device.
    pub fn every(mut self, every: Duration) -> Self {
        self.every = every;
        self
    }

    /// This workload for an implementation with `capabilities`: without counter fields
    /// it makes no increments, without set fields no adds or removes.
    pub(crate) fn within(mut self, capabilities: &Capabilities) -> Self {
        if !capabilities.counters() {
            self.mix.increment = 0;
        }
        if !capabilities.sets() {
            self.mix.add_element = 0;
            self.mix.remove_element = 0;
        }
        self
    }

    /// Sets the mix.
    pub fn mix(mut self, mix: Mix) -> Self {
        self.mix = mix;
        self
    }

    /// When device's operation number `k` is due.
    pub(crate) fn due(&self, k: u32) -> Duration {
        self.start + self.every * k
    }

    /// The set-up operations of device 0, in order, each with its operation number.
    pub(crate) fn setup(&self, rng: &mut SmallRng, op: &mut dyn FnMut() -> u64) -> Vec<(u64, Operation)> {
        let mut ops = Vec::new();
        for _ in 0..self.setup_projects {
            let project = uuid(rng);
            let n = op();
            ops.push((n, create(Entity::Project, &project, Changes::new().set("name", format!("name #{n}")))));
            for _ in 0..self.setup_tasks {
                let n = op();
                let changes = Changes::new().set("project_id", project.as_str()).set("title", format!("title #{n}"));
                ops.push((n, create(Entity::Task, &uuid(rng), changes)));
            }
        }
        ops
    }

    /// Draws the next operation, numbered `n`, over what the device shows.
    pub(crate) fn next(&self, rng: &mut SmallRng, shown: &DeviceState, n: u64) -> Operation {
        let weights = [
            self.mix.create_project,
            self.mix.create_task,
            self.mix.edit_text,
            self.mix.toggle_done,
            self.mix.increment,
            self.mix.add_element,
            self.mix.remove_element,
            self.mix.delete_task,
            self.mix.delete_project,
        ];
        let total: u32 = weights.iter().sum();
        assert!(total > 0, "a workload with operations needs a mix with some weight");
        let mut pick = rng.gen_range(0..total);
        let kind = weights.iter().position(|w| {
            let hit = pick < *w;
            pick = pick.saturating_sub(*w);
            hit
        });
        let chosen = match kind.unwrap_or(0) {
            1 => create_task(rng, shown, n),
            2 => edit_text(rng, shown, n),
            3 => toggle_done(rng, shown),
            4 => increment(rng, shown),
            5 => add_element(rng, shown),
            6 => remove_element(rng, shown),
            7 => pick_record(rng, shown, Entity::Task).map(|k| Operation::Delete { entity: k.entity, id: k.id }),
            8 => delete_empty_project(rng, shown),
            _ => None,
        };
        chosen.unwrap_or_else(|| create(Entity::Project, &uuid(rng), Changes::new().set("name", format!("name #{n}"))))
    }
}

/// The values the device showed, before the write, of the register fields `operation`
/// sets.
pub(crate) fn observed(shown: &DeviceState, operation: &Operation) -> Fields {
    let (Operation::Update { changes, .. }, Some(record)) = (operation, shown.records.get(&operation.key())) else {
        return Fields::new();
    };
    changes.fields.keys().map(|f| (f.clone(), record.get(f).cloned().unwrap_or(Value::Null))).collect()
}

fn create(entity: Entity, id: &str, changes: Changes) -> Operation {
    Operation::Create { entity, id: id.to_owned(), changes }
}

fn update(key: RecordKey, changes: Changes) -> Operation {
    Operation::Update { entity: key.entity, id: key.id, changes }
}

fn pick_record(rng: &mut SmallRng, shown: &DeviceState, entity: Entity) -> Option<RecordKey> {
    let candidates: Vec<&RecordKey> = shown.records.keys().filter(|k| k.entity == entity).collect();
    (!candidates.is_empty()).then(|| candidates[rng.gen_range(0..candidates.len())].clone())
}

fn create_task(rng: &mut SmallRng, shown: &DeviceState, n: u64) -> Option<Operation> {
    let project = pick_record(rng, shown, Entity::Project)?;
    let changes = Changes::new().set("project_id", project.id.as_str()).set("title", format!("title #{n}"));
    Some(create(Entity::Task, &uuid(rng), changes))
}

fn edit_text(rng: &mut SmallRng, shown: &DeviceState, n: u64) -> Option<Operation> {
    let entity = if rng.gen_bool(0.7) { Entity::Task } else { Entity::Project };
    let key = pick_record(rng, shown, entity)?;
    let fields: &[&str] = match entity {
        Entity::Task if shown.protocol >= 2 => &["title", "notes", "due_on"],
        Entity::Task => &["title", "notes"],
        Entity::Project => &["name", "description"],
    };
    let field = fields[rng.gen_range(0..fields.len())];
    let value = match field {
        "due_on" => due_date(n),
        _ => format!("{field} #{n}"),
    };
    Some(update(key, Changes::new().set(field, value)))
}

/// A date (`YYYY-MM-DD`, the protocol's `due_on`) that no other operation number writes, so
/// the checks can tell whose write a value is.
pub(crate) fn due_date(n: u64) -> String {
    format!("{:04}-{:02}-{:02}", 2026 + n / 336, n % 336 / 28 + 1, n % 28 + 1)
}

fn toggle_done(rng: &mut SmallRng, shown: &DeviceState) -> Option<Operation> {
    let key = pick_record(rng, shown, Entity::Task)?;
    let done = shown.records[&key].get("done").and_then(Value::as_bool).unwrap_or(false);
    Some(update(key, Changes::new().set("done", !done)))
}

fn increment(rng: &mut SmallRng, shown: &DeviceState) -> Option<Operation> {
    let key = pick_record(rng, shown, Entity::Task)?;
    Some(update(key, Changes::new().increment("pomodoros", rng.gen_range(1..=3))))
}

fn set_field(entity: Entity) -> &'static str {
    match entity {
        Entity::Task => "labels",
        Entity::Project => "tags",
    }
}

fn add_element(rng: &mut SmallRng, shown: &DeviceState) -> Option<Operation> {
    let entity = if rng.gen_bool(0.7) { Entity::Task } else { Entity::Project };
    let key = pick_record(rng, shown, entity)?;
    let element = format!("e{}", rng.gen_range(0..5));
    Some(update(key, Changes::new().add(set_field(entity), &element)))
}

fn remove_element(rng: &mut SmallRng, shown: &DeviceState) -> Option<Operation> {
    let with_elements: Vec<(&RecordKey, &Value)> = shown
        .records
        .iter()
        .filter_map(|(k, fields)| fields.get(set_field(k.entity)).map(|v| (k, v)))
        .filter(|(_, v)| v.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    if with_elements.is_empty() {
        return None;
    }
    let (key, elements) = with_elements[rng.gen_range(0..with_elements.len())];
    let elements = elements.as_array()?;
    let element = elements[rng.gen_range(0..elements.len())].as_str()?.to_owned();
    Some(update(key.clone(), Changes::new().remove(set_field(key.entity), &element)))
}

fn delete_empty_project(rng: &mut SmallRng, shown: &DeviceState) -> Option<Operation> {
    let project = pick_record(rng, shown, Entity::Project)?;
    let has_tasks = shown
        .records
        .iter()
        .any(|(k, f)| k.entity == Entity::Task && f.get("project_id").and_then(Value::as_str) == Some(&project.id));
    (!has_tasks).then_some(Operation::Delete { entity: project.entity, id: project.id })
}

/// A version-4-shaped UUID drawn from `rng`.
pub(crate) fn uuid(rng: &mut SmallRng) -> String {
    let mut bytes: [u8; 16] = rng.gen();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn due_dates_are_distinct_and_fit_the_field() {
        let dates: std::collections::BTreeSet<String> = (0..5_000).map(due_date).collect();
        assert_eq!(dates.len(), 5_000);
        assert!(dates.iter().all(|d| d.len() == 10), "{:?}", dates.iter().next());
    }

    #[test]
    fn ids_are_uuids_the_protocol_accepts() {
        let mut rng = SmallRng::seed_from_u64(1);
        for _ in 0..100 {
            let id = uuid(&mut rng);
            assert!(protocol::is_uuid(&id), "{id}");
        }
    }

    #[test]
    fn with_nothing_shown_every_draw_creates_a_project() {
        let mut rng = SmallRng::seed_from_u64(2);
        let workload = Workload::mixed(10);
        for n in 0..50 {
            let op = workload.next(&mut rng, &DeviceState::default(), n);
            assert!(matches!(op, Operation::Create { entity: Entity::Project, .. }), "{op}");
        }
    }

    #[test]
    fn the_same_seed_draws_the_same_operations() {
        let workload = Workload::mixed(10);
        let draw = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            (0..20).map(|n| workload.next(&mut rng, &DeviceState::default(), n)).collect::<Vec<_>>()
        };
        assert_eq!(draw(5), draw(5));
        assert_ne!(draw(5), draw(6));
    }
}
