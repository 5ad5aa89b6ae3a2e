//! How schema 7 stores records and queue entries: packed binary rows.
//!
//! Up to schema 6 the rows are JSON text under random text keys (see [`crate::stored`]):
//! field names, 36-character ids and mutation keys repeated in every row, a table filled in
//! random-id order. From schema 7 the records live in `local_records` and the queue in
//! `mutations`:
//! - a record id or a mutation key is 16 bytes when it is a UUID in its canonical
//!   lower-case form, its text otherwise ([`key`], [`key_text`]);
//! - entities, actions, queue and sync statuses are small integers (their `code`s, fixed
//!   for good: they are on disk);
//! - values are MessagePack; a declared field is named by its position in its entity's
//!   declaration ([`FieldKey`]), so a field name is one byte, and a string value that is a
//!   UUID (a reference) is its 16 bytes ([`FieldValue`]);
//! - `local_records.fields` holds what the user sees (registers as they are, counters as
//!   numbers, sets as arrays) and nothing else: a query reads that column only, with a
//!   reader of its own ([`Reader`]);
//! - `local_records.crdt` holds the rest of the state ([`Crdt`]): version and times (as
//!   offsets), a table of the row's words (the mutation keys that tag its set elements and
//!   count its increments, and the replicas that wrote it, each once), the write stamps
//!   grouped by mutation, the counters and the sets, naming words by their index; and the
//!   registers `fields` does not show;
//! - `local_records.server` is NULL while the server's copy equals the state (as from
//!   schema 6), else the copy as `[deleted, crdt]`, every register in the crdt;
//! - a queue entry's `body` is format 3 ([`encode_payload`]); entries of formats 1 and 2
//!   keep their JSON text.
//!
//! Both tables fill in insertion order (an integer row id), and what looks records up by id
//! is an index of its own.

use crate::error::{Error, Result};
use crate::queue::{Payload, QueueStatus};
use crate::status::SyncStatus;
use crate::stored::{self, shown_register};
use protocol::{Action, Changes, Entity, FieldStamp, Hlc, OrSet, PnCounter, Record};
use rmp::Marker;
use rusqlite::types::{Value as SqlValue, ValueRef};
use rusqlite::{params, Connection};
use serde::de::{self, DeserializeSeed, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use uuid::Uuid;

/// The first schema version whose rows are packed.
pub(crate) const PACKED_SINCE: u32 = 7;

/// The error of a stored value that does not read back as what it should be.
fn unreadable(what: &'static str, why: impl fmt::Display) -> Error {
    Error::Corrupt { what, source: de::Error::custom(why) }
}

/// How `id` (a record id or a mutation key) is stored: the 16 bytes of a UUID written in
/// canonical lower-case form, else the text as it is (so that it reads back the same).
pub(crate) fn key(id: &str) -> SqlValue {
    match Uuid::try_parse(id) {
        Ok(uuid) if uuid.hyphenated().encode_lower(&mut Uuid::encode_buffer()) == id => {
            SqlValue::Blob(uuid.as_bytes().to_vec())
        }
        _ => SqlValue::Text(id.to_owned()),
    }
}

/// The text of a UUID's 16 bytes, in canonical lower-case form.
fn uuid_text(bytes: &[u8]) -> Result<String, uuid::Error> {
    Ok(Uuid::from_slice(bytes)?.hyphenated().encode_lower(&mut Uuid::encode_buffer()).to_owned())
}

/// The id or key a stored [`key`] stands for.
pub(crate) fn key_text(stored: ValueRef<'_>) -> Result<String> {
    match stored {
        ValueRef::Text(text) => std::str::from_utf8(text).map(str::to_owned).map_err(|e| unreadable("key", e)),
        ValueRef::Blob(bytes) => uuid_text(bytes).map_err(|e| unreadable("key", e)),
        other => Err(unreadable("key", format!("a {:?} is not a key", other.data_type()))),
    }
}

/// An entity's code on disk.
pub(crate) fn entity_code(entity: Entity) -> i64 {
    match entity {
        Entity::Project => 0,
        Entity::Task => 1,
    }
}

/// The entity of a stored code.
pub(crate) fn entity_of(code: i64) -> Result<Entity> {
    Entity::ALL
        .into_iter()
        .find(|e| entity_code(*e) == code)
        .ok_or_else(|| unreadable("entity", format!("code {code}")))
}

/// An action's code on disk.
pub(crate) fn action_code(action: Action) -> i64 {
    match action {
        Action::Create => 0,
        Action::Update => 1,
        Action::Delete => 2,
    }
}

/// The action of a stored code.
pub(crate) fn action_of(code: i64) -> Result<Action> {
    [Action::Create, Action::Update, Action::Delete]
        .into_iter()
        .find(|a| action_code(*a) == code)
        .ok_or_else(|| unreadable("action", format!("code {code}")))
}

/// A field as stored: its position among its entity's declared fields, or its name when it
/// is not declared (a record from a newer protocol, or one that does not validate).
#[derive(Clone, Debug, PartialEq, Eq)]
enum FieldKey {
    Code(u8),
    Name(String),
}

impl FieldKey {
    fn of(entity: Entity, name: &str) -> FieldKey {
        match entity.fields().iter().position(|f| f.name == name) {
            // A positive fixint: one byte, and what `Reader` reads.
            Some(i) if i < 128 => FieldKey::Code(i as u8),
            _ => FieldKey::Name(name.to_owned()),
        }
    }

    fn name(self, entity: Entity) -> Result<String, String> {
        match self {
            FieldKey::Code(i) => entity
                .fields()
                .get(usize::from(i))
                .map(|f| f.name.to_owned())
                .ok_or_else(|| format!("{entity} has no field number {i}")),
            FieldKey::Name(name) => Ok(name),
        }
    }
}

impl Serialize for FieldKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldKey::Code(i) => s.serialize_u8(*i),
            FieldKey::Name(name) => s.serialize_str(name),
        }
    }
}

impl<'de> Deserialize<'de> for FieldKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = FieldKey;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field number or name")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<FieldKey, E> {
                u8::try_from(v).map(FieldKey::Code).map_err(|_| E::custom(format!("field number {v}")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FieldKey, E> {
                Ok(FieldKey::Name(v.to_owned()))
            }
        }
        d.deserialize_any(KeyVisitor)
    }
}

/// A row's word: a mutation key (16 bytes when it is a UUID) or a replica's name.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Word(String);

impl Serialize for Word {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match key(&self.0) {
            SqlValue::Blob(bytes) => s.serialize_bytes(&bytes),
            _ => s.serialize_str(&self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Word {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct WordVisitor;
        impl Visitor<'_> for WordVisitor {
            type Value = Word;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key or a name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Word, E> {
                Ok(Word(v.to_owned()))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Word, E> {
                uuid_text(v).map(Word).map_err(E::custom)
            }
        }
        d.deserialize_any(WordVisitor)
    }
}

/// Fields and their values, as a MessagePack map keyed by [`FieldKey`].
struct FieldsOut<'r> {
    entity: Entity,
    fields: Vec<(&'r str, &'r Value)>,
}

impl Serialize for FieldsOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.fields.len()))?;
        for (name, value) in &self.fields {
            map.serialize_entry(&FieldKey::of(self.entity, name), &FieldValue(value))?;
        }
        map.end()
    }
}

/// A field's value: a string that is a UUID in canonical form (a reference) as its 16
/// bytes, anything else as MessagePack's own value.
struct FieldValue<'v>(&'v Value);

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::String(text) => match key(text) {
                SqlValue::Blob(bytes) => s.serialize_bytes(&bytes),
                _ => s.serialize_str(text),
            },
            other => other.serialize(s),
        }
    }
}

/// Reads the MessagePack of a [`FieldsOut`] map. Hand-written rather than through serde: it
/// runs for every row a query returns, and serde's self-describing path costs about twice
/// as much per value.
struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> Result<&'b [u8], String> {
        if self.0.len() < n {
            return Err("cut short".to_owned());
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], String> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn marker(&mut self) -> Result<Marker, String> {
        Ok(Marker::from_u8(self.take(1)?[0]))
    }

    fn len(&mut self, bytes: usize) -> Result<usize, String> {
        Ok(match bytes {
            1 => usize::from(self.be::<1>()?[0]),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    fn text(&mut self, len: usize) -> Result<String, String> {
        std::str::from_utf8(self.take(len)?).map(str::to_owned).map_err(|e| e.to_string())
    }

    /// The length of the string that `marker` starts, if it starts one.
    fn text_len(&mut self, marker: Marker) -> Result<Option<usize>, String> {
        Ok(Some(match marker {
            Marker::FixStr(n) => usize::from(n),
            Marker::Str8 => self.len(1)?,
            Marker::Str16 => self.len(2)?,
            Marker::Str32 => self.len(4)?,
            _ => return Ok(None),
        }))
    }

    /// The length of the map that `marker` starts, if it starts one.
    fn map_len(&mut self, marker: Marker) -> Result<Option<usize>, String> {
        Ok(Some(match marker {
            Marker::FixMap(n) => usize::from(n),
            Marker::Map16 => self.len(2)?,
            Marker::Map32 => self.len(4)?,
            _ => return Ok(None),
        }))
    }

    /// A value; `top` says whether a field holds it directly (where 16 bytes are a UUID).
    fn value(&mut self, top: bool) -> Result<Value, String> {
        let marker = self.marker()?;
        if let Some(len) = self.text_len(marker)? {
            return self.text(len).map(Value::String);
        }
        if let Some(len) = self.map_len(marker)? {
            let mut object = serde_json::Map::new();
            for _ in 0..len {
                let marker = self.marker()?;
                let key = match self.text_len(marker)? {
                    Some(len) => self.text(len)?,
                    None => return Err(format!("a map key is a {marker:?}")),
                };
                object.insert(key, self.value(false)?);
            }
            return Ok(Value::Object(object));
        }
        let array = |r: &mut Self, len: usize| -> Result<Value, String> {
            (0..len).map(|_| r.value(false)).collect::<Result<_, _>>().map(Value::Array)
        };
        Ok(match marker {
            Marker::Null => Value::Null,
            Marker::True => Value::Bool(true),
            Marker::False => Value::Bool(false),
            Marker::FixPos(n) => Value::from(n),
            Marker::FixNeg(n) => Value::from(n),
            Marker::U8 => Value::from(self.be::<1>()?[0]),
            Marker::U16 => Value::from(u16::from_be_bytes(self.be()?)),
            Marker::U32 => Value::from(u32::from_be_bytes(self.be()?)),
            Marker::U64 => Value::from(u64::from_be_bytes(self.be()?)),
            Marker::I8 => Value::from(i8::from_be_bytes(self.be()?)),
            Marker::I16 => Value::from(i16::from_be_bytes(self.be()?)),
            Marker::I32 => Value::from(i32::from_be_bytes(self.be()?)),
            Marker::I64 => Value::from(i64::from_be_bytes(self.be()?)),
            Marker::F32 => Value::from(f32::from_be_bytes(self.be()?)),
            Marker::F64 => Value::from(f64::from_be_bytes(self.be()?)),
            Marker::FixArray(n) => array(self, usize::from(n))?,
            Marker::Array16 => {
                let len = self.len(2)?;
                array(self, len)?
            }
            Marker::Array32 => {
                let len = self.len(4)?;
                array(self, len)?
            }
            Marker::Bin8 if top => {
                let len = self.len(1)?;
                Value::String(uuid_text(self.take(len)?).map_err(|e| e.to_string())?)
            }
            other => return Err(format!("a value starts with {other:?}")),
        })
    }

    /// A [`FieldsOut`] map of `entity`'s fields.
    fn fields(&mut self, entity: Entity) -> Result<BTreeMap<String, Value>, String> {
        let marker = self.marker()?;
        let len = self.map_len(marker)?.ok_or_else(|| format!("fields start with {marker:?}"))?;
        let mut fields = BTreeMap::new();
        for _ in 0..len {
            let name = match self.marker()? {
                Marker::FixPos(code) => FieldKey::Code(code).name(entity)?,
                other => match self.text_len(other)? {
                    Some(len) => self.text(len)?,
                    None => return Err(format!("a field is named by a {other:?}")),
                },
            };
            fields.insert(name, self.value(true)?);
        }
        if !self.0.is_empty() {
            return Err(format!("{} bytes after the fields", self.0.len()));
        }
        Ok(fields)
    }
}

fn pack(value: &impl Serialize) -> Vec<u8> {
    rmp_serde::to_vec(value).expect("stored values serialize")
}

/// The `fields` column of a record: its visible fields.
pub(crate) fn encode_fields(entity: Entity, visible: &BTreeMap<String, Value>) -> Vec<u8> {
    pack(&FieldsOut { entity, fields: visible.iter().map(|(k, v)| (k.as_str(), v)).collect() })
}

/// The visible fields of a `fields` column.
pub(crate) fn decode_fields(entity: Entity, bytes: &[u8]) -> Result<BTreeMap<String, Value>> {
    Reader(bytes).fields(entity).map_err(|e| unreadable("visible fields", e))
}

/// Fields packed on their own inside another value (as MessagePack `bin`), so that they are
/// read by the one [`Reader`].
struct Nested<'r>(Entity, &'r BTreeMap<String, Value>);

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&encode_fields(self.0, self.1))
    }
}

/// Reads [`Nested`] fields back.
fn nested<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    entity: Entity,
    what: &'static str,
) -> Result<BTreeMap<String, Value>, A::Error> {
    let bytes: serde_bytes::ByteBuf =
        seq.next_element()?.ok_or_else(|| de::Error::custom(format!("{what} is cut short")))?;
    Reader(&bytes).fields(entity).map_err(de::Error::custom)
}

/// A write stamp shared by some fields: `(version, wall_ms, counter, node word, fields)`,
/// `wall_ms` as an offset from the record's `updated_at_ms`.
#[derive(Serialize, Deserialize)]
struct Stamp(u64, i64, u32, usize, Vec<FieldKey>);

/// One replica's part of a counter: `(replica word, increments, decrements, last key word)`.
#[derive(Serialize, Deserialize)]
struct Part(usize, u64, u64, Option<usize>);

/// A set: `(field, [(element, [tag word, ...]), ...], [tag word removed from every element,
/// ...], [(element, [removed tag word, ...]), ...])`. Sets stored before protocol 3 have no
/// fourth part (nor does a set with no removal per element): their removed tags read as
/// removed from every element, as they were.
#[derive(Serialize, Deserialize)]
struct Set(
    FieldKey,
    Vec<(String, Vec<usize>)>,
    Vec<usize>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")] Vec<(String, Vec<usize>)>,
);

/// The `crdt` column: `(version, updated_at_ms, created_at_ms, words, stamps, counters,
/// sets, registers)`; `created_at_ms` as an offset from `updated_at_ms` (times near each
/// other take a byte or two, where a time takes nine); `registers` holds the register
/// values `fields` does not carry.
#[derive(Serialize)]
struct Crdt<'r>(u64, i64, i64, Vec<Word>, Vec<Stamp>, Vec<(FieldKey, Vec<Part>)>, Vec<Set>, Nested<'r>);

/// The words of a row, each once, by first use.
#[derive(Default)]
struct Words(Vec<Word>);

impl Words {
    fn of(&mut self, word: &str) -> usize {
        match self.0.iter().position(|w| w.0 == word) {
            Some(i) => i,
            None => {
                self.0.push(Word(word.to_owned()));
                self.0.len() - 1
            }
        }
    }

    fn get(&self, i: usize) -> Result<String> {
        self.0.get(i).map(|w| w.0.clone()).ok_or_else(|| unreadable("record state", format!("no word {i}")))
    }
}

/// The `crdt` column of `record`, with `registers` as its register values.
fn encode_crdt<'r>(record: &Record, registers: &'r BTreeMap<String, Value>) -> Crdt<'r> {
    let entity = record.entity;
    let mut words = Words::default();
    let mut stamps: Vec<Stamp> = Vec::new();
    for (field, FieldStamp { version, hlc }) in &record.stamps {
        let node = words.of(&hlc.node);
        let field = FieldKey::of(entity, field);
        let wall = hlc.wall_ms.wrapping_sub(record.updated_at_ms);
        match stamps.iter_mut().find(|s| (s.0, s.1, s.2, s.3) == (*version, wall, hlc.counter, node)) {
            Some(stamp) => stamp.4.push(field),
            None => stamps.push(Stamp(*version, wall, hlc.counter, node, vec![field])),
        }
    }
    let counters = record
        .counters
        .iter()
        .map(|(field, counter)| {
            let replicas: BTreeSet<&String> =
                counter.p.keys().chain(counter.n.keys()).chain(counter.last.keys()).collect();
            let parts = replicas
                .into_iter()
                .map(|replica| {
                    let last = counter.last.get(replica).map(|k| words.of(k));
                    let (p, n) =
                        (counter.p.get(replica).copied().unwrap_or(0), counter.n.get(replica).copied().unwrap_or(0));
                    Part(words.of(replica), p, n, last)
                })
                .collect();
            (FieldKey::of(entity, field), parts)
        })
        .collect();
    let sets = record
        .sets
        .iter()
        .map(|(field, set)| {
            let adds = set
                .adds
                .iter()
                .map(|(element, tags)| (element.clone(), tags.iter().map(|t| words.of(t)).collect()))
                .collect();
            let mut per_element = Vec::new();
            let mut everywhere = Vec::new();
            for (element, tags) in &set.removed {
                let tags = tags.iter().map(|t| words.of(t)).collect();
                match element.as_str() {
                    protocol::EVERY_ELEMENT => everywhere = tags,
                    _ => per_element.push((element.clone(), tags)),
                }
            }
            Set(FieldKey::of(entity, field), adds, everywhere, per_element)
        })
        .collect();
    Crdt(
        record.version,
        record.updated_at_ms,
        record.created_at_ms.wrapping_sub(record.updated_at_ms),
        words.0,
        stamps,
        counters,
        sets,
        Nested(entity, registers),
    )
}

/// Reads a [`Crdt`] with the entity that names its fields.
struct CrdtIn(Entity);

/// A record's state read from a `crdt` column, without its entity, id, deletion flag and
/// the registers `fields` shows.
struct Decoded {
    version: u64,
    created_at_ms: i64,
    updated_at_ms: i64,
    registers: BTreeMap<String, Value>,
    stamps: BTreeMap<String, FieldStamp>,
    counters: BTreeMap<String, PnCounter>,
    sets: BTreeMap<String, OrSet>,
}

impl<'de> DeserializeSeed<'de> for CrdtIn {
    type Value = Decoded;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Decoded, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CrdtIn {
    type Value = Decoded;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a record's state")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Decoded, A::Error> {
        let entity = self.0;
        let missing = || de::Error::custom("a record's state is cut short");
        let version: u64 = seq.next_element()?.ok_or_else(missing)?;
        let updated_at_ms: i64 = seq.next_element()?.ok_or_else(missing)?;
        let created_at_ms = updated_at_ms.wrapping_add(seq.next_element::<i64>()?.ok_or_else(missing)?);
        let words = Words(seq.next_element::<Vec<Word>>()?.ok_or_else(missing)?);
        let raw_stamps: Vec<Stamp> = seq.next_element()?.ok_or_else(missing)?;
        let raw_counters: Vec<(FieldKey, Vec<Part>)> = seq.next_element()?.ok_or_else(missing)?;
        let raw_sets: Vec<Set> = seq.next_element()?.ok_or_else(missing)?;
        let registers = nested(&mut seq, entity, "a record's state")?;
        let word = |i: usize| words.get(i).map_err(de::Error::custom);
        let name = |key: FieldKey| key.name(entity).map_err(de::Error::custom);
        let mut stamps = BTreeMap::new();
        for Stamp(version, wall_ms, counter, node, fields) in raw_stamps {
            let wall_ms = updated_at_ms.wrapping_add(wall_ms);
            let stamp = FieldStamp { version, hlc: Hlc { wall_ms, counter, node: word(node)? } };
            for field in fields {
                stamps.insert(name(field)?, stamp.clone());
            }
        }
        let mut counters = BTreeMap::new();
        for (field, parts) in raw_counters {
            let mut counter = PnCounter::default();
            for Part(replica, p, n, last) in parts {
                let replica = word(replica)?;
                if p > 0 {
                    counter.p.insert(replica.clone(), p);
                }
                if n > 0 {
                    counter.n.insert(replica.clone(), n);
                }
                if let Some(last) = last {
                    counter.last.insert(replica, word(last)?);
                }
            }
            counters.insert(name(field)?, counter);
        }
        let mut sets = BTreeMap::new();
        for Set(field, adds, everywhere, per_element) in raw_sets {
            let mut set = OrSet::default();
            for (element, tags) in adds {
                set.adds.insert(element, tags.into_iter().map(word).collect::<Result<_, _>>()?);
            }
            let everywhere = (!everywhere.is_empty()).then(|| (protocol::EVERY_ELEMENT.to_owned(), everywhere));
            for (element, tags) in per_element.into_iter().chain(everywhere) {
                set.removed.insert(element, tags.into_iter().map(word).collect::<Result<_, _>>()?);
            }
            sets.insert(name(field)?, set);
        }
        Ok(Decoded { version, created_at_ms, updated_at_ms, registers, stamps, counters, sets })
    }
}

fn decode_crdt(entity: Entity, bytes: &[u8]) -> Result<Decoded> {
    let mut d = rmp_serde::Deserializer::from_read_ref(bytes);
    CrdtIn(entity).deserialize(&mut d).map_err(|e| unreadable("record state", e))
}

/// The `fields` and `crdt` columns of a record's local state.
pub(crate) fn encode_state(state: &Record) -> (Vec<u8>, Vec<u8>) {
    let hidden = state.fields.iter().filter(|(name, _)| !shown_register(state.entity, name));
    let registers = hidden.map(|(name, value)| (name.clone(), value.clone())).collect();
    (encode_fields(state.entity, &state.visible()), pack(&encode_crdt(state, &registers)))
}

/// The record a row holds: its `fields` and `crdt` columns, with its entity, id and
/// deletion flag.
pub(crate) fn decode_state(entity: Entity, id: &str, deleted: bool, fields: &[u8], crdt: &[u8]) -> Result<Record> {
    let visible = decode_fields(entity, fields)?;
    let mut state = decode_crdt(entity, crdt)?;
    let mut registers: BTreeMap<String, Value> =
        visible.into_iter().filter(|(name, _)| shown_register(entity, name)).collect();
    registers.append(&mut state.registers);
    Ok(record(entity, id, deleted, registers, state))
}

fn record(entity: Entity, id: &str, deleted: bool, fields: BTreeMap<String, Value>, state: Decoded) -> Record {
    Record {
        entity,
        id: id.to_owned(),
        version: state.version,
        deleted,
        fields,
        counters: state.counters,
        sets: state.sets,
        stamps: state.stamps,
        created_at_ms: state.created_at_ms,
        updated_at_ms: state.updated_at_ms,
    }
}

/// The `server` column of a row whose local state is `state`: NULL when the server never
/// had the record or its copy equals the state, else `[deleted, crdt]` with every register
/// in the crdt.
pub(crate) fn encode_server(server: Option<&Record>, state: &Record) -> Option<Vec<u8>> {
    let server = server.filter(|s| *s != state)?;
    Some(pack(&(server.deleted, encode_crdt(server, &server.fields))))
}

/// The server's copy of a row's record: the `server` column when it holds one, else the
/// local state when the server has the record (`version` above 0).
pub(crate) fn decode_server(server: Option<&[u8]>, version: u64, state: &Record) -> Result<Option<Record>> {
    let Some(bytes) = server else {
        return Ok((version > 0).then(|| state.clone()));
    };
    struct ServerIn(Entity);
    impl<'de> Visitor<'de> for ServerIn {
        type Value = (bool, Decoded);
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("the server's copy")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let missing = || de::Error::custom("the server's copy is cut short");
            let deleted = seq.next_element()?.ok_or_else(missing)?;
            let state = seq.next_element_seed(CrdtIn(self.0))?.ok_or_else(missing)?;
            Ok((deleted, state))
        }
    }
    let mut d = rmp_serde::Deserializer::from_read_ref(bytes);
    let (deleted, mut decoded) =
        d.deserialize_seq(ServerIn(state.entity)).map_err(|e| unreadable("server record", e))?;
    let registers = std::mem::take(&mut decoded.registers);
    Ok(Some(record(state.entity, &state.id, deleted, registers, decoded)))
}

/// Changes as stored in format 3: `(registers, increments, adds, removes)`.
struct ChangesOut<'c>(Entity, &'c Changes);

impl Serialize for ChangesOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let ChangesOut(entity, c) = *self;
        let named = |name: &String| FieldKey::of(entity, name);
        let increments: Vec<_> = c.increments.iter().map(|(f, d)| (named(f), d)).collect();
        let adds: Vec<_> = c.set_add.iter().map(|(f, e)| (named(f), e)).collect();
        let removes: Vec<_> = c.set_remove.iter().map(|(f, e)| (named(f), e)).collect();
        let mut seq = s.serialize_seq(Some(4))?;
        seq.serialize_element(&Nested(entity, &c.fields))?;
        seq.serialize_element(&increments)?;
        seq.serialize_element(&adds)?;
        seq.serialize_element(&removes)?;
        seq.end()
    }
}

/// Reads [`ChangesOut`] back.
struct ChangesIn(Entity);

impl<'de> DeserializeSeed<'de> for ChangesIn {
    type Value = Changes;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Changes, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChangesIn {
    type Value = Changes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mutation's changes")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Changes, A::Error> {
        let entity = self.0;
        let missing = || de::Error::custom("a mutation's changes are cut short");
        let fields = nested(&mut seq, entity, "a mutation's changes")?;
        let increments: Vec<(FieldKey, i64)> = seq.next_element()?.ok_or_else(missing)?;
        let adds: Vec<(FieldKey, BTreeSet<String>)> = seq.next_element()?.ok_or_else(missing)?;
        type Removes = Vec<(FieldKey, BTreeMap<String, BTreeSet<String>>)>;
        let removes: Removes = seq.next_element()?.ok_or_else(missing)?;
        fn named<T, E: de::Error>(entity: Entity, pairs: Vec<(FieldKey, T)>) -> Result<BTreeMap<String, T>, E> {
            pairs.into_iter().map(|(k, v)| Ok((k.name(entity).map_err(E::custom)?, v))).collect()
        }
        Ok(Changes {
            fields,
            increments: named(entity, increments)?,
            set_add: named(entity, adds)?,
            set_remove: named(entity, removes)?,
        })
    }
}

/// A queue entry's `body` in format 3: `(changes, wall_ms, counter, node, client_time_ms)`,
/// `client_time_ms` as an offset from `wall_ms`.
pub(crate) fn encode_payload(entity: Entity, payload: &Payload) -> Vec<u8> {
    let Payload { changes, hlc, client_time_ms } = payload;
    let client_time = client_time_ms.wrapping_sub(hlc.wall_ms);
    pack(&(ChangesOut(entity, changes), hlc.wall_ms, hlc.counter, &hlc.node, client_time))
}

/// Reads a format-3 `body`.
pub(crate) fn decode_payload(entity: Entity, bytes: &[u8]) -> Result<Payload> {
    struct PayloadIn(Entity);
    impl<'de> Visitor<'de> for PayloadIn {
        type Value = Payload;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a queue entry's body")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Payload, A::Error> {
            let missing = || de::Error::custom("a queue entry's body is cut short");
            let changes = seq.next_element_seed(ChangesIn(self.0))?.ok_or_else(missing)?;
            let wall_ms: i64 = seq.next_element()?.ok_or_else(missing)?;
            let counter = seq.next_element()?.ok_or_else(missing)?;
            let node = seq.next_element()?.ok_or_else(missing)?;
            let client_time_ms = wall_ms.wrapping_add(seq.next_element::<i64>()?.ok_or_else(missing)?);
            Ok(Payload { changes, hlc: Hlc { wall_ms, counter, node }, client_time_ms })
        }
    }
    let mut d = rmp_serde::Deserializer::from_read_ref(bytes);
    d.deserialize_seq(PayloadIn(entity)).map_err(|e| unreadable("queue payload", e))
}

/// Moves the rows of `records` (schemas 1 to 6) into `local_records`, packed, skipping the
/// rows already there. The most recently changed go last, as they would have been written.
pub(crate) fn move_records(conn: &Connection) -> Result<()> {
    let mut read = conn.prepare(
        "SELECT entity, id, visible, state, server, version, deleted, sync_status, updated_at_ms
         FROM records ORDER BY updated_at_ms, entity, id",
    )?;
    let mut write = conn.prepare(
        "INSERT OR IGNORE INTO local_records (entity, id, fields, crdt, server, version, deleted, sync_status, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut rows = read.query([])?;
    while let Some(r) = rows.next()? {
        let (entity, id): (String, String) = (r.get(0)?, r.get(1)?);
        let entity = Entity::parse(&entity).ok_or_else(|| unreadable("entity name", &entity))?;
        let (visible, state, server): (String, String, Option<String>) = (r.get(2)?, r.get(3)?, r.get(4)?);
        let (version, deleted, status, updated_at_ms): (i64, bool, String, i64) =
            (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?);
        let state = stored::decode_state(entity, &id, deleted, &visible, &state)?;
        let server = stored::decode_server(server.as_deref(), version as u64, &state)?;
        let (fields, crdt) = encode_state(&state);
        write.execute(params![
            entity_code(entity),
            key(&id),
            fields,
            crdt,
            encode_server(server.as_ref(), &state),
            version,
            deleted,
            SyncStatus::parse(&status).code(),
            updated_at_ms,
        ])?;
    }
    Ok(())
}

/// Moves the entries of `queue` (schemas 5 and 6) into `mutations`, skipping the entries
/// already there. Each keeps its position and its body as written, in the format that wrote
/// it; the positions of entries already dropped are not handed out again.
pub(crate) fn move_queue(conn: &Connection) -> Result<()> {
    let mut read = conn.prepare(
        "SELECT seq, key, entity, record_id, action, base_version, after_key, body, status, retries, last_error,
         created_at_ms, format_version FROM queue ORDER BY seq",
    )?;
    let mut write = conn.prepare(
        "INSERT OR IGNORE INTO mutations (seq, key, entity, record_id, action, base_version, after_key, body, status,
         retries, last_error, created_at_ms, format_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    )?;
    let mut rows = read.query([])?;
    while let Some(r) = rows.next()? {
        let (entity, action, status): (String, String, String) = (r.get(2)?, r.get(4)?, r.get(8)?);
        let entity = Entity::parse(&entity).ok_or_else(|| unreadable("entity name", &entity))?;
        let action = Action::parse(&action).ok_or_else(|| unreadable("action", &action))?;
        let (key_, record_id, after): (String, String, Option<String>) = (r.get(1)?, r.get(3)?, r.get(6)?);
        write.execute(params![
            r.get::<_, i64>(0)?,
            key(&key_),
            entity_code(entity),
            key(&record_id),
            action_code(action),
            r.get::<_, i64>(5)?,
            after.as_deref().map(key),
            r.get::<_, String>(7)?,
            QueueStatus::parse(&status).code(),
            r.get::<_, i64>(9)?,
            r.get::<_, Option<String>>(10)?,
            r.get::<_, i64>(11)?,
            r.get::<_, i64>(12)?,
        ])?;
    }
    conn.execute(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'mutations', seq FROM sqlite_sequence WHERE name = 'queue'
         AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'mutations')",
        [],
    )?;
    conn.execute(
        "UPDATE sqlite_sequence SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'queue'), 0))
         WHERE name = 'mutations'",
        [],
    )?;
    Ok(())
}

/// Rewrites the ids of `resync_seen` (the records a re-sync under way has pulled) as
/// [`key`]s, like the ids of `local_records` they are compared with.
pub(crate) fn rewrite_resync_seen(conn: &Connection) -> Result<()> {
    let mut stmt = conn.prepare("SELECT entity, id FROM resync_seen WHERE typeof(id) = 'text'")?;
    let seen = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for (entity, id) in seen.collect::<rusqlite::Result<Vec<_>>>()? {
        let stored @ SqlValue::Blob(_) = key(&id) else { continue };
        conn.execute("DELETE FROM resync_seen WHERE entity = ?1 AND id = ?2", params![entity, id])?;
        conn.execute("INSERT OR IGNORE INTO resync_seen (entity, id) VALUES (?1, ?2)", params![entity, stored])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn task() -> Record {
        let mut record = Record::empty(Entity::Task, "0b3a9b52-6a47-4a7e-9a59-58d1ec9b5c7e");
        record.version = 9;
        record.created_at_ms = 100;
        record.updated_at_ms = 200;
        let key = "15a42bf7-aa43-4e87-99d5-76a270eb6d08";
        let stamp =
            |version, node: &str| FieldStamp { version, hlc: Hlc { wall_ms: 150, counter: 2, node: node.into() } };
        for (name, value, stamp) in [
            ("title", json!("Dig"), stamp(9, "phone")),
            ("notes", json!("deep"), stamp(9, "phone")),
            ("done", json!(true), stamp(4, "tablet")),
            ("project_id", json!("7c9e6679-7425-40de-944b-e07fc1f90ae7"), stamp(4, "tablet")),
            ("not_declared", json!({"a": [1, 2.5, null]}), stamp(4, "tablet")),
        ] {
            record.fields.insert(name.into(), value);
            record.stamps.insert(name.into(), stamp);
        }
        let pomodoros = record.counters.entry("pomodoros".into()).or_default();
        pomodoros.increment("phone", 3);
        pomodoros.increment("tablet", -1);
        pomodoros.last.insert("phone".into(), key.into());
        let labels = record.sets.entry("labels".into()).or_default();
        labels.add("home", key);
        labels.add("work", "a-key-that-is-no-uuid");
        labels.remove("errands", &["0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9".to_owned()].into());
        record
    }

    fn round_trip(record: &Record) -> Record {
        let (fields, crdt) = encode_state(record);
        decode_state(record.entity, &record.id, record.deleted, &fields, &crdt).unwrap()
    }

    #[test]
    fn a_record_reads_back_equal() {
        let mut record = task();
        assert_eq!(round_trip(&record), record);
        record.created_at_ms = i64::MIN;
        record.stamps.get_mut("title").unwrap().hlc.wall_ms = i64::MAX;
        assert_eq!(round_trip(&record), record, "times far apart");
        record.deleted = true;
        record.fields.clear();
        assert_eq!(round_trip(&record), record);
        assert_eq!(round_trip(&Record::empty(Entity::Project, "p")), Record::empty(Entity::Project, "p"));
        record.sets.values_mut().for_each(protocol::OrSet::cancel_everywhere);
        assert_eq!(round_trip(&record), record, "tags removed from every element (protocol 2)");
    }

    /// A set stored before protocol 3, `(field, adds, removed)`, reads with its removed tags
    /// removed from every element.
    #[test]
    fn a_set_stored_before_removals_per_element_reads_them_as_removed_everywhere() {
        #[derive(Serialize)]
        struct Before(FieldKey, Vec<(String, Vec<usize>)>, Vec<usize>);
        let labels = FieldKey::of(Entity::Task, "labels");
        let bytes = rmp_serde::to_vec(&Before(labels, vec![("home".into(), vec![0])], vec![1])).unwrap();
        let Set(_, adds, everywhere, per_element) = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!((adds, everywhere, per_element), (vec![("home".into(), vec![0])], vec![1], vec![]));
    }

    #[test]
    fn the_fields_column_is_what_the_user_sees_and_names_declared_fields_in_one_byte() {
        let record = task();
        let (fields, _) = encode_state(&record);
        assert_eq!(decode_fields(Entity::Task, &fields).unwrap(), record.visible());
        let text = String::from_utf8_lossy(&fields);
        assert!(!text.contains("title") && !text.contains("not_declared"), "{text}");
        assert!(!text.contains("7c9e6679"), "a reference is its 16 bytes: {text}");
    }

    #[test]
    fn a_mutation_key_used_twice_in_a_row_is_stored_once_in_16_bytes() {
        let (_, crdt) = encode_state(&task());
        let key = Uuid::parse_str("15a42bf7-aa43-4e87-99d5-76a270eb6d08").unwrap();
        assert_eq!(crdt.windows(16).filter(|w| *w == key.as_bytes()).count(), 1);
        assert!(!String::from_utf8_lossy(&crdt).contains("15a42bf7"));
    }

    #[test]
    fn the_server_copy_is_stored_only_while_it_differs_and_reads_back_equal() {
        let server = task();
        let mut state = server.clone();
        assert_eq!(encode_server(Some(&server), &state), None);
        assert_eq!(decode_server(None, 9, &state).unwrap(), Some(server.clone()));
        assert_eq!(decode_server(None, 0, &state).unwrap(), None, "version 0: the server never had it");
        state.fields.insert("title".into(), json!("Rake"));
        let mut deleted = server.clone();
        deleted.deleted = true;
        for server in [server, deleted] {
            let stored = encode_server(Some(&server), &state);
            assert_eq!(decode_server(stored.as_deref(), 9, &state).unwrap(), Some(server));
        }
    }

    #[test]
    fn ids_and_keys_are_16_bytes_only_in_their_canonical_form() {
        let canonical = "15a42bf7-aa43-4e87-99d5-76a270eb6d08";
        assert!(matches!(key(canonical), SqlValue::Blob(ref b) if b.len() == 16));
        for other in ["15A42BF7-AA43-4E87-99D5-76A270EB6D08", "15a42bf7aa434e8799d576a270eb6d08", "t1", ""] {
            assert_eq!(key(other), SqlValue::Text(other.to_owned()), "{other}");
        }
        for id in [canonical, "t1", "15a42bf7aa434e8799d576a270eb6d08"] {
            let stored = key(id);
            assert_eq!(key_text(ValueRef::from(&stored)).unwrap(), id);
        }
        assert!(key_text(ValueRef::Integer(3)).is_err());
    }

    #[test]
    fn a_payload_reads_back_equal() {
        let mut changes = Changes::new().set("title", "Dig").set("not_declared", 1).increment("pomodoros", -2);
        changes.set_add.entry("labels".into()).or_default().insert("home".into());
        changes.set_remove.entry("labels".into()).or_default().entry("work".into()).or_default().insert("k".into());
        let payload = Payload { changes, hlc: Hlc { wall_ms: 7, counter: 1, node: "phone".into() }, client_time_ms: 6 };
        let body = encode_payload(Entity::Task, &payload);
        assert_eq!(decode_payload(Entity::Task, &body).unwrap(), payload);
        assert!(decode_payload(Entity::Task, &body[..body.len() - 1]).is_err());
    }

    #[test]
    fn codes_on_disk_never_change() {
        assert_eq!(Entity::ALL.map(entity_code), [0, 1]);
        assert_eq!([Action::Create, Action::Update, Action::Delete].map(action_code), [0, 1, 2]);
        let names = |e: Entity| e.fields().iter().map(|f| f.name).collect::<Vec<_>>();
        assert_eq!(names(Entity::Project), ["name", "description", "archived", "tags"]);
        assert_eq!(names(Entity::Task), ["project_id", "title", "notes", "done", "pomodoros", "labels", "due_on"]);
    }
}
