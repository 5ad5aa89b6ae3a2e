// A syncsim live-mode driver (DRIVERS.md) that is its own tiny offline-first client; README.md says more.
import fs from 'node:fs';
import readline from 'node:readline';
import { randomUUID } from 'node:crypto';

const SYNC_PROTOCOL = 1; // the x-sync-protocol we speak: tasks without `due_on`
const ENTITIES = ['project', 'task']; // parents before children
const MAX_BATCH = 500, PAGE = 100, HTTP_TIMEOUT_MS = 30_000; // a round fails well inside the harness's 120 s
const HEADERS = { 'x-sync-protocol': `${SYNC_PROTOCOL}`, 'content-type': 'application/json' };
const STEPS = ['push_starting', 'push_response_received'];
let app = null, lastStep = 0, syncing = Promise.resolve(); // syncing: sync rounds run one at a time
const waitingSteps = new Map(); // our step id -> resolve of its go_on

const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const log = (text) => process.stderr.write(`node-driver: ${text}\n`);
const need = (ok, why) => ok || (log(`malformed input from the harness: ${why}`), process.exit(2));
const strings = (o, keys) => keys.every((k) => typeof o?.[k] === 'string');
const isClock = (c) => ['offset_ms', 'drift_ppm', 'origin_ms'].every((k) => Number.isFinite(c?.[k]));
const keyOf = (r) => `${r.entity}/${r.id}`;
const later = (s, [wall, counter]) => s.wall_ms > wall || (s.wall_ms === wall && s.counter > counter);

/** The device's clock (DRIVERS.md): the only wall-clock time the app reads. */
function now() {
  const real = Date.now(), c = app.clock;
  return Math.round(real + c.offset_ms + ((real - c.origin_ms) * c.drift_ppm) / 1e6);
}
/** Writes the whole state to a temp file, flushed, then renames it: a kill leaves the old or the new. */
function save() {
  fs.writeFileSync(`${app.file}.tmp`, JSON.stringify(app.db), { flush: true });
  fs.renameSync(`${app.file}.tmp`, app.file);
}
/** A hybrid logical timestamp for a local write: never runs backwards, orders after every stamp pulled. */
function tick() {
  const [wall, counter] = app.db.hlc, t = now();
  app.db.hlc = t > wall ? [t, 0] : [wall, counter + 1];
  return { wall_ms: app.db.hlc[0], counter: app.db.hlc[1], node: app.device };
}
/** Keeps the server's newest copy of a record and folds its stamps into our clock. */
function applyServer(r) {
  const { version, deleted, fields } = r, held = app.db.records[keyOf(r)];
  if (!held || version >= held.version) app.db.records[keyOf(r)] = { version, deleted, fields };
  for (const { hlc: s } of Object.values(r.stamps ?? {})) if (later(s, app.db.hlc)) app.db.hlc = [s.wall_ms, s.counter];
}
/** What the user sees: the server's copies with the queued writes laid over them, deleted ones left out. */
function visible() {
  const view = structuredClone(app.db.records);
  for (const m of app.db.queue) {
    const r = m.action === 'create' ? (view[keyOf(m)] ??= { deleted: false, fields: {} }) : view[keyOf(m)];
    if (!r) continue; // an update or delete of a record we never had: the server will say not_found
    if (m.action === 'delete') r.deleted = true;
    else for (const [f, v] of Object.entries(m.fields)) if (v === null) delete r.fields[f]; else r.fields[f] = v;
  }
  return Object.fromEntries(Object.entries(view).filter(([, r]) => !r.deleted).map(([k, r]) => [k, r.fields]));
}

async function call(method, route, body) { // any HTTP error or non-JSON answer fails the round
  const headers = { ...HEADERS, authorization: `Bearer ${app.token}` };
  const init = { method, headers, body: body && JSON.stringify(body), signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) };
  const res = await fetch(app.server + route, init);
  const json = await res.json().catch(() => ({ error: 'not_json', message: 'the body is not JSON' }));
  if (!res.ok || json.error) throw new Error(`${method} ${route}: HTTP ${res.status} ${json.error}: ${json.message}`);
  return json;
}
function step(name) { // tells the harness we reached a declared step; resolves on its go_on
  send({ type: 'step', id: ++lastStep, step: name });
  return new Promise((resolve) => waitingSteps.set(lastStep, resolve));
}
async function pushBatch(batch, out) {
  await step(STEPS[0]);
  const { results } = await call('POST', '/api/sync/push', { device: app.device, mutations: batch });
  await step(STEPS[1]);
  out.pushed += batch.length;
  for (const r of results) {
    out[{ accepted: 'accepted', conflict: 'conflicts' }[r.status] ?? 'rejected'] += 1;
    if (r.record) applyServer(r.record);
    if (r.status === 'rejected') log(`${r.retryable ? 'kept' : 'dropped'} ${r.key}: ${r.code}: ${r.message}`);
    if (!r.retryable) app.db.queue = app.db.queue.filter((m) => m.key !== r.key); // retryable: queued for later
  }
  save();
}
/** Pulls one entity to the end. A pull from 0 is a re-sync: its cursor moves only once complete, then it drops what
 * the server no longer has. A `reset` (re)starts one, unless its purge is the one the re-sync began with. */
async function pullEntity(entity, out) {
  let since = app.db.cursors[entity], seen = since === 0 ? new Set() : null, purged; // seen: during a re-sync
  for (let more = true; more; ) {
    const page = await call('GET', `/api/sync/pull?entity=${entity}&since=${since}&limit=${PAGE}`);
    if (page.reset && !(seen && page.purged_through <= purged)) { [since, seen, purged] = [0, new Set()]; continue; }
    if (seen) { purged ??= page.purged_through; page.changes.forEach((r) => seen.add(keyOf(r))); }
    page.changes.forEach(applyServer);
    [since, more, out.pulled] = [page.cursor, page.has_more, out.pulled + page.changes.length];
    if (!seen) app.db.cursors[entity] = since;
    save();
  }
  for (const k in app.db.records) if (seen && k.startsWith(`${entity}/`) && !seen.has(k)) delete app.db.records[k];
  app.db.cursors[entity] = since;
  save();
}
async function syncRound() {
  const out = { pulled: 0, pushed: 0, accepted: 0, conflicts: 0, rejected: 0, bytes_sent: 0, bytes_received: 0 };
  if (app.db.queue.length) await pushBatch(app.db.queue.slice(0, MAX_BATCH), out); // the rest: in later rounds
  for (const entity of ENTITIES) await pullEntity(entity, out);
  return { outcome: out };
}

function perform({ operation: op }) {
  const { action, entity, id, changes = {} } = op ?? {}, fields = changes?.fields ?? {};
  need(/^(create|update|delete)$/.test(action) && strings(op, ['entity', 'id']), 'operation needs action, entity, id');
  if (Object.keys(changes).some((k) => k !== 'fields')) throw new Error('only register fields are supported');
  if (action !== 'delete' && !Object.keys(fields).length) throw new Error(`${action} sets no field`);
  const prev = app.db.queue.findLast((m) => keyOf(m) === keyOf(op)); // our last write of it, not yet acknowledged
  const base = action === 'create' ? 0 : (prev?.base_version ?? app.db.records[keyOf(op)]?.version ?? 0);
  const m = { key: randomUUID(), entity, id, action, base_version: base, hlc: tick(), client_time_ms: now() };
  Object.assign(m, prev && { after: prev.key }, action !== 'delete' && { fields });
  app.db.queue.push(m);
  try { save(); } catch (err) { app.db.queue.pop(); throw err; }
}
function open(msg) {
  const valid = strings(msg, ['device', 'token', 'server', 'data_dir']) && isClock(msg.clock);
  need(valid, 'open needs device, token, server and data_dir (strings) and a clock');
  if ((msg.app_version ?? 1) !== 1) throw new Error(`app version ${msg.app_version} is newer than this driver's 1`);
  fs.mkdirSync(msg.data_dir, { recursive: true });
  const file = `${msg.data_dir}/state.json`;
  const db = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8'))
    : { records: {}, queue: [], cursors: { project: 0, task: 0 }, hlc: [0, 0] };
  app = { device: msg.device, token: msg.token, server: msg.server.replace(/\/$/, ''), file, clock: msg.clock, db };
}
const handlers = {
  open, perform,
  sync: () => (syncing = syncing.catch(() => {}).then(syncRound)),
  state: () => ({ state: { protocol: SYNC_PROTOCOL, records: visible(), pending: app.db.queue.length,
    failed: [], conflicts: [] } }), // this app shows no failed writes and no conflicts
  clock: (msg) => { need(isClock(msg.clock), 'a clock needs offset_ms, drift_ppm, origin_ms'); app.clock = msg.clock; },
};
const failure = (err) => [err?.message ?? err, err?.cause].filter(Boolean).join(': '); // fetch puts the reason in cause
const parse = (line) => { try { return JSON.parse(line); } catch { return null; } };
const capabilities = { counters: false, sets: false, conflicts: false, steps: STEPS };
send({ type: 'hello', protocol: 1, name: 'syncsim-node-driver 0.1', capabilities, latest_app_version: 1 });
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = parse(line);
  need(msg !== null && typeof msg === 'object' && !Array.isArray(msg), `not a JSON object: ${line}`);
  const resume = msg.type === 'go_on' && waitingSteps.get(msg.in_reply_to);
  if (resume) { waitingSteps.delete(msg.in_reply_to); return resume(); }
  need(Number.isInteger(msg.id) && Object.hasOwn(handlers, msg.type), `not a request this driver knows: ${line}`);
  need(app || msg.type === 'open', `a request before open: ${line}`);
  new Promise((resolve) => resolve(handlers[msg.type](msg))).then( // runs now: a later line sees its effects
    (extra) => send({ in_reply_to: msg.id, type: 'ok', ...extra }),
    (err) => send({ in_reply_to: msg.id, type: 'fail', error: failure(err) }),
  );
});
