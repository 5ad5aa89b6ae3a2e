// Draws the run embedded in #run-data as lanes of SVG along virtual time. Only the part
// of the chart in view (and a screen on each side) is drawn, again on every scroll and
// zoom, so a run of thousands of events stays quick.
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';
  var PAD = 14, RIGHT = 48, AXIS = 30, MAX_PX_PER_MS = 4;
  var HEIGHT = { run: 46, device: 88, server: 52 };
  // Rows of a device lane, from the lane's top.
  var ROW = { ops: 10, opsH: 14, rounds: 33, roundsH: 18, marks: 70, spanLabel: 62 };
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var svg = document.getElementById('chart');
  var scroller = document.getElementById('scroller');
  var tooltip = document.getElementById('tooltip');
  var detailBody = document.getElementById('detail-body');
  var state = { px: 1, fitPx: 1, selected: null, violation: null, found: null, drawn: {} };

  // Lanes, top to bottom.
  var lanes = data.lanes.map(function (lane) { return { host: lane.host, label: lane.label, kind: lane.kind }; });
  var y = AXIS;
  lanes.forEach(function (lane) { lane.top = y; lane.height = HEIGHT[lane.kind] || 52; y += lane.height; });
  var chartHeight = y + 1;

  // Skipped time is drawn as a narrow break, not days of empty lanes.
  var end = Math.max(data.end_ms, 1);
  var skips = data.skips.map(function (s) { return { at: s[0], span: s[1] }; });
  var stepped = skips.reduce(function (left, s) { return left - s.span; }, end);
  var GAP = Math.max(200, Math.round(stepped / 30));
  skips.forEach(function (s) { end -= Math.max(0, s.span - GAP); });
  var displayEnd = Math.max(end, 1);
  function disp(t) {
    var d = t;
    for (var i = 0; i < skips.length; i++) {
      var s = skips[i];
      if (t >= s.at + s.span) d -= s.span - GAP;
      else if (t > s.at) d -= (t - s.at) - (t - s.at) / s.span * GAP;
    }
    return d;
  }
  function undisp(d) {
    var t = d;
    for (var i = 0; i < skips.length; i++) {
      var s = skips[i], at = disp(s.at);
      if (d >= at + GAP) t += s.span - GAP;
      else if (d > at) return s.at + (d - at) / GAP * s.span;
    }
    return t;
  }
  function x(t) { return PAD + disp(t) * state.px; }

  function el(tag, attrs, parent) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) node.setAttribute(k, attrs[k]);
    (parent || svg).appendChild(node);
    return node;
  }
  function text(content, attrs, parent) { var t = el('text', attrs, parent); t.textContent = content; return t; }
  function html(tag, content, cls) {
    var node = document.createElement(tag);
    if (content !== undefined && content !== null) node.textContent = content;
    if (cls) node.className = cls;
    return node;
  }

  function seconds(ms) {
    if (ms < 60000) return (ms / 1000).toFixed(ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : 3) + ' s';
    var s = Math.floor(ms / 1000), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), r = s % 60;
    var parts = [[d, ' d'], [h, ' h'], [m, ' min'], [r, ' s']].filter(function (p) { return p[0]; });
    return parts.map(function (p) { return p[0] + p[1]; }).join(' ');
  }
  function at(ms) { return ms.toLocaleString('en-US') + ' ms (' + seconds(ms) + ')'; }

  // ---- what each item says ----
  function opTip(op) {
    var ends = { ok: 'ok', fail: 'failed', unknown: 'outcome unknown' };
    var dur = op.t1 === null ? 'never completed' : ends[op.end] + ' after ' + (op.t1 - op.t0) + ' ms';
    return 'op ' + op.op + ' on ' + lanes[op.lane].host + ': ' + op.summary + '\n' + dur + (op.note ? ' (' + op.note + ')' : '');
  }
  function roundCounts(r) {
    var o = r.outcome;
    if (!o) return '';
    var parts = ['pulled ' + o.pulled, 'pushed ' + o.pushed];
    if (o.accepted) parts.push('accepted ' + o.accepted);
    if (o.conflicts) parts.push(o.conflicts + ' conflict' + (o.conflicts === 1 ? '' : 's'));
    if (o.rejected) parts.push('rejected ' + o.rejected);
    return parts.join(', ');
  }
  function roundTip(r) {
    var head = 'sync round ' + r.round + ' on ' + lanes[r.lane].host + ': ' + r.end;
    var body = r.end === 'ok' ? roundCounts(r) : (r.note || 'never ended');
    return head + '\n' + body;
  }
  function spanTip(s) { return s.label + ' on ' + lanes[s.lane].host + '\n' + at(s.t0) + ' to ' + at(s.t1); }
  function markTip(m) { return m.label + ' (' + lanes[m.lane].host + ', ' + at(m.t) + ')' + (m.detail ? '\n' + m.detail : ''); }
  function violationTip(v) { return 'VIOLATION: ' + v.invariant + ' at ' + at(v.t) + (v.host ? ' on ' + v.host : '') + '\n' + v.details; }

  // ---- drawing ----
  function render() {
    var width = Math.ceil(PAD + RIGHT + displayEnd * state.px);
    svg.setAttribute('width', width);
    svg.setAttribute('height', chartHeight);
    svg.setAttribute('viewBox', '0 0 ' + width + ' ' + chartHeight);
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var view = scroller.clientWidth || 1200;
    var lo = scroller.scrollLeft - view, hi = scroller.scrollLeft + 2 * view;
    function visible(x0, x1) { return x1 >= lo && x0 <= hi; }
    defs();
    drawLanes(width);
    drawAxis(lo, hi);
    drawPhases(width);
    drawSkips(visible);
    drawSpans(visible);
    drawRequests(visible);
    drawRounds(visible);
    drawOps(visible);
    drawMarks(visible);
    drawViolations(width);
    document.body.setAttribute('data-rendered', 'ok');
  }

  function defs() {
    var d = el('defs', {});
    hatch(d, 'hatch-red', 'rgba(250,82,82,0.10)', '#ff8787');
    hatch(d, 'hatch-down', 'rgba(134,142,150,0.12)', '#adb5bd');
    hatch(d, 'hatch-orange', 'rgba(253,126,20,0.14)', '#ffa94d');
    hatch(d, 'hatch-cut', '#ffe3e3', '#fa5252');
    hatch(d, 'hatch-skip', '#f1f3f5', '#adb5bd');
  }
  function hatch(d, id, bg, stroke) {
    var p = el('pattern', { id: id, width: 7, height: 7, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, d);
    el('rect', { width: 7, height: 7, fill: bg }, p);
    el('line', { x1: 0, y1: 0, x2: 0, y2: 7, stroke: stroke, 'stroke-width': 2.2 }, p);
  }

  // Each lane's group, holding what is drawn on it.
  var groups = [];
  function drawLanes(width) {
    var g = el('g', { 'class': 'lanes' });
    lanes.forEach(function (lane, i) {
      el('rect', { 'class': 'lane-bg ' + (i % 2 ? 'odd' : 'even'), x: 0, y: lane.top, width: width, height: lane.height }, g);
      el('line', { 'class': 'lane-sep', x1: 0, x2: width, y1: lane.top, y2: lane.top }, g);
    });
    groups = lanes.map(function (lane) { return el('g', { 'class': 'lane', 'data-host': lane.host, 'data-lane-kind': lane.kind }, g); });
  }

  function drawAxis(lo, hi) {
    var g = el('g', { 'class': 'axis' });
    var wanted = 110 / state.px, step = 1;
    var steps = [1, 2, 5];
    for (var k = 0; step < wanted; k++) step = steps[k % 3] * Math.pow(10, Math.floor(k / 3));
    var d0 = Math.max(0, Math.floor(((lo - PAD) / state.px) / step) * step);
    var d1 = Math.min(displayEnd, (hi - PAD) / state.px);
    for (var d = d0; d <= d1 + 1e-9; d += step) {
      var t = undisp(d);
      if (insideSkip(t)) continue;
      var px = PAD + d * state.px;
      el('line', { 'class': 'tick', x1: px, x2: px, y1: AXIS - 8, y2: chartHeight }, g);
      text(seconds(Math.round(t)), { x: px + 3, y: AXIS - 12 }, g);
    }
  }
  function insideSkip(t) {
    return skips.some(function (s) { return t > s.at + 1 && t < s.at + s.span - 1; });
  }

  function drawPhases(width) {
    if (data.final_phase_ms === null) return;
    var x0 = x(data.final_phase_ms);
    el('rect', { 'class': 'final-phase', x: x0, y: AXIS, width: Math.max(0, width - x0), height: chartHeight - AXIS });
    text('final phase', { x: x0 + 4, y: lanes[0].top + 40, 'class': 'span-label' });
  }

  function drawSkips(visible) {
    skips.forEach(function (s) {
      var x0 = x(s.at), x1 = x(s.at + s.span);
      if (!visible(x0, x1)) return;
      el('rect', { 'class': 'skip', x: x0, y: AXIS, width: Math.max(2, x1 - x0), height: chartHeight - AXIS, 'data-kind': 'skip' });
      text(seconds(s.span) + ' skipped', { x: x0 + 3, y: lanes[0].top + 40, 'class': 'span-label' });
    });
  }

  function laneGroup(i) { return groups[i]; }

  function drawSpans(visible) {
    data.spans.forEach(function (s, i) {
      var x0 = x(s.t0), x1 = Math.max(x(s.t1), x0 + 2);
      if (!visible(x0, x1)) return;
      var lane = lanes[s.lane], g = laneGroup(s.lane);
      var r = el('rect', {
        'class': 'span ' + s.kind + cls('span', i), x: x0, y: lane.top + 2, width: x1 - x0, height: lane.height - 4,
        'data-kind': 'span', 'data-i': i, 'data-span': s.kind
      }, g);
      r.__tip = spanTip(s);
      var label = fitted(s.label, x1 - x0), labelY = spanLabelY(lane, spanRows[i]);
      if (label && labelY !== null) text(label, { x: x0 + 4, y: labelY, 'class': 'span-label' }, g);
    });
  }
  // Overlapping spans of a lane take turns for their labels: each gets the first row free
  // at its start.
  var spanRows = (function () {
    var rows = [], ends = {};
    data.spans.forEach(function (s, i) {
      var lane = ends[s.lane] || (ends[s.lane] = []);
      var row = lane.findIndex(function (end) { return end <= s.t0; });
      if (row < 0) { row = lane.length; lane.push(0); }
      lane[row] = Math.max(s.t1, s.t0 + 1);
      rows[i] = row;
    });
    return rows;
  })();
  function spanLabelY(lane, row) {
    var places = lane.kind === 'device' ? [ROW.spanLabel, lane.height - 3] : [lane.height - 5, 11];
    return row < places.length ? lane.top + places[row] : null;
  }
  // `label` cut to what fits in `width` pixels; empty when not even a few letters do.
  function fitted(label, width) {
    var room = Math.floor((width - 6) / 5.9);
    if (room < 4) return '';
    return label.length <= room ? label : label.slice(0, room - 1) + '\u2026';
  }

  function drawRequests(visible) {
    var server = lanes.length - 1, lane = lanes[server], g = laneGroup(server);
    var devices = lanes.length - 2;
    data.requests.forEach(function (r) {
      var px = x(r[0]);
      if (!visible(px, px)) return;
      var row = (r[1] - 1) / Math.max(1, devices);
      var y0 = lane.top + 8 + row * (lane.height - 16);
      el('line', { 'class': 'request', x1: px, x2: px, y1: y0, y2: y0 + Math.max(4, (lane.height - 16) / Math.max(1, devices)) }, g);
    });
  }

  function drawRounds(visible) {
    data.rounds.forEach(function (r, i) {
      var t1 = r.t1 === null ? data.end_ms : r.t1;
      var x0 = x(r.t0), x1 = Math.max(x(t1), x0 + 3);
      if (!visible(x0, x1)) return;
      var lane = lanes[r.lane], g = laneGroup(r.lane);
      var idle = r.outcome && r.outcome.pulled === 0 && r.outcome.pushed === 0;
      var rect = el('rect', {
        'class': 'round ' + r.end + (idle ? ' idle' : '') + cls('round', i), x: x0, y: lane.top + ROW.rounds,
        width: x1 - x0, height: ROW.roundsH, rx: 2, 'data-kind': 'round', 'data-i': i, 'data-end': r.end
      }, g);
      rect.__tip = roundTip(r);
      if (r.outcome && !idle && x1 - x0 > 42) {
        text('\u2193' + r.outcome.pulled + ' \u2191' + r.outcome.pushed, { x: x0 + 3, y: lane.top + ROW.rounds + 13, 'class': 'round-label' }, g);
      }
    });
  }

  function drawOps(visible) {
    data.ops.forEach(function (op, i) {
      var x0 = x(op.t0), x1 = op.t1 === null ? x0 + 12 : Math.max(x(op.t1), x0 + 3);
      if (!visible(x0, x1)) return;
      var lane = lanes[op.lane], g = laneGroup(op.lane);
      var rect = el('rect', {
        'class': 'op ' + op.end + cls('op', i), x: x0, y: lane.top + ROW.ops, width: x1 - x0, height: ROW.opsH, rx: 1.5,
        'data-kind': 'op', 'data-i': i, 'data-op': op.op, 'data-end': op.end
      }, g);
      rect.__tip = opTip(op);
      if (state.violation !== null && involvedOp(i)) {
        var mid = (x0 + x1) / 2, top = lane.top + ROW.ops - 2;
        el('path', { 'class': 'pointer', d: 'M' + (mid - 5) + ' ' + (top - 7) + 'L' + (mid + 5) + ' ' + (top - 7) + 'L' + mid + ' ' + top + 'Z' }, g);
      }
    });
  }

  function drawMarks(visible) {
    data.marks.forEach(function (m, i) {
      var px = x(m.t);
      if (!visible(px - 8, px + 8)) return;
      var lane = lanes[m.lane], g = laneGroup(m.lane);
      var cy = lane.kind === 'device' ? lane.top + ROW.marks : lane.top + lane.height / 2;
      if (m.kind === 'kill' || m.kind === 'upgrade' || m.kind === 'switch_user') {
        el('line', { 'class': 'mark-line ' + m.kind, x1: px, x2: px, y1: lane.top + 3, y2: lane.top + lane.height - 3 }, g);
      }
      var node = glyph(m.kind, px, cy, g);
      node.setAttribute('class', 'glyph ' + m.kind + cls('mark', i));
      node.setAttribute('data-kind', 'mark');
      node.setAttribute('data-mark', m.kind);
      node.setAttribute('data-i', i);
      node.__tip = markTip(m);
      if (isCause('mark', i)) el('circle', { 'class': 'halo', cx: px, cy: cy, r: 11 }, g);
    });
  }

  function glyph(kind, px, cy, g) {
    switch (kind) {
      case 'kill': return el('path', { d: 'M' + (px - 6) + ' ' + (cy - 6) + 'L' + (px + 6) + ' ' + (cy + 6) + 'M' + (px + 6) + ' ' + (cy - 6) + 'L' + (px - 6) + ' ' + (cy + 6) }, g);
      case 'restart': return el('path', { d: 'M' + (px - 5) + ' ' + (cy + 6) + 'L' + px + ' ' + (cy - 6) + 'L' + (px + 5) + ' ' + (cy + 6) + 'Z' }, g);
      case 'clock': return el('path', { d: circlePath(px, cy, 6) + 'M' + px + ' ' + cy + 'L' + px + ' ' + (cy - 4) + 'M' + px + ' ' + cy + 'L' + (px + 3) + ' ' + cy }, g);
      case 'upgrade': return el('path', { d: 'M' + px + ' ' + (cy - 8) + 'L' + (px + 6) + ' ' + (cy - 1) + 'L' + (px + 2) + ' ' + (cy - 1) + 'L' + (px + 2) + ' ' + (cy + 7) + 'L' + (px - 2) + ' ' + (cy + 7) + 'L' + (px - 2) + ' ' + (cy - 1) + 'L' + (px - 6) + ' ' + (cy - 1) + 'Z' }, g);
      case 'switch_user': return el('path', { d: circlePath(px, cy - 3, 3) + 'M' + (px - 6) + ' ' + (cy + 7) + 'Q' + px + ' ' + (cy - 3) + ' ' + (px + 6) + ' ' + (cy + 7) + 'Z' }, g);
      case 'lost_response': case 'conflict': return el('path', { d: 'M' + px + ' ' + (cy - 7) + 'L' + (px + 7) + ' ' + cy + 'L' + px + ' ' + (cy + 7) + 'L' + (px - 7) + ' ' + cy + 'Z' }, g);
      case 'edge': return el('rect', { x: px - 4, y: cy - 4, width: 8, height: 8 }, g);
      case 'open_failed': return el('rect', { x: px - 5, y: cy - 5, width: 10, height: 10 }, g);
      case 'arm': return el('path', { d: circlePath(px, cy, 4) + 'M' + (px - 7) + ' ' + cy + 'L' + (px + 7) + ' ' + cy + 'M' + px + ' ' + (cy - 7) + 'L' + px + ' ' + (cy + 7) }, g);
      case 'converged': case 'not_converged': return el('path', { d: 'M' + px + ' ' + (cy + 8) + 'L' + px + ' ' + (cy - 8) + 'L' + (px + 9) + ' ' + (cy - 4) + 'L' + px + ' ' + cy + 'Z' }, g);
      case 'final_phase': return el('rect', { x: px - 1, y: cy - 8, width: 2, height: 16 }, g);
      default: return el('circle', { cx: px, cy: cy, r: 4 }, g);
    }
  }
  function circlePath(cx, cy, r) {
    return 'M' + (cx - r) + ' ' + cy + 'a' + r + ' ' + r + ' 0 1 0 ' + 2 * r + ' 0a' + r + ' ' + r + ' 0 1 0 ' + -2 * r + ' 0';
  }

  // Violations: a red line down every lane, a flag on the run lane (one per place, naming
  // every invariant violated there), and a ring on the lane where it shows.
  function drawViolations(width) {
    var g = el('g', { 'class': 'violations' });
    var places = [];
    data.violations.forEach(function (v, i) {
      var px = x(v.t);
      var place = places.filter(function (p) { return Math.abs(p.px - px) < 8; })[0];
      if (place) { place.items.push(i); return; }
      places.push({ px: px, items: [i] });
    });
    places.forEach(function (place) {
      var first = data.violations[place.items[0]];
      var names = [];
      place.items.forEach(function (i) { var n = data.violations[i].invariant; if (names.indexOf(n) < 0) names.push(n); });
      var line = el('line', { 'class': 'violation-line', x1: place.px, x2: place.px, y1: AXIS - 2, y2: chartHeight, 'data-kind': 'violation', 'data-i': place.items[0] }, g);
      line.__tip = violationTip(first);
      var label = '\u2716 ' + names.join(', ');
      var w = 12 + label.length * 6.4, right = place.px + w > width - 2;
      var fx = right ? place.px - w : place.px;
      var flag = el('rect', { 'class': 'violation-flag', x: fx, y: lanes[0].top + 6, width: w, height: 20, rx: 3, 'data-kind': 'violation', 'data-i': place.items[0] }, g);
      flag.__tip = violationTip(first);
      text(label, { 'class': 'violation-text', x: fx + 6, y: lanes[0].top + 20 }, g);
      place.items.forEach(function (i) {
        var v = data.violations[i];
        if (v.lane === null || v.lane === undefined) return;
        var lane = lanes[v.lane];
        el('circle', { 'class': 'violation-ring', cx: place.px, cy: lane.top + lane.height / 2, r: 12 }, g);
      });
    });
  }

  // Highlight classes: the selection, what the selected violation involves, find matches.
  function cls(kind, i) {
    var out = '';
    if (state.selected && state.selected.kind === kind && state.selected.i === i) out += ' selected';
    if (kind === 'op' && state.violation !== null && involvedOp(i)) out += ' involved';
    if (isCause(kind, i)) out += ' cause';
    if (state.found && state.found[kind + i]) out += ' found';
    return out;
  }
  function involvedOp(i) {
    var v = data.violations[state.violation];
    if (v.ops.indexOf(data.ops[i].op) >= 0) return true;
    return v.records.some(function (r) { return r.writes.indexOf(i) >= 0; });
  }
  function isCause(kind, i) {
    if (state.violation === null) return false;
    var v = data.violations[state.violation];
    return (kind === 'mark' && v.marks.indexOf(i) >= 0) || (kind === 'span' && v.spans.indexOf(i) >= 0);
  }

  // ---- details ----
  function dl(pairs) {
    var list = html('dl');
    pairs.forEach(function (p) {
      if (p[1] === undefined || p[1] === null || p[1] === '') return;
      list.appendChild(html('dt', p[0]));
      var dd = html('dd');
      if (p[1] instanceof Node) dd.appendChild(p[1]); else dd.textContent = String(p[1]);
      list.appendChild(dd);
    });
    return list;
  }
  function pre(value) { return html('pre', typeof value === 'string' ? value : JSON.stringify(value, null, 2)); }
  function link(label, kind, i) {
    var a = html('a', label);
    a.addEventListener('click', function () { select(kind, i, true); });
    return a;
  }
  function show(title, body, cls) {
    detailBody.textContent = '';
    detailBody.appendChild(html('h3', title, cls));
    detailBody.appendChild(body);
  }

  function details(kind, i) {
    if (kind === 'op') {
      var op = data.ops[i];
      show('op ' + op.op + ': ' + op.summary, dl([
        ['device', lanes[op.lane].host + ' (' + lanes[op.lane].label + ')'], ['invoked', at(op.t0)],
        ['completed', op.t1 === null ? 'never' : at(op.t1) + ': ' + op.end], ['note', op.note],
        ['operation', pre(op.operation)], ['device showed', op.observed ? pre(op.observed) : null]
      ]));
    } else if (kind === 'round') {
      var r = data.rounds[i];
      var changes = r.changes.length ? pre(r.changes.join('\n') + (r.more ? '\n\u2026 and ' + r.more + ' more' : '')) : 'none';
      var reqs = Object.keys(r.requests).map(function (p) { return p + ' \u00d7' + r.requests[p]; }).join(', ');
      var o = r.outcome;
      show('sync round ' + r.round + ' on ' + lanes[r.lane].host + ': ' + r.end, dl([
        ['started', at(r.t0)], ['ended', r.t1 === null ? 'never' : at(r.t1)], ['result', roundCounts(r)],
        ['bytes', o ? o.bytes_sent + ' sent, ' + o.bytes_received + ' received' : null], ['error', r.note],
        ['requests at the server', reqs], ['what the device shows differently after it', changes]
      ]));
    } else if (kind === 'span') {
      var s = data.spans[i];
      show(s.label, dl([['where', lanes[s.lane].host], ['from', at(s.t0)], ['to', at(s.t1)], ['kind', s.kind]]));
    } else if (kind === 'mark') {
      var m = data.marks[i];
      var resolution = null;
      if (m.round !== undefined) {
        var strategies = Object.keys(data.strategies).map(function (e) { return e + ': ' + data.strategies[e]; }).join(', ');
        var r = data.rounds[m.round];
        resolution = html('div');
        resolution.appendChild(html('p', 'resolved on the server by the declared strategy (' + strategies + '); what the device shows differently after the round:'));
        resolution.appendChild(pre(r.changes.length ? r.changes.join('\n') + (r.more ? '\n\u2026 and ' + r.more + ' more' : '') : 'nothing'));
        resolution.appendChild(link('sync round ' + r.round, 'round', m.round));
      }
      show(m.label, dl([['where', lanes[m.lane].host], ['when', at(m.t)], ['what', m.detail], ['resolution', resolution], ['kind', m.kind]]));
    } else if (kind === 'violation') {
      violationDetails(i);
    }
  }

  function violationDetails(i) {
    var v = data.violations[i];
    var ops = html('span');
    v.ops.forEach(function (n, k) {
      var idx = data.ops.findIndex(function (op) { return op.op === n; });
      if (k) ops.appendChild(document.createTextNode(', '));
      ops.appendChild(idx >= 0 ? link('op ' + n, 'op', idx) : html('span', 'op ' + n));
    });
    var disruptions = html('span');
    var items = v.marks.map(function (m) { return { t: data.marks[m].t, kind: 'mark', i: m, label: data.marks[m].label, lane: data.marks[m].lane }; })
      .concat(v.spans.map(function (s) { return { t: data.spans[s].t0, kind: 'span', i: s, label: data.spans[s].label, lane: data.spans[s].lane }; }))
      .sort(function (a, b) { return a.t - b.t; });
    items.forEach(function (item, k) {
      if (k) disruptions.appendChild(document.createTextNode('; '));
      disruptions.appendChild(link(item.label + ' on ' + lanes[item.lane].host + ' at ' + seconds(item.t), item.kind, item.i));
    });
    if (v.more) disruptions.appendChild(document.createTextNode('; and ' + v.more + ' more'));
    var body = html('div');
    body.appendChild(dl([
      ['detected', at(v.t) + (v.host ? ' on ' + v.host : '')], ['what is wrong', v.details],
      ['operations named', v.ops.length ? ops : null],
      ['faults and kills on the hosts involved, before it', items.length ? disruptions : 'none']
    ]));
    v.records.forEach(function (r) { body.appendChild(recordTable(r)); });
    show('Violation: ' + v.invariant, body, 'violation-title');
  }

  function recordTable(r) {
    var box = html('div');
    box.appendChild(html('h4', 'record ' + r.key));
    var table = html('table');
    var head = html('tr');
    ['when', 'device', 'op', 'write', 'outcome'].forEach(function (h) { head.appendChild(html('th', h)); });
    table.appendChild(head);
    r.writes.forEach(function (w) {
      var op = data.ops[w], row = html('tr');
      row.appendChild(html('td', seconds(op.t0)));
      row.appendChild(html('td', lanes[op.lane].host));
      var cell = html('td'); cell.appendChild(link('op ' + op.op, 'op', w)); row.appendChild(cell);
      row.appendChild(html('td', op.summary));
      row.appendChild(html('td', op.end + (op.note ? ' (' + op.note + ')' : '')));
      table.appendChild(row);
    });
    box.appendChild(table);
    if (r.more_writes) box.appendChild(html('p', '\u2026 and ' + r.more_writes + ' more writes'));
    var finals = [['server', pre(r.server === null ? 'not there' : r.server)]];
    Object.keys(r.devices).forEach(function (host) { finals.push([host, pre(r.devices[host] === null ? 'not shown' : r.devices[host])]); });
    box.appendChild(html('p', 'final values:'));
    box.appendChild(dl(finals));
    return box;
  }

  // ---- interaction ----
  function select(kind, i, reveal) {
    state.selected = { kind: kind, i: i };
    if (kind === 'violation') {
      state.violation = i;
      document.querySelectorAll('#violations li').forEach(function (li) {
        li.classList.toggle('selected', Number(li.getAttribute('data-violation')) === i);
      });
    }
    details(kind, i);
    if (reveal) bringIntoView(kind, i); else render();
  }
  function timeOf(kind, i) {
    if (kind === 'op') return [data.ops[i].t0, data.ops[i].t1 === null ? data.ops[i].t0 : data.ops[i].t1];
    if (kind === 'round') return [data.rounds[i].t0, data.rounds[i].t1 === null ? data.end_ms : data.rounds[i].t1];
    if (kind === 'span') return [data.spans[i].t0, data.spans[i].t1];
    if (kind === 'mark') return [data.marks[i].t, data.marks[i].t];
    var v = data.violations[i], t0 = v.t;
    data.ops.forEach(function (op, k) { if (involvedOpOf(v, k)) t0 = Math.min(t0, op.t0); });
    v.marks.forEach(function (m) { t0 = Math.min(t0, data.marks[m].t); });
    v.spans.forEach(function (s) { t0 = Math.min(t0, data.spans[s].t0); });
    return [t0, v.t];
  }
  // The operations a violation names, else the writes of the records it names (as the
  // page's data picks the faults and kills before it).
  function involvedOpOf(v, k) {
    if (v.ops.length) return v.ops.indexOf(data.ops[k].op) >= 0;
    return v.records.some(function (r) { return r.writes.indexOf(k) >= 0; });
  }
  // Scrolls (and zooms out if needed) so that [t0, t1] is in view.
  function bringIntoView(kind, i) {
    var span = timeOf(kind, i), view = scroller.clientWidth - 2 * PAD;
    var width = (disp(span[1]) - disp(span[0])) * state.px;
    // Too wide: zoom out to see it whole. A violation also zooms in on what it involves.
    if (width > view * 0.9 || kind === 'violation') {
      state.px = Math.min(MAX_PX_PER_MS, Math.max(state.fitPx, view * 0.9 / Math.max(1, disp(span[1]) - disp(span[0]))));
    }
    var center = PAD + (disp(span[0]) + disp(span[1])) / 2 * state.px;
    render();
    scroller.scrollLeft = Math.max(0, center - scroller.clientWidth / 2);
    render();
  }

  function zoom(factor, clientX) {
    var rect = scroller.getBoundingClientRect();
    var cx = clientX === undefined ? rect.width / 2 : clientX - rect.left;
    var d = (scroller.scrollLeft + cx - PAD) / state.px;
    state.px = Math.min(MAX_PX_PER_MS, Math.max(state.fitPx, state.px * factor));
    render();
    scroller.scrollLeft = Math.max(0, d * state.px + PAD - cx);
    render();
  }
  function fit() {
    state.fitPx = Math.max(1e-9, ((scroller.clientWidth || 1200) - PAD - RIGHT - 2) / displayEnd);
    state.px = state.fitPx;
    scroller.scrollLeft = 0;
    render();
  }

  function find(query) {
    query = query.trim().toLowerCase();
    var count = document.getElementById('find-count');
    if (!query) { state.found = null; count.textContent = ''; render(); return; }
    var found = {}, n = 0, first = null;
    var number = /^op\s*(\d+)$/.exec(query);
    function hit(kind, i, textValue, extra) {
      if (number ? extra : textValue.toLowerCase().indexOf(query) >= 0) {
        found[kind + i] = true; n++;
        if (!first) first = [kind, i];
      }
    }
    data.ops.forEach(function (op, i) { hit('op', i, 'op ' + op.op + ' ' + op.summary + ' ' + op.key, number && op.op === Number(number[1])); });
    data.marks.forEach(function (m, i) { hit('mark', i, m.label + ' ' + m.detail, false); });
    data.spans.forEach(function (s, i) { hit('span', i, s.label + ' ' + s.kind, false); });
    data.rounds.forEach(function (r, i) { hit('round', i, (r.changes || []).join('\n') + ' ' + (r.note || ''), false); });
    state.found = found;
    count.textContent = n + ' found';
    if (first) select(first[0], first[1], true); else render();
  }

  function legend() {
    var items = [
      ['write ok', 'var(--ok)'], ['write failed', 'var(--fail)'], ['outcome unknown', 'var(--unknown)'],
      ['sync round', 'var(--sync)'], ['idle round', 'var(--idle)'], ['failed round', '#ffa8a8'], ['cut round', '#fa5252'],
      ['partition / offline', 'repeating-linear-gradient(45deg,#ff8787 0 2px,#fff0f0 2px 5px)'],
      ['blackhole', 'rgba(33,37,41,0.4)'], ['profile', 'rgba(250,176,5,0.35)'],
      ['HTTP fault', 'rgba(253,126,20,0.35)'], ['host down', 'repeating-linear-gradient(45deg,#adb5bd 0 2px,#f1f3f5 2px 5px)'],
      ['kill \u2716', 'var(--kill)'], ['restart \u25b2', 'var(--restart)'], ['clock', 'var(--clock)'], ['upgrade', 'var(--upgrade)'], ['user switch', 'var(--user)'],
      ['lost response \u25c6', 'var(--fault)'], ['conflict \u25c6', '#ffd43b'], ['violation', 'var(--violation)']
    ];
    var box = document.getElementById('legend');
    items.forEach(function (item) {
      var s = html('span'), i = html('i');
      i.style.background = item[1];
      s.appendChild(i); s.appendChild(document.createTextNode(item[0]));
      box.appendChild(s);
    });
  }

  function labels() {
    var box = document.getElementById('labels');
    box.style.height = chartHeight + 'px';
    lanes.forEach(function (lane) {
      var div = html('div', null, 'lane');
      div.style.top = lane.top + 'px';
      div.style.height = lane.height + 'px';
      div.appendChild(html('div', lane.kind === 'run' ? 'run' : lane.host, 'host'));
      if (lane.kind !== 'run') div.appendChild(html('div', lane.label, 'user'));
      if (lane.kind === 'device') {
        [['writes', ROW.ops], ['sync', ROW.rounds + 2], ['events', ROW.marks - 7]].forEach(function (r) {
          var row = html('span', r[0], 'row');
          row.style.top = r[1] + 'px';
          div.appendChild(row);
        });
      }
      if (lane.kind === 'server') { var row = html('span', 'requests', 'row'); row.style.top = '26px'; div.appendChild(row); }
      box.appendChild(div);
    });
  }

  function wire() {
    var frame = 0;
    scroller.addEventListener('scroll', function () {
      if (!frame) frame = requestAnimationFrame(function () { frame = 0; render(); });
    });
    scroller.addEventListener('wheel', function (e) {
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault();
      zoom(e.deltaY < 0 ? 1.25 : 0.8, e.clientX);
    }, { passive: false });
    var drag = null;
    scroller.addEventListener('mousedown', function (e) { drag = { x: e.clientX, left: scroller.scrollLeft, moved: false }; });
    window.addEventListener('mousemove', function (e) {
      if (drag) {
        if (Math.abs(e.clientX - drag.x) > 4) { drag.moved = true; scroller.classList.add('dragging'); }
        if (drag.moved) scroller.scrollLeft = drag.left - (e.clientX - drag.x);
      }
      var target = e.target;
      if (target && target.__tip) {
        tooltip.textContent = target.__tip;
        tooltip.hidden = false;
        tooltip.style.left = Math.min(e.clientX + 14, window.innerWidth - 490) + 'px';
        tooltip.style.top = (e.clientY + 16) + 'px';
      } else {
        tooltip.hidden = true;
      }
    });
    window.addEventListener('mouseup', function () { setTimeout(function () { drag = null; scroller.classList.remove('dragging'); }, 0); });
    svg.addEventListener('click', function (e) {
      if (drag && drag.moved) return;
      var kind = e.target.getAttribute('data-kind');
      if (kind && kind !== 'skip') select(kind, Number(e.target.getAttribute('data-i')), false);
    });
    document.querySelectorAll('#violations button.show').forEach(function (b) {
      b.addEventListener('click', function () { select('violation', Number(b.getAttribute('data-violation')), true); });
    });
    document.getElementById('zoom-in').addEventListener('click', function () { zoom(1.6); });
    document.getElementById('zoom-out').addEventListener('click', function () { zoom(1 / 1.6); });
    document.getElementById('zoom-fit').addEventListener('click', fit);
    var input = document.getElementById('find');
    input.addEventListener('change', function () { find(input.value); });
    document.addEventListener('keydown', function (e) {
      if (e.target === input) return;
      if (e.key === '+' || e.key === '=') zoom(1.6);
      else if (e.key === '-') zoom(1 / 1.6);
      else if (e.key === '0') fit();
      else if (e.key === 'ArrowRight') scroller.scrollLeft += scroller.clientWidth / 3;
      else if (e.key === 'ArrowLeft') scroller.scrollLeft -= scroller.clientWidth / 3;
    });
    window.addEventListener('resize', function () { var keep = state.px === state.fitPx; if (keep) fit(); else render(); });
  }

  try {
    legend();
    labels();
    wire();
    fit();
    // A failing run opens on its first violation: what it names, outlined on the whole run.
    if (data.violations.length) select('violation', 0, false);
  } catch (err) {
    var box = document.getElementById('script-error');
    box.hidden = false;
    box.textContent = 'The timeline could not be drawn: ' + err;
    document.body.setAttribute('data-rendered', 'error');
  }
})();
