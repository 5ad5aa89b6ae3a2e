// A syncsim live-mode driver (DRIVERS.md) for the real, unmodified Replicache 15.3.0; README.md says more.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { format } from 'node:util';
import { Replicache } from 'replicache';

const DRIVER_NAME = 'replicache 15.3.0 (syncsim driver)';
const SYNC_PROTOCOL = 1; // the records of PROTOCOL.md version 1, also Replicache's schemaVersion below
const APP_VERSION = 1; // the only app version
const PUSH_PATH = '/replicache/push', PULL_PATH = '/replicache/pull';
const HTTP_TIMEOUT_MS = 30_000; // a round fails well inside the harness's 120 s
const STEPS = ['pull_starting', 'pull_page_received', 'pull_page_applied', 'push_starting', 'push_response_received',
  'push_acknowledged'];
const ENTITIES = new Set(['project', 'task']);

let app = null, opened = null, lastStep = 0; // opened: the open, in progress or done; later requests wait for it
let syncing = Promise.resolve(); // one round at a time
let current = null; // the round running, if any: the requests it owns count for it
const waitingSteps = new Map(); // our step id -> resolve of its go_on

const send = (msg) => process.stdout.write(`${JSON.stringify(msg)}\n`);
const note = (text) => process.stderr.write(`replicache-driver: ${text}\n`);
const need = (ok, why) => ok || (note(`malformed input from the harness: ${why}`), process.exit(2));
const isClock = (c) => ['offset_ms', 'drift_ppm', 'origin_ms'].every((k) => Number.isFinite(c?.[k]));
const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const failure = (err) => [err?.message ?? err, err?.causedBy?.message ?? err?.cause?.message ?? err?.cause]
  .filter(Boolean).join(': ');

/** The device's clock (DRIVERS.md). Replicache reads wall time only through Date.now (its client heartbeats, the
 * garbage collection of old clients and databases, its request backoff): replacing it puts the library on it. */
const realNow = Date.now;
let clock = { offset_ms: 0, drift_ppm: 0, origin_ms: realNow() };
Date.now = () => {
  const real = realNow();
  return Math.round(real + clock.offset_ms + ((real - clock.origin_ms) * clock.drift_ppm) / 1e6);
};

/** A readers-writer lock with the semantics of @rocicorp/lock's RWLock, which Replicache's own 'mem' store takes:
 * reads run together, a write runs alone, in order of arrival. Each take resolves to its release function. */
function rwLock() {
  let queue = Promise.resolve(), writing = Promise.resolve(), reading = [];
  const take = (write) => (queue = queue.then(async () => {
    await writing;
    let release;
    const released = new Promise((resolve) => { release = resolve; });
    if (write) {
      await Promise.all(reading);
      [writing, reading] = [released, []];
    } else reading.push(released);
    return release;
  }));
  return { read: () => take(false), write: () => take(true) };
}

/** A durable Replicache kvStore: one JSON file per store name in `dir`, loaded at create, replaced atomically (temp
 * file, fsync, rename) by every commit before it resolves. Stores of one name share their map and lock, as in the
 * 'mem' store. Values read back are deep-frozen (the JSON reviver freezes bottom-up); values put arrive frozen. */
function fileStores(dir) {
  const shared = new Map(); // store name -> { map, lock, file }
  const fileOf = (name) => path.join(dir, `${encodeURIComponent(name)}.json`);
  const freeze = (_key, value) => (value !== null && typeof value === 'object' ? Object.freeze(value) : value);
  function open(name) {
    if (shared.has(name)) return shared.get(name);
    const file = fileOf(name);
    let entries = [];
    try { entries = Object.entries(JSON.parse(fs.readFileSync(file, 'utf8'), freeze)); } catch (err) {
      if (err.code !== 'ENOENT') throw new Error(`could not read ${file}: ${err.message}`);
    }
    const store = { map: new Map(entries), lock: rwLock(), file };
    shared.set(name, store);
    return store;
  }
  const DELETED = Symbol('deleted');
  function transaction(store, release, writes) { // a read one, or a write one when `writes` buffers its changes
    let closed = false;
    const tx = {
      has: async (key) => (writes?.has(key) ? writes.get(key) !== DELETED : store.map.has(key)),
      get: async (key) => (writes?.has(key) ? (writes.get(key) === DELETED ? undefined : writes.get(key))
        : store.map.get(key)),
      release() { closed = true; release(); },
      get closed() { return closed; },
    };
    if (!writes) return tx;
    return Object.assign(tx, {
      put: async (key, value) => { writes.set(key, value); },
      del: async (key) => { writes.set(key, DELETED); },
      async commit() { // synchronous on disk: once it resolves, a kill keeps it
        const next = new Map(store.map);
        for (const [key, value] of writes) (value === DELETED ? next.delete(key) : next.set(key, value));
        fs.writeFileSync(`${store.file}.tmp`, JSON.stringify(Object.fromEntries(next)), { flush: true });
        fs.renameSync(`${store.file}.tmp`, store.file);
        store.map = next;
        writes.clear();
        tx.release();
      },
    });
  }
  return {
    create(name) {
      const store = open(name);
      let closed = false;
      return {
        read: async () => transaction(store, await store.lock.read(), null),
        write: async () => transaction(store, await store.lock.write(), new Map()),
        close: async () => { closed = true; },
        get closed() { return closed; },
      };
    },
    async drop(name) { shared.delete(name); fs.rmSync(fileOf(name), { force: true }); },
  };
}

const keyOf = ({ entity, id }) => `${entity}/${id}`;
const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)); // the server's order: UTF-8 bytes
/** A record's value after a create's or an update's changes, as the server computes it: registers (null removes),
 * counters added to, sets as sorted arrays of unique elements (removed by element, left out when empty). */
function changed(value, { fields = {}, increments = {}, set_add = {}, set_remove = {} }) {
  const next = { ...value };
  for (const [name, v] of Object.entries(fields)) (v === null ? delete next[name] : (next[name] = v));
  for (const [name, delta] of Object.entries(increments)) next[name] = (next[name] ?? 0) + delta;
  for (const name of new Set([...Object.keys(set_add), ...Object.keys(set_remove)])) {
    const removed = new Set(set_remove[name] ?? []);
    const set = [...new Set([...(next[name] ?? []), ...(set_add[name] ?? [])])].filter((e) => !removed.has(e));
    if (set.length) next[name] = set.sort(byBytes);
    else delete next[name];
  }
  return next;
}
/** Refuses what the user asked on this device. On a rebase (Replicache replaying a pending mutation on a newer
 * snapshot) it does what the server does instead, nothing: a throw there fails the whole pull ("Pull threw"), and
 * every retry of it, until the server has acknowledged the mutation. */
const refuse = (tx, args, why) => { if (tx.reason === 'initial') throw new Error(`${args.entity} ${args.id} ${why}`); };
const mutators = {
  async create(tx, args) {
    if (await tx.has(keyOf(args))) return refuse(tx, args, 'already exists on this device');
    await tx.set(keyOf(args), changed({}, { fields: args.fields, increments: args.increments, set_add: args.set_add }));
  },
  async update(tx, args) {
    const value = await tx.get(keyOf(args));
    if (value === undefined) return refuse(tx, args, 'does not exist on this device');
    await tx.set(keyOf(args), changed(value, args));
  },
  async delete(tx, args) {
    if (!(await tx.has(keyOf(args)))) return refuse(tx, args, 'does not exist on this device');
    await tx.del(keyOf(args));
  },
};

/** Replicache's log lines (level info): to the harness's timeline. Those that mean a pull was refused fail the
 * round running: the library only logs them, and retries the pull for ever. */
const REFUSED = /^Pull threw|Invalid puller result|did not change, but/;
const NOISE = /^Not indexing value/; // index chatter: this app has no indexes, kept on standard error if it comes
function libraryLog(level, _context, ...args) {
  const parts = args.map((a) => (a instanceof Error ? failure(a) : a));
  const text = format(...parts).replace(/\s+/g, ' ').trim();
  if (level === 'debug' || NOISE.test(text)) return note(text);
  if (REFUSED.test(text) && current) current.refused ??= `Replicache refused the pull: ${text}`;
  send({ type: 'log', text: `Replicache ${level}: ${text}` });
}

async function open(msg) {
  need(['device', 'user', 'token', 'server', 'data_dir'].every((k) => typeof msg[k] === 'string') && isClock(msg.clock),
    'open needs device, user, token, server and data_dir (strings) and a clock');
  const version = msg.app_version ?? APP_VERSION;
  if (version !== APP_VERSION) throw new Error(`app version ${version} is newer than this driver's ${APP_VERSION}`);
  fs.mkdirSync(msg.data_dir, { recursive: true });
  clock = msg.clock;
  const server = msg.server.replace(/\/$/, '');
  app = { server, auth: `Bearer ${msg.token}`, group: null, lost: false };
  const rep = new Replicache({
    name: `syncsim-${msg.user}`, schemaVersion: `${SYNC_PROTOCOL}`, kvStore: fileStores(msg.data_dir),
    pushURL: server + PUSH_PATH, pullURL: server + PULL_PATH, auth: app.auth, mutators, pullInterval: null,
    logLevel: 'info', logSinks: [{ log: libraryLog }],
    puller: (body, requestID) => exchange('pull', body, requestID),
    pusher: (body, requestID) => exchange('push', body, requestID),
  });
  rep.onClientStateNotFound = () => {
    app.lost = true; // Replicache disabled its client group: it pushes and pulls no more (a browser app reloads)
    send({ type: 'log', text: 'Replicache: client state not found (onClientStateNotFound); this group stops syncing' });
  };
  rep.onUpdateNeeded = (reason) => send({ type: 'log', text: `Replicache: update needed: ${JSON.stringify(reason)}` });
  app.rep = rep;
  app.group = await rep.clientGroupID; // resolves once the stores are loaded; the library then pulls and pushes
  if (msg.boot > 1) { // what survived the last boot, on the timeline: a kill loses what was not persisted yet
    const pending = (await rep.experimentalPendingMutations()).map((m) => `${m.name} ${keyOf(m.args)}`);
    send({ type: 'log', text: `reopened with ${pending.length} pending mutations${pending.length ? `: ${pending.join(', ')}` : ''}` });
  }
}

async function perform({ operation: op }) {
  need(isObject(op) && Object.hasOwn(mutators, op.action) && typeof op.id === 'string', 'operation needs action, id');
  need(ENTITIES.has(op.entity), `no entity ${op.entity} in the schema`);
  const { fields = {}, increments = {}, set_add = {}, set_remove = {} } = op.changes ?? {};
  need([fields, increments, set_add, set_remove].every(isObject), 'changes must hold objects');
  need(Object.values(increments).every(Number.isInteger) && Object.values(set_add).every(Array.isArray)
    && Object.values(set_remove).every((e) => isObject(e) || Array.isArray(e)), 'increments are integers, sets lists');
  const args = { entity: op.entity, id: op.id };
  if (op.action === 'create') Object.assign(args, { fields, increments, set_add });
  if (op.action === 'update') {
    const elements = Object.entries(set_remove).map(([name, e]) => [name, Array.isArray(e) ? e : Object.keys(e)]);
    Object.assign(args, { fields, increments, set_add, set_remove: Object.fromEntries(elements) }); // tags ignored
  }
  await app.rep.mutate[op.action](args); // in memory: the persist to the kvStore follows within about 1 s
}

async function state() {
  const entries = await app.rep.query((tx) => tx.scan().entries().toArray());
  const pending = (await app.rep.experimentalPendingMutations()).length;
  const records = Object.fromEntries(entries); // the frozen values, copied as send() serialises them
  return { state: { protocol: SYNC_PROTOCOL, records, pending, failed: [], conflicts: [] } };
}

function step(name) { // tells the harness we reached a declared step; resolves on its go_on
  send({ type: 'step', id: ++lastStep, step: name });
  return new Promise((resolve) => waitingSteps.set(lastStep, resolve));
}
/** Replicache's response objects that its default pusher hands back (others it drops). */
const known = (r) => r?.error === 'ClientStateNotFound'
  || (r?.error === 'VersionNotSupported' && [undefined, 'pull', 'push', 'schema'].includes(r.versionType));
/** One of Replicache's requests, through its puller or pusher hook: what its default HTTP puller and pusher do (POST
 * of its body, the same headers, the same results: a network error throws, a non-200 is a status and its text, the
 * pusher keeps only a known error answer), plus a timeout, the steps, and the counts of the round that owns it. */
async function exchange(kind, body, requestID) {
  const route = kind === 'push' ? PUSH_PATH : PULL_PATH, what = `POST ${route}`;
  const round = body.clientGroupID === app.group ? current : null; // mutation recovery of another group: no round's
  const phase = round?.phase, live = () => round && round === current;
  const count = (key, n) => { if (live()) round.outcome[key] += n; };
  const fail = (why) => { if (live()) round.error ??= why; return why; };
  try {
    await step(`${kind}_starting`);
    const text = JSON.stringify(body);
    count('bytes_sent', Buffer.byteLength(text));
    if (kind === 'push') count('pushed', body.mutations?.length ?? 0);
    let res, answer;
    try {
      const headers = { 'content-type': 'application/json', authorization: app.auth,
        'x-replicache-requestid': requestID };
      const signal = AbortSignal.timeout(HTTP_TIMEOUT_MS);
      res = await fetch(app.server + route, { method: 'POST', headers, body: text, signal });
      answer = await res.text();
    } catch (err) {
      if (live()) round.network = true;
      throw new Error(fail(`${what}: ${failure(err)}`)); // fetch puts the reason (refused, reset) in its cause
    }
    count('bytes_received', Buffer.byteLength(answer));
    if (res.status !== 200) {
      fail(`${what}: HTTP ${res.status}: ${answer.slice(0, 500)}`);
      return { httpRequestInfo: { httpStatusCode: res.status, errorMessage: answer } };
    }
    const httpRequestInfo = { httpStatusCode: 200, errorMessage: '' };
    let response;
    try {
      response = JSON.parse(answer);
    } catch {
      fail(`${what}: the answer is not JSON: ${answer.slice(0, 200)}`);
      if (kind === 'pull') throw new Error(`${what}: the answer is not JSON`); // as the default puller's res.json()
      return { httpRequestInfo }; // the default pusher ignores a body it cannot read
    }
    if (typeof response?.error === 'string') {
      fail(`${what}: ${response.error}${response.versionType ? ` (${response.versionType})` : ''}`);
    } else if (kind === 'push' && !isObject(response)) {
      fail(`${what}: the answer is not a JSON object: ${answer.slice(0, 200)}`);
    } else if (kind === 'pull') {
      const { patch, lastMutationIDChanges: lmids } = response ?? {};
      if (!Array.isArray(patch) || !isObject(lmids)) fail(`${what}: not a pull response: ${answer.slice(0, 200)}`);
      else {
        count('pulled', patch.filter((op) => op?.op === 'put' || op?.op === 'del').length);
        if (live() && (patch.some((op) => op?.op !== 'clear') || Object.keys(lmids).length)) round.news = true;
      }
    }
    await step(kind === 'push' ? 'push_response_received' : 'pull_page_received');
    if (kind === 'pull') return { response, httpRequestInfo };
    return known(response) ? { response, httpRequestInfo } : { httpRequestInfo };
  } finally {
    if (live() && phase === kind) round.returned[kind] += 1;
  }
}

/** One round: Replicache's push({now}) then its pull({now}). Each resolves when the request in flight ends, which
 * may have started before the round: then it runs again, so that the round has a push of its own (when mutations
 * are pending) and a pull that started after its push. Both resolve whatever the outcome: the round reads it from
 * the requests it owns and from the library's log. */
async function syncRound() {
  const { rep } = app;
  const pending = () => rep.experimentalPendingMutations();
  const pendingIDs = async () => new Set((await pending()).map((m) => `${m.clientID}:${m.id}`));
  const outcome = { pulled: 0, pushed: 0, accepted: 0, conflicts: 0, rejected: 0, bytes_sent: 0, bytes_received: 0 };
  const round = { outcome, phase: 'push', returned: { push: 0, pull: 0 }, news: false, network: false };
  current = round;
  try {
    if (app.lost) throw new Error('Replicache disabled its client group after ClientStateNotFound: it syncs no more');
    const before = await pendingIDs();
    let tries = 0;
    do await rep.push({ now: true });
    while (!round.returned.push && ++tries < 3 && (await pending()).length);
    round.phase = 'pull';
    tries = 0;
    if (!round.network) { // a dead network would fail the pull too, and double the time the round takes
      do await rep.pull({ now: true });
      while (!round.returned.pull && ++tries < 3);
    }
    const error = round.error ?? round.refused;
    if (error) throw new Error(error);
    if (round.news) await step('pull_page_applied'); // pull() resolved: the patch is applied, pending ones rebased
    const after = await pendingIDs();
    outcome.accepted = [...before].filter((id) => !after.has(id)).length; // acknowledged by a pull, not by a push
  } finally {
    current = null;
  }
  if (outcome.accepted) await step('push_acknowledged');
  return { outcome };
}

const handlers = {
  open,
  perform,
  sync: () => (syncing = syncing.catch(() => {}).then(syncRound)),
  state,
  clock: (msg) => { need(isClock(msg.clock), 'a clock needs offset_ms, drift_ppm, origin_ms'); clock = msg.clock; },
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
    (err) => send({ in_reply_to: msg.id, type: 'fail', error: failure(err) }),
  );
}

for (const level of ['log', 'info', 'debug', 'warn']) console[level] = (...m) => note(format(...m)); // stdout is ours
const capabilities = { counters: true, sets: true, conflicts: false, steps: STEPS };
send({ type: 'hello', protocol: 1, name: DRIVER_NAME, capabilities, latest_app_version: APP_VERSION });
readline.createInterface({ input: process.stdin }).on('line', onLine)
  .on('close', () => process.exit(0)); // the harness kills drivers; Replicache's timers would outlive a closed stdin
