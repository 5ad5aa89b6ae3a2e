// A syncsim live-mode driver (DRIVERS.md) for the real, unmodified WatermelonDB 0.28.0; README.md says more.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { format } = require('node:util');
const logger = require('@nozbe/watermelondb/utils/common/logger').default;
const { Database, Model, appSchema, tableSchema } = require('@nozbe/watermelondb');
const LokiJSAdapter = require('@nozbe/watermelondb/adapters/lokijs').default;
const { schemaMigrations } = require('@nozbe/watermelondb/Schema/migrations');
const { synchronize } = require('@nozbe/watermelondb/sync');

const DRIVER_NAME = 'watermelondb 0.28.0 (syncsim driver)';
const SYNC_PROTOCOL = 1; // the records of PROTOCOL.md version 1: tasks without `due_on`
const APP_VERSION = 1; // the only app version, and the WatermelonDB schema version
const DB_FILE = 'watermelon.loki.json'; // the whole Loki database, in the device's data_dir
const PULL_PATH = '/watermelon/pull', PUSH_PATH = '/watermelon/push';
const HTTP_TIMEOUT_MS = 30_000; // a round fails well inside the harness's 120 s
const LAST_PULLED_AT_KEY = '__watermelon_last_pulled_at';
const STEPS = ['pull_starting', 'pull_page_received', 'pull_page_applied', 'push_starting', 'push_response_received',
  'push_acknowledged'];
const ENTITIES = { // the harness's entities; counters (pomodoros), sets (tags, labels) and due_on are left out
  project: { table: 'projects', columns: { name: 'string', description: 'string', archived: 'boolean' } },
  task: { table: 'tasks', columns: { project_id: 'string', title: 'string', notes: 'string', done: 'boolean' } },
};
const INDEXED = new Set(['project_id']);

let app = null, opened = null, lastStep = 0; // opened: the open, in progress or done; later requests wait for it
let syncing = Promise.resolve(); // one synchronize() at a time
const waitingSteps = new Map(); // our step id -> resolve of its go_on

const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const note = (text) => process.stderr.write(`watermelondb-driver: ${text}\n`);
const need = (ok, why) => ok || (note(`malformed input from the harness: ${why}`), process.exit(2));
const isClock = (c) => ['offset_ms', 'drift_ppm', 'origin_ms'].every((k) => Number.isFinite(c?.[k]));
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const failure = (err) => [err?.message ?? err, err?.cause?.message ?? err?.cause].filter(Boolean).join(': ');
const countChanges = (changes) => Object.values(changes ?? {})
  .reduce((n, t) => n + (t?.created?.length ?? 0) + (t?.updated?.length ?? 0) + (t?.deleted?.length ?? 0), 0);

/** LokiJS's start-up chatter: noise on a timeline, kept on standard error. */
const CHATTER = /^\[Loki\]|useIncrementalIndexedDB/;

/** WatermelonDB's own diagnostics (sync contract violations included) go to the harness's timeline. */
function captureDiagnostics() {
  const text = (m) => format(...m.map((part) => (part instanceof Error ? part.message : part))); // no stacks
  const report = (line) => (CHATTER.test(line) ? note(line) : send({ type: 'log', text: line }));
  for (const level of ['log', 'warn', 'error']) logger[level] = (...m) => report(text(m));
  logger.debug = (...m) => note(text(m));
  for (const level of ['log', 'info', 'debug']) console[level] = (...m) => note(format(...m)); // stdout is ours
}

/** A Loki persistence adapter on one file, replaced atomically (temp file, fsync, rename): a kill leaves the old
 * or the new database, never half of one. (The directory is not fsynced: that matters for a machine crash only.) */
function filePersistence(file) {
  return {
    loadDatabase(_name, callback) {
      try { callback(fs.readFileSync(file, 'utf8')); } catch (err) { callback(err.code === 'ENOENT' ? null : err); }
    },
    saveDatabase(_name, serialized, callback) {
      try {
        fs.writeFileSync(`${file}.tmp`, serialized, { flush: true });
        fs.renameSync(`${file}.tmp`, file);
        callback(null);
      } catch (err) { callback(err); }
    },
    deleteDatabase(_name, callback) { fs.rmSync(file, { force: true }); callback(); },
  };
}
/** Writes the whole in-memory database to disk now. WatermelonDB on a phone runs on SQLite, where every committed
 * write survives a kill; on Loki, this is what makes a write durable. */
function flush() {
  const { loki } = app.db.adapter.underlyingAdapter._dispatcher._worker._bridge.driver;
  return new Promise((resolve, reject) => loki.saveDatabase((err) => (err ? reject(
    new Error(`could not write ${app.file}: ${err.message ?? err}; check the disk and the data_dir's permissions`),
  ) : resolve())));
}

function buildSchema() {
  const tables = Object.values(ENTITIES).map(({ table, columns }) => tableSchema({
    name: table,
    columns: Object.entries(columns)
      .map(([name, type]) => ({ name, type, isOptional: true, isIndexed: INDEXED.has(name) })),
  }));
  return appSchema({ version: APP_VERSION, tables });
}
const modelClasses = Object.values(ENTITIES).map(({ table }) => class extends Model { static table = table; });

async function open(msg) {
  need(['device', 'token', 'server', 'data_dir'].every((k) => typeof msg[k] === 'string') && isClock(msg.clock),
    'open needs device, token, server and data_dir (strings) and a clock');
  const version = msg.app_version ?? APP_VERSION;
  if (version !== APP_VERSION) throw new Error(`app version ${version} is newer than this driver's ${APP_VERSION}`);
  fs.mkdirSync(msg.data_dir, { recursive: true });
  const file = path.join(msg.data_dir, DB_FILE);
  let setUpError = null;
  const adapter = new LokiJSAdapter({
    schema: buildSchema(), migrations: schemaMigrations({ migrations: [] }), dbName: 'syncsim',
    useWebWorker: false, useIncrementalIndexedDB: true, // no IndexedDB here: _testLokiAdapter is used instead
    extraLokiOptions: { autosave: false }, _testLokiAdapter: filePersistence(file),
    onSetUpError: (err) => { setUpError = err; },
  });
  const db = new Database({ adapter, modelClasses });
  try {
    await db.adapter.getLocal(LAST_PULLED_AT_KEY); // queued behind the set-up: resolves once the file is loaded
  } catch (err) {
    throw new Error(`WatermelonDB could not open ${file}: ${(setUpError ?? err).message}`);
  }
  // clock: the device's clock (DRIVERS.md). Nothing here reads time: the schema has no created_at/updated_at and the
  // server's versions order everything, so it is only kept up to date.
  app = { db, file, token: msg.token, server: msg.server.replace(/\/$/, ''), clock: msg.clock };
}

/** The columns an operation writes, checked against what this app has: anything else fails the operation. */
function columnsOf({ columns }, op) {
  const { fields = {}, ...others } = op.changes ?? {};
  need(isObject(fields) && Object.values(others).every(isObject), 'changes must hold objects');
  const crdt = Object.entries(others).filter(([, v]) => Object.keys(v).length).map(([k]) => k);
  if (crdt.length) throw new Error(`${crdt.join(', ')} not supported: this app has no counter or set fields`);
  for (const [name, value] of Object.entries(fields)) {
    const type = columns[name];
    const known = Object.keys(columns).join(', ');
    if (!type) throw new Error(`${op.entity} has no column ${name} in this app (it has ${known})`);
    if (value !== null && typeof value !== type) throw new Error(`${op.entity}.${name} must be a ${type} or null`);
  }
  return fields;
}
const setColumns = (record, fields) => Object.entries(fields).forEach(([name, value]) => record._setRaw(name, value));

/** The record with this id, a tombstone (`_status` deleted) included; null when there is none. */
const findAny = (collection, id) => collection.find(id).catch(() => null);
async function liveRecord(collection, op) {
  const record = await findAny(collection, op.id);
  if (record && record._raw._status !== 'deleted') return record;
  throw new Error(`${op.entity} ${op.id} does not exist on this device${record ? ' (deleted)' : ''}`);
}
const ACTIONS = {
  async create(collection, op, fields) {
    if (await findAny(collection, op.id)) throw new Error(`${op.entity} ${op.id} already exists on this device`);
    await collection.create((record) => {
      record._raw.id = op.id; // the harness names its records: WatermelonDB keeps the id set in the builder
      setColumns(record, fields);
    });
  },
  async update(collection, op, fields) {
    const record = await liveRecord(collection, op);
    await record.update(() => setColumns(record, fields));
  },
  async delete(collection, op) {
    await (await liveRecord(collection, op)).markAsDeleted(); // a tombstone, pushed at the next sync
  },
};
async function perform({ operation: op }) {
  need(isObject(op) && Object.hasOwn(ACTIONS, op.action) && typeof op.id === 'string', 'operation needs action, id');
  need(Object.hasOwn(ENTITIES, op.entity), `no entity ${op.entity} in the schema`);
  const entity = ENTITIES[op.entity], collection = app.db.get(entity.table);
  const fields = op.action === 'delete' ? {} : columnsOf(entity, op);
  await app.db.write(() => ACTIONS[op.action](collection, op, fields), `syncsim ${op.action} ${op.entity}`);
  try {
    await flush(); // before the ok: a kill right after it must not lose the write
  } catch (err) {
    throw Object.assign(err, { answer: 'unknown' }); // done in memory, not on disk: a later flush may save it
  }
}

async function state() {
  const records = {};
  let pending = 0;
  for (const [name, { table, columns }] of Object.entries(ENTITIES)) {
    for (const { _raw: raw } of await app.db.get(table).query().fetch()) { // tombstones left out
      const fields = Object.keys(columns).filter((c) => raw[c] !== null).map((c) => [c, raw[c]]);
      records[`${name}/${raw.id}`] = Object.fromEntries(fields);
      if (raw._status !== 'synced') pending += 1;
    }
    pending += (await app.db.adapter.getDeletedRecords(table)).length;
  }
  return { state: { protocol: SYNC_PROTOCOL, records, pending, failed: [], conflicts: [] } };
}

function step(name) { // tells the harness we reached a declared step; resolves on its go_on
  send({ type: 'step', id: ++lastStep, step: name });
  return new Promise((resolve) => waitingSteps.set(lastStep, resolve));
}
/** One HTTP exchange; anything but 2xx throws, which fails synchronize() and so the round. */
async function request(method, route, round, body) {
  const headers = { authorization: `Bearer ${app.token}`, ...(body && { 'content-type': 'application/json' }) };
  round.bytes_sent += body ? Buffer.byteLength(body) : 0;
  try {
    const signal = AbortSignal.timeout(HTTP_TIMEOUT_MS);
    const res = await fetch(app.server + route, { method, headers, body, signal });
    const text = await res.text();
    round.bytes_received += Buffer.byteLength(text);
    if (res.ok) return text;
    throw new Error(`HTTP ${res.status}: ${text.slice(0, 500)}`);
  } catch (err) {
    throw new Error(`${method} ${route}: ${failure(err)}`); // fetch puts the reason (refused, reset) in its cause
  }
}
async function pullChanges({ lastPulledAt, schemaVersion, migration }, round) {
  await step('pull_starting');
  const query = new URLSearchParams({
    last_pulled_at: `${lastPulledAt ?? null}`,
    schema_version: `${schemaVersion}`,
    migration: JSON.stringify(migration ?? null),
  });
  const route = `${PULL_PATH}?${query}`, text = await request('GET', route, round);
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`GET ${route}: the answer is not JSON: ${text.slice(0, 200)}`);
  }
  if (!isObject(answer)) throw new Error(`GET ${route}: the answer is not a JSON object with changes and timestamp`);
  round.pulled += countChanges(answer.changes);
  await step('pull_page_received');
  return answer; // WatermelonDB checks it and applies it, then stores the cursor
}
async function pushChanges({ changes, lastPulledAt }, round) {
  await flush(); // the pull is applied and the cursor stored: on SQLite that is durable by now
  await step('pull_page_applied'); // the first point after the apply that a driver can wait at
  await step('push_starting');
  await request('POST', `${PUSH_PATH}?last_pulled_at=${lastPulledAt}`, round, JSON.stringify(changes));
  round.pushed += countChanges(changes);
  round.accepted = round.pushed;
  await step('push_response_received');
}
async function syncRound() {
  const round = { pulled: 0, pushed: 0, accepted: 0, conflicts: 0, rejected: 0, bytes_sent: 0, bytes_received: 0 };
  const log = {};
  try {
    await synchronize({
      database: app.db, sendCreatedAsUpdated: true, migrationsEnabledAtVersion: APP_VERSION, log,
      pullChanges: (args) => pullChanges(args, round), pushChanges: (args) => pushChanges(args, round),
    });
  } finally {
    for (const { local, resolved } of log.resolvedConflicts ?? []) {
      const kept = `its local ${local._changed} kept`;
      send({ type: 'log', text: `WatermelonDB merged ${local.id} per column, ${kept}: ${JSON.stringify(resolved)}` });
    }
    await flush(); // whatever the round got to (a pull applied, local changes marked synced) is kept
  }
  if (round.pushed) await step('push_acknowledged');
  return { outcome: round };
}

const handlers = {
  open,
  perform,
  sync: () => (syncing = syncing.catch(() => {}).then(syncRound)),
  state,
  clock: (msg) => { need(isClock(msg.clock), 'a clock needs offset_ms, drift_ppm, origin_ms'); app.clock = msg.clock; },
};
const parse = (line) => { try { return JSON.parse(line); } catch { return null; } };

/** Starts one request. The others wait for the open, so requests sent right behind it are served in order. */
function run(msg) {
  if (msg.type === 'open') {
    need(!opened, 'a second open in one boot');
    return (opened = open(msg));
  }
  need(opened, `a ${msg.type} before open`);
  return opened.then(() => handlers[msg.type](msg));
}
function onLine(line) {
  const msg = parse(line);
  need(isObject(msg), `not a JSON object: ${line}`);
  const resume = msg.type === 'go_on' && waitingSteps.get(msg.in_reply_to);
  if (resume) { waitingSteps.delete(msg.in_reply_to); return resume(); }
  need(Number.isInteger(msg.id) && Object.hasOwn(handlers, msg.type), `not a request this driver knows: ${line}`);
  run(msg).then(
    (extra) => send({ in_reply_to: msg.id, type: 'ok', ...extra }),
    (err) => send({ in_reply_to: msg.id, type: err?.answer ?? 'fail', error: failure(err) }),
  );
}

captureDiagnostics();
const capabilities = { counters: false, sets: false, conflicts: false, steps: STEPS };
send({ type: 'hello', protocol: 1, name: DRIVER_NAME, capabilities, latest_app_version: APP_VERSION });
readline.createInterface({ input: process.stdin }).on('line', onLine);
