//! The client against a model of what its user should see (proptest-state-machine): local
//! writes on a few records, sync rounds, and app kills between any two operations and at
//! named sync steps.
//!
//! One user writes on one device (alice's phone, token a1); her laptop (a2) only reads.
//! With a single writer nothing conflicts, so the model is exact: the phone shows every
//! write from the moment it is made, whatever was killed when; once nothing is left
//! unacknowledged, the server holds the same records; and a laptop that synced shows the
//! server's. The ids come from a small pool, so that writes pile up on the same records.
//!
//! Each case runs on its own server and data directory, in its own runtime; both clocks
//! are fixed test clocks, so a case replays the same way every time. `SYNCSIM_MODEL_CASES=N`
//! runs N cases (default 64), drawn from `SYNCSIM_MODEL_SEED` (default 1). With the `mutants` feature, the same machine must catch
//! planted bugs of the client (module `mutants` below).

use crate::support::{KillAt, TestServer};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::Union;
use proptest::test_runner::{Config, RngSeed};
use proptest_state_machine::{prop_state_machine, ReferenceStateMachine, StateMachineTest};
use protocol::{Action, Entity};
use reference_client::{Changes, ClientConfig, QueueEntry, QueueStatus, Replica};
use reference_server::ServerConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::RangeInclusive;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use tempfile::TempDir;
use tokio::runtime::Runtime;

/// Projects in the pool of ids.
const PROJECTS: u8 = 2;
/// Tasks in the pool of ids.
const TASKS: u8 = 3;
/// Transitions per case.
const LENGTHS: RangeInclusive<usize> = 1..=24;
/// Steps of a phone's round where a kill may land.
const PHONE_STEPS: [&str; 6] = [
    "pull_starting",
    "pull_page_received",
    "pull_page_applied",
    "push_starting",
    "push_response_received",
    "push_acknowledged",
];
/// Steps of the laptop's round where a kill may land (it never pushes).
const PULL_STEPS: [&str; 3] = [PHONE_STEPS[0], PHONE_STEPS[1], PHONE_STEPS[2]];
/// A kill lands at the first time its step is reached, or a later one (weighted towards
/// the first: a round has few batches).
const NTH: [usize; 4] = [1, 1, 2, 3];

// The invariants, by the phrases their failures start with.
const SHOWS_THE_WRITES: &str = "the phone shows what the user wrote";
const QUEUED_ONCE: &str = "each unacknowledged write is queued once, under its own key";
const ROUND_DRAINS: &str = "a complete round leaves nothing unacknowledged";
const SERVER_HOLDS_THE_WRITES: &str = "with nothing unacknowledged, the server holds what the user wrote";
const READER_SHOWS_THE_SERVER: &str = "a laptop that synced shows the server's records";

/// One record of the pool: an entity and a slot, with a fixed id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rec {
    entity: Entity,
    slot: u8,
}

impl Rec {
    fn pool() -> impl Iterator<Item = Rec> {
        let projects = (0..PROJECTS).map(|slot| Rec { entity: Entity::Project, slot });
        projects.chain((0..TASKS).map(|slot| Rec { entity: Entity::Task, slot }))
    }

    fn id(self) -> String {
        format!("00000000-0000-4000-8000-{:06}{:06}", self.entity.depth(), self.slot)
    }

    /// The entity's set field.
    fn set_field(self) -> &'static str {
        match self.entity {
            Entity::Project => "tags",
            Entity::Task => "labels",
        }
    }

    /// The register writes drawn for this record: few values, so that writes collide;
    /// `null` clears an optional field.
    fn register_writes(self) -> Vec<(&'static str, Value)> {
        let (required, optional, flag) = match self.entity {
            Entity::Project => ("name", "description", "archived"),
            Entity::Task => ("title", "notes", "done"),
        };
        vec![
            (required, "one".into()),
            (required, "two".into()),
            (optional, "one".into()),
            (optional, Value::Null),
            (flag, true.into()),
            (flag, false.into()),
        ]
    }
}

impl fmt::Debug for Rec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.entity, self.slot)
    }
}

/// A write the user makes on the phone.
#[derive(Clone, Debug)]
enum Write {
    /// Creates a project named `name`, or a task titled `name` in `project`.
    Create { record: Rec, project: Option<Rec>, name: &'static str },
    /// Sets a register field (`null` clears it).
    Set { record: Rec, field: &'static str, value: Value },
    /// Adds to a task's counter.
    Increment { record: Rec, by: i64 },
    /// Adds an element to the record's set.
    Add { record: Rec, element: &'static str },
    /// Removes an element from the record's set (present or not).
    Remove { record: Rec, element: &'static str },
    /// Deletes the record, for good.
    Delete { record: Rec },
}

impl Write {
    fn record(&self) -> Rec {
        match self {
            Write::Create { record, .. }
            | Write::Set { record, .. }
            | Write::Increment { record, .. }
            | Write::Add { record, .. }
            | Write::Remove { record, .. }
            | Write::Delete { record } => *record,
        }
    }

    /// The client call that makes this write.
    fn call(&self) -> (Action, Changes) {
        match self {
            Write::Create { project: None, name, .. } => (Action::Create, Changes::new().set("name", *name)),
            Write::Create { project: Some(project), name, .. } => {
                (Action::Create, Changes::new().set("project_id", project.id()).set("title", *name))
            }
            Write::Set { field, value, .. } => (Action::Update, Changes::new().set(field, value.clone())),
            Write::Increment { by, .. } => (Action::Update, Changes::new().increment("pomodoros", *by)),
            Write::Add { record, element } => (Action::Update, Changes::new().add(record.set_field(), element)),
            Write::Remove { record, element } => (Action::Update, Changes::new().remove(record.set_field(), element)),
            Write::Delete { .. } => (Action::Delete, Changes::new()),
        }
    }
}

/// One step of a case.
#[derive(Clone, Debug)]
enum Transition {
    /// The user writes on the phone.
    Write(Write),
    /// The phone runs a round to its end.
    Sync,
    /// The phone runs a round and the app is killed the `nth` time it reaches `step`, then
    /// started again. A round that never gets there runs to its end.
    KillAt { step: &'static str, nth: usize },
    /// The phone's app is killed between two operations, and started again.
    Kill,
    /// The server answers the phone's pushes 503 for one round; the round fails. The app is
    /// then started again: it keeps its backoff in memory, and waiting it out would cost a
    /// second of real time per refusal.
    PushUnavailable,
    /// The laptop runs a round to its end.
    LaptopSync,
    /// The laptop runs a round and is killed the `nth` time it reaches `step`.
    LaptopKillAt { step: &'static str, nth: usize },
}

/// A record as the user should see it.
#[derive(Clone, Debug)]
struct Shown {
    entity: Entity,
    registers: BTreeMap<String, Value>,
    pomodoros: i64,
    set: BTreeSet<String>,
}

impl Shown {
    /// The visible fields, as the client lists them: registers that are set, the counter
    /// (tasks) and the set, even when empty.
    fn visible(&self, record: Rec) -> BTreeMap<String, Value> {
        let mut fields = self.registers.clone();
        fields.insert(record.set_field().to_owned(), Value::from(self.set.iter().cloned().collect::<Vec<_>>()));
        if self.entity == Entity::Task {
            fields.insert("pomodoros".to_owned(), self.pomodoros.into());
        }
        fields
    }
}

/// What the user of the phone should see, and what the model needs to judge the rest.
#[derive(Clone, Debug, Default)]
struct Model {
    /// Live records.
    records: BTreeMap<Rec, Shown>,
    /// Deleted records: gone for good, their ids never used again.
    deleted: BTreeSet<Rec>,
    /// Writes since the phone's last complete round: at most these are unacknowledged.
    unsynced: usize,
    /// The bug planted in both apps (mutant runs only); the model stays the correct one.
    #[cfg(feature = "mutants")]
    bug: Option<reference_client::Bug>,
}

impl Model {
    /// The phone's visible state, as `Replica::visible_state` returns it.
    fn view(&self) -> BTreeMap<(Entity, String), BTreeMap<String, Value>> {
        self.records.iter().map(|(rec, shown)| ((rec.entity, rec.id()), shown.visible(*rec))).collect()
    }

    /// Records ever created: the server keeps each, deleted ones as tombstones.
    fn created(&self) -> usize {
        self.records.len() + self.deleted.len()
    }

    fn is_free(&self, record: Rec) -> bool {
        !self.records.contains_key(&record) && !self.deleted.contains(&record)
    }

    fn live(&self, entity: Entity) -> Vec<Rec> {
        self.records.keys().copied().filter(|r| r.entity == entity).collect()
    }

    fn write(&mut self, write: &Write) {
        self.unsynced += 1;
        let record = write.record();
        if let Write::Create { project, name, .. } = write {
            let registers = match project {
                None => BTreeMap::from([("name".to_owned(), Value::from(*name))]),
                Some(p) => {
                    BTreeMap::from([("project_id".to_owned(), p.id().into()), ("title".to_owned(), (*name).into())])
                }
            };
            let shown = Shown { entity: record.entity, registers, pomodoros: 0, set: BTreeSet::new() };
            self.records.insert(record, shown);
            return;
        }
        if let Write::Delete { .. } = write {
            self.records.remove(&record);
            self.deleted.insert(record);
            return;
        }
        let shown = self.records.get_mut(&record).expect("preconditions: writes go to live records");
        match write {
            Write::Set { field, value: Value::Null, .. } => {
                shown.registers.remove(*field);
            }
            Write::Set { field, value, .. } => {
                shown.registers.insert((*field).to_owned(), value.clone());
            }
            Write::Increment { by, .. } => shown.pomodoros += by,
            Write::Add { element, .. } => {
                shown.set.insert((*element).to_owned());
            }
            Write::Remove { element, .. } => {
                shown.set.remove(*element);
            }
            Write::Create { .. } | Write::Delete { .. } => unreachable!("handled above"),
        }
    }

    /// The writes the user can make now, weighted.
    fn writes(&self) -> Vec<(u32, BoxedStrategy<Write>)> {
        let mut arms = Vec::new();
        let free_projects: Vec<Rec> = Rec::pool().filter(|r| r.entity == Entity::Project && self.is_free(*r)).collect();
        let free_tasks: Vec<Rec> = Rec::pool().filter(|r| r.entity == Entity::Task && self.is_free(*r)).collect();
        let (projects, tasks) = (self.live(Entity::Project), self.live(Entity::Task));
        let live: Vec<Rec> = self.records.keys().copied().collect();
        let names = || select(vec!["one", "two"]);
        if !free_projects.is_empty() {
            let create = (select(free_projects), names());
            arms.push((4, create.prop_map(|(record, name)| Write::Create { record, project: None, name }).boxed()));
        }
        if !free_tasks.is_empty() && !projects.is_empty() {
            let create = (select(free_tasks), select(projects), names());
            let create = create.prop_map(|(record, p, name)| Write::Create { record, project: Some(p), name });
            arms.push((4, create.boxed()));
        }
        if !tasks.is_empty() {
            let increment = (select(tasks), select(vec![1, 2, -1]));
            arms.push((2, increment.prop_map(|(record, by)| Write::Increment { record, by }).boxed()));
        }
        if live.is_empty() {
            return arms;
        }
        let set = select(live.clone()).prop_flat_map(|record| {
            select(record.register_writes()).prop_map(move |(field, value)| Write::Set { record, field, value })
        });
        let elements = || (select(live.clone()), select(vec!["a", "b"]));
        arms.push((4, set.boxed()));
        arms.push((2, elements().prop_map(|(record, element)| Write::Add { record, element }).boxed()));
        arms.push((1, elements().prop_map(|(record, element)| Write::Remove { record, element }).boxed()));
        arms.push((1, select(live.clone()).prop_map(|record| Write::Delete { record }).boxed()));
        arms
    }
}

/// The reference state machine: the model and the transitions it allows.
struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Transition;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(model: &Model) -> BoxedStrategy<Transition> {
        // Push steps are reached only with writes to push.
        let steps = if model.unsynced == 0 { &PHONE_STEPS[..3] } else { &PHONE_STEPS[..] };
        let kill_at =
            (select(steps.to_vec()), select(NTH.to_vec())).prop_map(|(step, nth)| Transition::KillAt { step, nth });
        let laptop_kill_at = (select(PULL_STEPS.to_vec()), select(NTH.to_vec()))
            .prop_map(|(step, nth)| Transition::LaptopKillAt { step, nth });
        let mut arms = vec![
            (2, Just(Transition::Sync).boxed()),
            (3, kill_at.boxed()),
            (1, Just(Transition::Kill).boxed()),
            (1, Just(Transition::PushUnavailable).boxed()),
            (1, Just(Transition::LaptopSync).boxed()),
            (1, laptop_kill_at.boxed()),
        ];
        arms.extend(
            model.writes().into_iter().map(|(weight, write)| (weight, write.prop_map(Transition::Write).boxed())),
        );
        Union::new_weighted(arms).boxed()
    }

    /// Writes go to live records (creates to never-used ids, tasks to a live project):
    /// shrinking may remove the transition that made them valid.
    fn preconditions(model: &Model, transition: &Transition) -> bool {
        let Transition::Write(write) = transition else { return true };
        match write {
            Write::Create { record, project, .. } => {
                model.is_free(*record) && project.is_none_or(|p| model.records.contains_key(&p))
            }
            _ => model.records.contains_key(&write.record()),
        }
    }

    fn apply(mut model: Model, transition: &Transition) -> Model {
        match transition {
            Transition::Write(write) => model.write(write),
            Transition::Sync => model.unsynced = 0,
            _ => {}
        }
        model
    }
}

/// Small pages and batches, so that kills land between them; no retry limit, so that no
/// write fails (the model has no failed writes); the model's bug, in mutant runs.
fn tune(config: &mut ClientConfig, model: &Model) {
    config.page_size = 2;
    config.batch_size = 3;
    config.max_retries = u32::MAX;
    #[cfg(feature = "mutants")]
    {
        config.bug = model.bug;
    }
    #[cfg(not(feature = "mutants"))]
    let _ = model;
}

/// One device: its configuration and, while the app runs, the app.
struct Device {
    config: ClientConfig,
    app: Option<Replica>,
}

impl Device {
    fn started(config: ClientConfig) -> Self {
        let mut device = Device { config, app: None };
        device.start(None);
        device
    }

    fn app(&self) -> &Replica {
        self.app.as_ref().expect("the app runs between transitions")
    }

    fn start(&mut self, hook: Option<Rc<KillAt>>) {
        let config = ClientConfig { hook: hook.map(|h| h as _), ..self.config.clone() };
        let app = Replica::open(config).unwrap_or_else(|e| panic!("{} does not open: {e}", self.config.device));
        self.app = Some(app);
    }

    /// Kills the app (its connection and any round under way go with it) and starts it.
    fn restart(&mut self) {
        self.app = None;
        self.start(None);
    }

    /// Runs one round, killing the app the `nth` time it reaches `step`, then starts it
    /// again. Returns whether the round ran to its end instead (it must then succeed).
    fn round_killed_at(&mut self, runtime: &Runtime, step: &'static str, nth: usize) -> bool {
        self.app = None;
        let hook = KillAt::new(step, nth);
        self.start(Some(hook.clone()));
        let app = self.app();
        let ended = runtime.block_on(async {
            tokio::select! {
                biased;
                () = hook.killed.notified() => None,
                round = app.sync() => Some(round),
            }
        });
        if let Some(Err(e)) = &ended {
            panic!("{}'s round against a healthy server failed: {e}", self.config.device);
        }
        self.restart();
        ended.is_some()
    }
}

/// The system under test: alice's phone and laptop, and their server. Fields drop in
/// order: the apps before the directory holding their files, the runtime last.
struct Devices {
    phone: Device,
    laptop: Device,
    server: TestServer,
    /// The idempotency key of every write, as the phone returned it.
    keys: BTreeSet<String>,
    /// Keys the phone's queue has shown as completed: the server answered them.
    acknowledged: BTreeSet<String>,
    /// Whether the last transition ran a phone round to its end.
    round_ended: bool,
    _dir: TempDir,
    runtime: Runtime,
}

impl Devices {
    fn write(&mut self, write: &Write) {
        let (action, changes) = write.call();
        let record = write.record();
        let entry = self.phone.app().write(record.entity, &record.id(), action, changes);
        let entry = entry.unwrap_or_else(|e| panic!("the phone refused {write:?}, which the model allows: {e}"));
        self.keys.insert(entry.key);
    }

    fn sync_phone(&self) {
        let round = self.runtime.block_on(self.phone.app().sync());
        round.unwrap_or_else(|e| panic!("a round against a healthy server failed: {e}"));
    }

    /// A round whose pushes the server refuses, then a restart. Returns whether the round
    /// ran to its end: it does when there was nothing to push.
    fn push_unavailable(&mut self) -> bool {
        self.server.push_unavailable.store(true, Ordering::SeqCst);
        let round = self.runtime.block_on(self.phone.app().sync());
        self.server.push_unavailable.store(false, Ordering::SeqCst);
        self.phone.restart();
        round.is_ok()
    }

    fn sync_laptop(&self) {
        let laptop = self.laptop.app();
        let round = self.runtime.block_on(laptop.sync());
        round.unwrap_or_else(|e| panic!("the laptop's round against a healthy server failed: {e}"));
        assert_eq!(laptop.visible_state().unwrap(), self.server.visible("alice"), "{READER_SHOWS_THE_SERVER}");
    }

    fn queue(&self) -> Vec<QueueEntry> {
        self.phone.app().queue(None).unwrap()
    }
}

/// The client (real SQLite, real HTTP to a real server) against the model.
struct ClientAgainstModel;

impl StateMachineTest for ClientAgainstModel {
    type SystemUnderTest = Devices;
    type Reference = Reference;

    fn init_test(model: &Model) -> Devices {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let server = runtime.block_on(TestServer::with_users(ServerConfig::default()));
        let dir = TempDir::new().unwrap();
        let (mut phone, mut laptop) = (server.config(&dir, "phone", "a1"), server.config(&dir, "laptop", "a2"));
        tune(&mut phone, model);
        tune(&mut laptop, model);
        Devices {
            phone: Device::started(phone),
            laptop: Device::started(laptop),
            server,
            keys: BTreeSet::new(),
            acknowledged: BTreeSet::new(),
            round_ended: false,
            _dir: dir,
            runtime,
        }
    }

    fn apply(mut sut: Devices, _: &Model, transition: Transition) -> Devices {
        sut.round_ended = match transition {
            Transition::Write(write) => {
                sut.write(&write);
                false
            }
            Transition::Sync => {
                sut.sync_phone();
                true
            }
            Transition::KillAt { step, nth } => sut.phone.round_killed_at(&sut.runtime, step, nth),
            Transition::Kill => {
                sut.phone.restart();
                false
            }
            Transition::PushUnavailable => sut.push_unavailable(),
            Transition::LaptopSync => {
                sut.sync_laptop();
                false
            }
            Transition::LaptopKillAt { step, nth } => {
                sut.laptop.round_killed_at(&sut.runtime, step, nth);
                false
            }
        };
        let completed = sut.queue().into_iter().filter(|e| e.status == QueueStatus::Completed).map(|e| e.key);
        sut.acknowledged.extend(completed);
        sut
    }

    fn check_invariants(sut: &Devices, model: &Model) {
        let view = model.view();
        assert_eq!(sut.phone.app().visible_state().unwrap(), view, "{SHOWS_THE_WRITES}");
        let queue = sut.queue();
        for entry in &queue {
            assert!(sut.keys.contains(&entry.key), "{QUEUED_ONCE}: no write made key {}: {entry:?}", entry.key);
            let settled = matches!(entry.status, QueueStatus::Failed | QueueStatus::Conflict);
            assert!(!settled, "{QUEUED_ONCE}: a single writer meets no conflict and no failure: {entry:?}");
        }
        let open: Vec<&QueueEntry> =
            queue.iter().filter(|e| matches!(e.status, QueueStatus::Pending | QueueStatus::InFlight)).collect();
        for entry in &open {
            let again = sut.acknowledged.contains(&entry.key);
            assert!(!again, "{QUEUED_ONCE}: {} was acknowledged, and is queued again: {entry:?}", entry.key);
        }
        let (n, unsynced) = (open.len(), model.unsynced);
        assert!(n <= unsynced, "{QUEUED_ONCE}: {n} open entries for {unsynced} writes since the last round");
        assert!(!sut.round_ended || open.is_empty(), "{ROUND_DRAINS}: {open:#?}");
        if open.is_empty() {
            assert_eq!(sut.server.visible("alice"), view, "{SERVER_HOLDS_THE_WRITES}");
            let (stored, created) = (sut.server.records("alice").len(), model.created());
            assert_eq!(stored, created, "{SERVER_HOLDS_THE_WRITES}: every record created, deleted ones as tombstones");
        }
    }
}

/// Cases per run: `SYNCSIM_MODEL_CASES=N`, default 64 (a few seconds in a debug build),
/// drawn from seed `SYNCSIM_MODEL_SEED` (default 1), so that CI runs the same cases every
/// time; a longer campaign sets both.
fn config() -> Config {
    let read = |name: &str| std::env::var(name).ok().and_then(|n| n.parse().ok());
    let cases = read("SYNCSIM_MODEL_CASES").map_or(64, |n: u64| n as u32);
    Config { cases, rng_seed: RngSeed::Fixed(read("SYNCSIM_MODEL_SEED").unwrap_or(1)), ..Config::default() }
}

prop_state_machine! {
    #![proptest_config(config())]

    #[test]
    fn the_client_shows_what_the_user_wrote_across_syncs_and_kills(sequential LENGTHS => ClientAgainstModel);
}

/// The same machine against planted bugs: each must be caught, and shrunk to a few steps.
/// Each hunt draws its cases from a fixed RNG, so CI always needs the same ones.
#[cfg(feature = "mutants")]
mod mutants {
    use super::*;
    use proptest::test_runner::{TestError, TestRng, TestRunner};
    use proptest_state_machine::Sequential;
    use reference_client::Bug;

    /// Runs the machine with `bug` planted in both apps until a case fails; returns the
    /// failure's message and the shrunk transitions.
    fn hunt(bug: Bug) -> (String, Vec<Transition>) {
        let config = Config { cases: 256, failure_persistence: None, ..Config::default() };
        let mut runner = TestRunner::new_with_rng(config.clone(), TestRng::deterministic_rng(config.rng_algorithm));
        let planted = move || Just(Model { bug: Some(bug), ..Model::default() }).boxed();
        let strategy = Sequential::new(
            LENGTHS.into(),
            planted,
            Reference::preconditions,
            Reference::transitions,
            Reference::apply,
        );
        let result = runner.run(&strategy, |(model, transitions, seen)| {
            ClientAgainstModel::test_sequential(config.clone(), model, transitions, seen);
            Ok(())
        });
        let Err(TestError::Fail(why, (_, shrunk, _))) = result else {
            panic!("{} cases did not catch {bug:?}: {result:?}", config.cases);
        };
        eprintln!("{bug:?} caught, shrunk to {} transitions: {shrunk:#?}\n{}", shrunk.len(), why.message());
        (why.message().to_owned(), shrunk)
    }

    #[test]
    fn a_client_that_dequeues_before_the_ack_loses_a_write_killed_mid_push() {
        let (why, shrunk) = hunt(Bug::DequeueBeforeAck);
        assert!(why.contains(SERVER_HOLDS_THE_WRITES), "{why}");
        assert!(shrunk.len() <= 3, "a write and a kill during its push: {shrunk:#?}");
    }

    #[test]
    fn a_client_that_saves_the_cursor_before_the_page_skips_records_on_a_killed_reader() {
        let (why, shrunk) = hunt(Bug::CursorSavedBeforePage);
        assert!(why.contains(READER_SHOWS_THE_SERVER), "{why}");
        assert!(shrunk.len() <= 4, "a write, a round, a reader killed mid-pull and its next round: {shrunk:#?}");
    }

    #[test]
    fn a_client_whose_pull_overwrites_pending_edits_hides_a_write() {
        let (why, shrunk) = hunt(Bug::PullOverwritesPendingEdits);
        assert!(why.contains(SHOWS_THE_WRITES), "{why}");
        assert!(shrunk.len() <= 4, "{shrunk:#?}");
    }
}
