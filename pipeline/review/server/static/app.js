/* precode review page.
 *
 * One transcript at a time in the middle, the selected segment's suggestions on the right,
 * keys as in the terminal review (1 2 3 r c n u j k). Everything comes from the same-origin
 * API of `precode serve` (see the API contract); nothing is stored in the browser, so a
 * reload shows exactly what the server has.
 */
'use strict';

const FIRST_PAGE = 200; // small first page, so the first screen of a long source comes fast
const PAGE = 1000; // the API's largest page
const ORDER_LABELS = {uncertain: 'uncertain first', document: 'document order', code: 'by code',
                      random: 'random'};
const NEUTRAL_RGB = '140 140 140'; // tint for "none of these codes" and unknown themes

const state = {
  session: null, // GET /api/session
  themes: new Map(), // theme id -> theme
  codes: new Map(), // code id -> {code, theme}
  codeList: [], // every code, codebook order, for the picker
  sources: [], // GET /api/sources
  current: null, // the source on screen (see openSource)
  queue: {ids: [], pos: -1, endOf: null}, // what j/k walk; pos = last queue place visited
  selectedId: null,
  hoverKey: null, // suggestion whose definition is shown
  notes: new Map(), // segment id -> note kept for its next decision
  picker: {items: [], active: 0},
};

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
};

/* ---------- talking to the server ---------- */

class ApiError extends Error {
  constructor(message, hint = '') {
    super(message);
    this.hint = hint;
  }
}

/** GET (no body) or POST a JSON body to the same origin; errors carry the API's error + hint. */
async function api(path, body) {
  const init = {credentials: 'same-origin', headers: {Accept: 'application/json'}};
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new ApiError('The review server cannot be reached', 'is `precode serve` still running?');
  }
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    throw new ApiError((data && data.error) || `${res.status} ${res.statusText}`,
                       (data && data.hint) || '');
  }
  return data;
}

const enc = encodeURIComponent;

/* Actions run one after another, so keys pressed quickly while a request is out
 * apply to the segment the previous key moved to, in order. */
let chain = Promise.resolve();
function run(action) {
  chain = chain.then(action).catch(sayError);
  return chain;
}

/* ---------- status line ---------- */

function say(text, kind = 'info') {
  const status = $('status');
  status.textContent = text;
  status.dataset.kind = kind;
}

function sayError(err) {
  if (!(err instanceof ApiError)) console.error(err);
  const hint = err && err.hint ? ` — ${err.hint}` : '';
  say(`${(err && err.message) || err}${hint}`, 'error');
}

/* ---------- small helpers ---------- */

/** "#aabbcc" -> "170 187 204", for rgb(var(--tint) / alpha) in the CSS. */
function rgbOf(hex) {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  return m ? m.slice(1).map((h) => parseInt(h, 16)).join(' ') : NEUTRAL_RGB;
}

const codeName = (id) => (state.codes.get(id) ? state.codes.get(id).code.name : id);
const themeOfCode = (id) => (state.codes.get(id) ? state.codes.get(id).theme : null);
const score2 = (x) => (typeof x === 'number' ? x.toFixed(2) : '—');
const snippet = (text, n = 40) => (text.length > n ? `${text.slice(0, n)}…` : text);

/** The source of a segment id: ids are "<source id>:<start>-<end>" (see pipeline/segment.py). */
function sourceOfSegment(id) {
  if (state.current && state.current.segs.has(id)) return state.current.id;
  const m = /^(.*):\d+-\d+$/.exec(id);
  return m ? m[1] : null;
}

/* ---------- start ---------- */

async function start() {
  bindControls();
  try {
    state.session = await api('/api/session');
    if (!state.session.coder) {
      askCoder();
      return;
    }
    await loadEverything();
  } catch (err) {
    sayError(err);
  }
}

async function loadEverything() {
  const [codebook, sources] = await Promise.all([api('/api/codebook'), api('/api/sources')]);
  indexCodebook(codebook);
  state.sources = sources.sources;
  renderTopBar();
  renderSources();
  refreshProgress().catch(sayError);
  const first = state.sources.find((s) => s.reviewed < s.segments) || state.sources[0];
  if (!first) {
    $('transcript').replaceChildren(el('p', 'placeholder', 'This run has no sources.'));
    return;
  }
  await openSource(first.id);
  await reloadQueue(true);
}

function indexCodebook(codebook) {
  state.themes.clear();
  state.codes.clear();
  state.codeList = [];
  for (const theme of codebook.themes) {
    state.themes.set(theme.id, theme);
    for (const code of theme.codes) {
      state.codes.set(code.id, {code, theme});
      state.codeList.push({code, theme});
    }
  }
}

/* ---------- sign-in (server started without --coder) ---------- */

function askCoder() {
  const dialog = $('signin-dialog');
  $('signin').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('signin-name').value.trim();
    if (!name) return;
    try {
      const res = await api('/api/session', {coder: name});
      dialog.close();
      state.session = await api('/api/session');
      if (!state.session.coder) state.session.coder = res.coder;
      await loadEverything();
    } catch (err) {
      $('signin-error').textContent = err.hint ? `${err.message} — ${err.hint}` : err.message;
      $('signin-error').hidden = false;
    }
  });
  dialog.showModal();
  $('signin-name').focus();
}

/* ---------- top bar and sidebar ---------- */

function renderTopBar() {
  const s = state.session;
  $('run').textContent = s.run || '';
  $('coder').textContent = s.coder || '';
  $('blind').hidden = !s.blind;
  const order = $('order');
  order.replaceChildren(...(s.orders || ['uncertain', 'document', 'code']).map((name) => {
    const option = el('option', null, ORDER_LABELS[name] || name);
    option.value = name;
    return option;
  }));
  const filter = $('filter-code');
  filter.replaceChildren(filter.options[0]);
  for (const theme of state.themes.values()) {
    const group = el('optgroup');
    group.label = theme.name;
    for (const code of theme.codes) {
      const option = el('option', null, code.name);
      option.value = code.id;
      group.append(option);
    }
    filter.append(group);
  }
}

async function refreshProgress() {
  const p = await api('/api/progress');
  $('progress').textContent = `${p.reviewed} / ${p.total} reviewed`;
  const kappa = $('kappa');
  kappa.textContent = typeof p.kappa === 'number' ? `κ ${p.kappa.toFixed(2)}` : 'κ —';
  kappa.title = p.kappa_note || "Cohen's kappa of your decisions against the suggestions";
  renderAcceptance(p.per_code || []);
}

/** The acceptance rate per code: how often a suggested code was confirmed in review. */
function renderAcceptance(rows) {
  const body = $('acceptance').tBodies[0];
  body.replaceChildren(...rows.map((row) => {
    const tr = el('tr');
    tr.dataset.codeId = row.code;
    const rate = typeof row.rate === 'number' ? `${Math.round(row.rate * 100)}%` : '—';
    tr.append(el('td', 'code-name', codeName(row.code)),
      el('td', 'num', `${row.accepted} / ${row.suggested}`), el('td', 'num', rate));
    return tr;
  }));
}

/** After a decision or undo: the progress and the sidebar's counts, in the background. */
function refreshCounts() {
  refreshProgress().catch(sayError);
  api('/api/sources').then((res) => {
    state.sources = res.sources;
    renderSources();
  }).catch(sayError);
}

function renderSources() {
  const list = $('sources');
  list.replaceChildren(...state.sources.map((s) => {
    const li = el('li');
    li.dataset.sourceId = s.id;
    const button = el('button', 'source-btn');
    button.type = 'button';
    const bar = el('progress', 'source-bar');
    bar.max = Math.max(1, s.segments);
    bar.value = s.reviewed;
    bar.setAttribute('aria-label', `${s.reviewed} of ${s.segments} reviewed`);
    button.append(el('span', 'source-name', s.name), el('span', 'source-count',
      `${s.reviewed} / ${s.segments}`), bar);
    li.append(button);
    return li;
  }));
  markCurrentSource();
}

function markCurrentSource() {
  for (const li of $('sources').children) {
    const here = state.current && li.dataset.sourceId === state.current.id;
    li.classList.toggle('current', Boolean(here));
    if (here) li.setAttribute('aria-current', 'true');
    else li.removeAttribute('aria-current');
  }
}

/* ---------- the transcript ---------- */

let loadToken = 0; // a newer openSource makes older page loops stop

/** Show a source: its turns at once as plain text, then its segments page by page.
 *  Resolves when the first page is drawn; `current.ready` resolves when all are. */
async function openSource(id) {
  if (state.current && state.current.id === id) return;
  const token = ++loadToken;
  const src = await api(`/api/source?id=${enc(id)}`);
  if (token !== loadToken) return;
  const cps = Array.from(src.text); // offsets are code points, JS strings are UTF-16
  const cur = {id: src.id, name: src.name, language: src.language, cps,
               blocks: makeBlocks(src.turns || [], cps.length),
               segs: new Map(), views: new Map(), total: null, done: false};
  state.current = cur;
  state.selectedId = null;
  state.queue.endOf = null;
  renderPanel(null);
  drawSkeleton(cur);
  markCurrentSource();
  let firstDrawn;
  const first = new Promise((resolve) => { firstDrawn = resolve; });
  cur.ready = loadSegments(cur, token, firstDrawn).catch(sayError).finally(firstDrawn);
  await first;
}

/** Turns in text order; a source without turns is one block of unknown speaker. */
function makeBlocks(turns, length) {
  const blocks = turns.map((t) => ({start: t.start, end: t.end, speaker: t.speaker || '',
                                    role: t.role || 'unknown', segs: []}))
    .sort((a, b) => a.start - b.start);
  return blocks.length ? blocks : [{start: 0, end: length, speaker: '', role: 'unknown', segs: []}];
}

function drawSkeleton(cur) {
  const main = $('transcript');
  main.lang = cur.language || '';
  const head = el('header', 'source-head');
  head.append(el('h2', null, cur.name), el('span', 'meta', cur.language || ''));
  const body = el('div', 'turns');
  cur.blocks.forEach((block, i) => {
    const div = el('div', `turn ${block.role}`);
    div.dataset.role = block.role;
    div.dataset.turnIndex = String(i);
    if (block.speaker) div.append(el('div', 'speaker', block.speaker));
    block.textEl = el('div', 'turn-text');
    div.append(block.textEl);
    block.el = div;
    body.append(div);
    drawBlock(cur, block);
  });
  main.replaceChildren(head, body);
  main.scrollTop = 0;
}

async function loadSegments(cur, token, firstDrawn) {
  let offset = 0;
  let limit = FIRST_PAGE;
  for (;;) {
    const page = await api(`/api/segments?source=${enc(cur.id)}&offset=${offset}&limit=${limit}`);
    if (token !== loadToken) return; // another source was opened meanwhile
    cur.total = page.total;
    addSegments(cur, page.segments, offset);
    offset += page.segments.length;
    firstDrawn();
    if (!page.segments.length || offset >= page.total) break;
    limit = PAGE;
  }
  cur.done = true;
}

/** Put a page of segments into their blocks and redraw only the blocks they touch. */
function addSegments(cur, segments, offset) {
  const touched = new Set();
  segments.forEach((seg, i) => {
    seg.index = offset + i; // its place in the source's pages, to fetch it again alone
    cur.segs.set(seg.id, seg);
    const block = blockAt(cur.blocks, seg.start);
    block.segs.push(seg);
    touched.add(block);
  });
  for (const block of touched) drawBlock(cur, block);
}

/** The last block starting at or before `pos` (binary search; blocks are sorted). */
function blockAt(blocks, pos) {
  let lo = 0;
  let hi = blocks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (blocks[mid].start <= pos) lo = mid;
    else hi = mid - 1;
  }
  return blocks[lo];
}

/** A block's text with a span over each segment's code points and a badge after it.
 *  Overlapping segments (unit "window") cannot nest, so a later one is clipped to what
 *  the earlier one left (class `clipped`). */
function drawBlock(cur, block) {
  const cut = (a, b) => cur.cps.slice(a, b).join('');
  const segs = block.segs.slice().sort((a, b) => a.start - b.start || a.end - b.end);
  const frag = document.createDocumentFragment();
  let pos = block.start;
  for (const seg of segs) {
    const a = Math.max(seg.start, pos);
    const b = Math.max(a, Math.min(seg.end, block.end));
    if (a > pos) frag.append(cut(pos, a));
    const span = el('span', 'segment', cut(a, b));
    span.dataset.segmentId = seg.id;
    if (a !== seg.start || b !== seg.end) span.classList.add('clipped');
    const badge = el('span', 'badge');
    badge.dataset.badgeFor = seg.id;
    badge.setAttribute('aria-hidden', 'true'); // the panel says the same in words
    cur.views.set(seg.id, {span, badge});
    decorate(seg);
    frag.append(span, badge);
    pos = b;
  }
  if (pos < block.end) frag.append(cut(pos, block.end));
  block.textEl.replaceChildren(frag);
}

/** Tint, classes and badge of a segment's span, from its suggestions and decision. */
function decorate(seg) {
  const view = state.current && state.current.views.get(seg.id);
  if (!view) return;
  const {span, badge} = view;
  const top = seg.suggestions && seg.suggestions[0];
  const decided = Boolean(seg.decision);
  let rgb = NEUTRAL_RGB;
  if (decided && seg.decision.codes.length) rgb = rgbOf((themeOfCode(seg.decision.codes[0]) || {}).color);
  else if (!decided && top) rgb = rgbOf((state.themes.get(top.theme) || {}).color);
  span.style.setProperty('--tint', rgb);
  badge.style.setProperty('--tint', rgb);
  span.classList.toggle('reviewed', decided);
  badge.classList.toggle('reviewed', decided);
  span.classList.toggle('below', !decided && (!top || top.score < state.session.threshold));
  span.classList.toggle('selected', seg.id === state.selectedId);
  if (decided) {
    const names = seg.decision.codes.map(codeName).join(', ');
    badge.textContent = `✓ ${names || 'none'}`;
  } else {
    badge.textContent = top ? `${codeName(top.code)} ${score2(top.score)}` : '—';
  }
}

/** Take a segment as the server now has it (after a decision or undo). */
function applySegment(fresh) {
  const cur = state.current;
  const old = cur && cur.segs.get(fresh.id);
  if (!old) return;
  fresh.index = old.index;
  cur.segs.set(fresh.id, fresh);
  const block = blockAt(cur.blocks, fresh.start);
  block.segs = block.segs.map((s) => (s.id === fresh.id ? fresh : s));
  decorate(fresh);
  if (state.selectedId === fresh.id) renderPanel(fresh);
}

/** Fetch one segment again by its place in the source's pages. */
async function refetchSegment(id) {
  const seg = state.current && state.current.segs.get(id);
  if (!seg) return;
  const page = await api(`/api/segments?source=${enc(state.current.id)}&offset=${seg.index}&limit=1`);
  const fresh = page.segments[0];
  if (fresh && fresh.id === id) applySegment(fresh);
  else applySegment({...seg, decision: null}); // pages moved under us: undo leaves it unreviewed
}

/* ---------- selection and the queue ---------- */

const selectedSegment = () => state.current && state.current.segs.get(state.selectedId);

/** Select a segment, switching the transcript to its source when needed. */
async function select(id) {
  const sourceId = sourceOfSegment(id);
  if (sourceId && (!state.current || state.current.id !== sourceId)) await openSource(sourceId);
  const cur = state.current;
  if (!cur) return;
  if (!cur.segs.has(id)) await cur.ready; // still paging in
  const seg = cur.segs.get(id);
  if (!seg) {
    say(`Segment ${id} is not in ${cur.name}.`, 'error');
    return;
  }
  const before = selectedSegment();
  state.selectedId = id;
  state.hoverKey = null;
  if (before) decorate(before);
  decorate(seg);
  const place = state.queue.ids.indexOf(id);
  if (place >= 0) state.queue.pos = place;
  scrollToSegment(cur.views.get(id).span);
  renderPanel(seg);
}

/** Scroll only when the span is out of the calm middle of the transcript. */
function scrollToSegment(span) {
  const box = $('transcript').getBoundingClientRect();
  const r = span.getBoundingClientRect();
  const margin = box.height * 0.15;
  if (r.top < box.top + margin || r.bottom > box.bottom - margin) span.scrollIntoView({block: 'center'});
}

const allSources = () => $('filter-all-sources').checked;

/** GET /api/queue for the current order and filters; `jump` selects its first segment. */
async function reloadQueue(jump) {
  const params = new URLSearchParams({order: $('order').value || 'uncertain'});
  if (!allSources() && state.current) params.set('source', state.current.id);
  if ($('filter-code').value) params.set('code', $('filter-code').value);
  if ($('filter-unreviewed').checked) params.set('unreviewed', '1');
  const q = await api(`/api/queue?${params}`);
  state.queue.ids = q.segment_ids;
  state.queue.pos = state.selectedId ? q.segment_ids.indexOf(state.selectedId) : -1;
  state.queue.endOf = null;
  showQueueSize();
  if (!jump) return;
  if (q.segment_ids.length) await select(q.segment_ids[0]);
  else say('Nothing in the queue with these filters.');
}

function showQueueSize() {
  const n = state.queue.ids.length;
  const where = allSources() || !state.current ? 'all sources' : state.current.name;
  $('queue-size').textContent = `${n} in queue (${where})`;
}

/** j / k: walk the queue; at the end of a source's queue, a second j opens the next source. */
async function step(delta) {
  const q = state.queue;
  const next = q.pos < 0 && delta < 0 ? -1 : q.pos + delta;
  if (next < 0) {
    say('This is the start of the queue.');
    return;
  }
  if (next < q.ids.length) {
    q.pos = next;
    await select(q.ids[next]);
    return;
  }
  await endOfQueue();
}

async function endOfQueue() {
  const q = state.queue;
  const cur = state.current;
  if (allSources() || !cur) {
    say('End of the queue: nothing further with these filters.');
    return;
  }
  const onward = nextSourceWithWork(cur.id);
  if (!onward) {
    say(`End of the queue for ${cur.name}; no other source has segments left to review.`);
    return;
  }
  if (q.endOf !== cur.id) {
    q.endOf = cur.id;
    say(`End of the queue for ${cur.name}. Press j to go on to ${onward.name}.`);
    return;
  }
  await openSource(onward.id);
  await reloadQueue(true);
}

function nextSourceWithWork(id) {
  const list = state.sources;
  const here = list.findIndex((s) => s.id === id);
  const onlyOpen = $('filter-unreviewed').checked;
  for (let i = 1; i < list.length; i += 1) {
    const s = list[(here + i) % list.length];
    if (!onlyOpen || s.reviewed < s.segments) return s;
  }
  return null;
}

/* ---------- deciding ---------- */

/** POST one decision for the selected segment, show it in place, then go to the next. */
async function decide(verdict, code = null) {
  const seg = selectedSegment();
  if (!seg) {
    say('Select a segment first: click it, or press j.');
    return;
  }
  const body = {segment_id: seg.id, verdict, code};
  const note = state.notes.get(seg.id);
  if (note) body.note = note;
  const res = await api('/api/decisions', body);
  state.notes.delete(seg.id);
  applySegment(res.segment || {...seg, decision: {codes: code ? [code] : [], note: note || ''}});
  const codes = (res.segment && res.segment.decision) ? res.segment.decision.codes : [];
  say(`Saved: ${codes.length ? codes.map(codeName).join(', ') : 'none of these codes'} — “${snippet(seg.text)}”`);
  refreshCounts();
  leaveDecided(seg.id);
  await step(1);
}

/** Move the queue cursor so that the next step lands on what followed the decided segment. */
function leaveDecided(id) {
  const q = state.queue;
  const place = q.ids.indexOf(id);
  if (place < 0) return; // it was picked by a click: carry on from the last queue place
  if ($('filter-unreviewed').checked) {
    q.ids.splice(place, 1); // the server leaves it out too now
    q.pos = place - 1;
    showQueueSize();
  } else {
    q.pos = place;
  }
}

function accept(key) {
  const seg = selectedSegment();
  const suggestion = seg && seg.suggestions.find((s) => s.key === key);
  if (seg && !suggestion) {
    say(`There is no suggestion ${key} for this segment.`);
    return null;
  }
  return decide('accept', suggestion ? suggestion.code : null);
}

async function undo() {
  const res = await api('/api/undo', {});
  if (!res.segment_id) {
    say('Nothing to undo.');
    return;
  }
  const id = res.segment_id;
  const sourceId = sourceOfSegment(id);
  if (sourceId && state.current && sourceId !== state.current.id) await openSource(sourceId);
  if (!state.current.segs.has(id)) await state.current.ready;
  await refetchSegment(id);
  await reloadQueue(false);
  await select(id);
  refreshCounts();
  const seg = selectedSegment();
  say(`Undid your decision on “${snippet(seg ? seg.text : id)}”`);
}

/* ---------- the panel ---------- */

function renderPanel(seg) {
  $('panel-empty').hidden = Boolean(seg);
  $('panel-body').hidden = !seg;
  if (!seg) return;
  const source = state.current;
  $('seg-meta').textContent = [seg.speaker, seg.role, source && source.name].filter(Boolean).join(' · ');
  const text = $('seg-text');
  text.textContent = seg.text;
  text.lang = (source && source.language) || '';
  renderSuggestions(seg);
  renderDefinition(seg);
  renderDecision(seg);
  renderOthers(seg);
  for (const key of [1, 2, 3]) {
    const s = seg.suggestions.find((x) => x.key === key);
    const button = $(`btn-accept-${key}`);
    button.disabled = !s;
    button.setAttribute('aria-label', s ? `Accept suggestion ${key}: ${s.name || codeName(s.code)}`
                                        : `No suggestion ${key}`);
  }
  $('note').value = state.notes.get(seg.id) || '';
  closePicker();
}

function renderSuggestions(seg) {
  const confirmed = new Set(seg.decision ? seg.decision.codes : []);
  $('suggestions').replaceChildren(...seg.suggestions.map((s) => {
    const theme = state.themes.get(s.theme) || {};
    const li = el('li', 'suggestion');
    li.dataset.key = String(s.key);
    li.dataset.codeId = s.code;
    li.style.setProperty('--tint', rgbOf(theme.color));
    if (seg.decision) li.classList.add(confirmed.has(s.code) ? 'confirmed' : 'rejected');
    if (s.score < state.session.threshold) li.classList.add('below');
    const head = el('div', 'suggestion-head');
    const bar = el('span', 'score-bar');
    const fill = el('span', 'score-fill');
    fill.style.width = `${Math.round(Math.max(0, Math.min(1, s.score)) * 100)}%`;
    bar.append(fill);
    head.append(el('kbd', null, s.key), el('span', 'code-name', s.name || codeName(s.code)),
                el('span', 'theme-name', theme.name || s.theme), bar, el('span', 'score', score2(s.score)));
    li.append(head);
    const best = (s.evidence || [])[0];
    if (best) {
      const ev = el('div', 'evidence');
      ev.append(el('span', 'evidence-text', `“${best.text}”`),
                el('span', 'evidence-sim', ` similarity ${score2(best.similarity)}`));
      li.append(ev);
    }
    li.addEventListener('mouseenter', () => showDefinitionFor(s.key));
    return li;
  }));
  if (!seg.suggestions.length) $('suggestions').append(el('li', 'placeholder', 'No suggestions.'));
}

function showDefinitionFor(key) {
  if (state.hoverKey === key) return;
  state.hoverKey = key;
  const seg = selectedSegment();
  if (seg) renderDefinition(seg);
}

/** Definition, include / exclude notes and examples of the hovered (or first) suggestion. */
function renderDefinition(seg) {
  const box = $('definition');
  const key = state.hoverKey || 1;
  const s = seg.suggestions.find((x) => x.key === key) || seg.suggestions[0];
  const entry = s && state.codes.get(s.code);
  box.hidden = !entry;
  if (!entry) return;
  const {code, theme} = entry;
  box.dataset.codeId = code.id;
  const title = el('h4');
  title.append(el('span', 'code-name', code.name), el('span', 'theme-name', ` ${theme.name}`));
  const parts = [title, el('p', 'definition-text', code.definition || '')];
  const list = (label, items) => {
    if (!items || !items.length) return;
    parts.push(el('div', 'label', label));
    const ul = el('ul');
    ul.append(...items.map((x) => el('li', null, x)));
    parts.push(ul);
  };
  list('Include when', code.include);
  list('Exclude when', code.exclude);
  list('Examples', (code.examples || []).slice(0, 3));
  box.replaceChildren(...parts);
}

function renderDecision(seg) {
  const box = $('decision');
  const parts = [];
  if (seg.decision) {
    const codes = seg.decision.codes.map(codeName).join(', ');
    box.classList.add('reviewed');
    parts.push(el('div', null, `✓ Your decision: ${codes || 'none of these codes'}`));
    if (seg.decision.note) parts.push(el('div', 'meta', `Note: ${seg.decision.note}`));
  } else {
    box.classList.remove('reviewed');
    parts.push(el('div', 'meta', 'Not reviewed yet.'));
  }
  const kept = state.notes.get(seg.id);
  if (kept) parts.push(el('div', 'meta', `Note kept for your next decision: ${kept}`));
  box.replaceChildren(...parts);
}

/** Other coders' decisions, grouped by coder; never shown in a blind session. */
function renderOthers(seg) {
  const box = $('others');
  const others = state.session.blind ? [] : (seg.others || []);
  box.hidden = !others.length;
  if (!others.length) {
    box.replaceChildren();
    return;
  }
  const byCoder = new Map();
  for (const o of others) {
    if (!byCoder.has(o.coder)) byCoder.set(o.coder, []);
    byCoder.get(o.coder).push(o);
  }
  const ul = el('ul');
  for (const [coder, list] of byCoder) {
    const marks = list.map((o) => `${o.verdict === 'reject' ? '✗' : '✓'} ${codeName(o.code)}`);
    const li = el('li', null, `${coder}: ${marks.join(' · ')}`);
    li.dataset.coder = coder;
    ul.append(li);
  }
  box.replaceChildren(el('div', 'label', 'Other coders'), ul);
}

/* ---------- the code picker ---------- */

/** Codes matching the query: id or name first, then definition; codebook order within. */
function matchCodes(query) {
  const q = query.trim().toLowerCase();
  if (!q) return state.codeList.slice(0, 80);
  const ranked = [];
  state.codeList.forEach((entry, i) => {
    const id = entry.code.id.toLowerCase();
    const name = entry.code.name.toLowerCase();
    let rank = -1;
    if (id === q || name === q) rank = 0;
    else if (id.startsWith(q) || name.startsWith(q)) rank = 1;
    else if (id.includes(q) || name.includes(q)) rank = 2;
    else if ((entry.code.definition || '').toLowerCase().includes(q)) rank = 3;
    if (rank >= 0) ranked.push({entry, rank, i});
  });
  ranked.sort((a, b) => a.rank - b.rank || a.i - b.i);
  return ranked.slice(0, 80).map((r) => r.entry);
}

function openPicker() {
  const input = $('picker');
  if (!selectedSegment()) {
    say('Select a segment first: click it, or press j.');
    return;
  }
  input.focus();
  renderPickerList();
}

function closePicker() {
  $('picker-list').hidden = true;
  $('picker').setAttribute('aria-expanded', 'false');
  $('picker').removeAttribute('aria-activedescendant');
}

function renderPickerList() {
  const list = $('picker-list');
  const p = state.picker;
  p.items = matchCodes($('picker').value);
  p.active = Math.min(p.active, Math.max(0, p.items.length - 1));
  list.replaceChildren(...p.items.map(({code, theme}, i) => {
    const li = el('li', 'picker-item');
    li.id = `pick-${i}`;
    li.dataset.codeId = code.id;
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', String(i === p.active));
    li.classList.toggle('active', i === p.active);
    const swatch = el('span', 'swatch');
    swatch.style.setProperty('--tint', rgbOf(theme.color));
    li.append(swatch, el('span', 'code-name', code.name), el('span', 'code-id', code.id),
              el('span', 'theme-name', theme.name));
    return li;
  }));
  if (!p.items.length) list.append(el('li', 'placeholder', 'No code matches.'));
  list.hidden = false;
  $('picker').setAttribute('aria-expanded', 'true');
  if (p.items.length) $('picker').setAttribute('aria-activedescendant', `pick-${p.active}`);
  const active = list.querySelector('.active');
  if (active) active.scrollIntoView({block: 'nearest'});
}

/** Enter or click on a code: send `correct` with it, then go on. */
function choosePicked(codeId) {
  const input = $('picker');
  input.value = '';
  state.picker.active = 0;
  closePicker();
  input.blur();
  run(() => decide('correct', codeId));
}

function onPickerKey(event) {
  const p = state.picker;
  if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault();
    const n = p.items.length;
    if (n) p.active = (p.active + (event.key === 'ArrowDown' ? 1 : n - 1)) % n;
    renderPickerList();
  } else if (event.key === 'Enter') {
    event.preventDefault();
    if (p.items[p.active]) choosePicked(p.items[p.active].code.id);
  } else if (event.key === 'Escape') {
    event.preventDefault();
    event.target.value = '';
    closePicker();
    event.target.blur();
  }
}

/* ---------- the note ---------- */

function onNoteKey(event) {
  const input = event.target;
  const seg = selectedSegment();
  if (event.key === 'Enter') {
    event.preventDefault();
    if (!seg) return;
    const text = input.value.trim().replace(/\s+/g, ' ');
    if (text) state.notes.set(seg.id, text);
    else state.notes.delete(seg.id);
    input.blur();
    renderDecision(seg);
    say(text ? 'Note kept: it is saved with your next decision on this segment.' : 'Note cleared.');
  } else if (event.key === 'Escape') {
    event.preventDefault(); // leave the note as it was kept
    input.value = (seg && state.notes.get(seg.id)) || '';
    input.blur();
  }
}

/* ---------- keys and mouse ---------- */

function isTyping(target) {
  if (!target || !target.tagName) return false;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable) return true;
  if (tag !== 'INPUT') return false;
  return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
}

const KEYS = {
  1: () => run(() => accept(1)),
  2: () => run(() => accept(2)),
  3: () => run(() => accept(3)),
  r: () => run(() => decide('reject')),
  c: () => openPicker(),
  n: () => (selectedSegment() ? $('note').focus() : say('Select a segment first.')),
  u: () => run(undo),
  j: () => run(() => step(1)),
  k: () => run(() => step(-1)),
};

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return; // the browser's shortcuts
  if (isTyping(event.target) || $('signin-dialog').open) return;
  const action = KEYS[event.key];
  if (!action) return;
  event.preventDefault(); // e.g. keep `c` out of the picker it opens
  action();
}

function bindControls() {
  document.addEventListener('keydown', onKey);
  $('transcript').addEventListener('click', (event) => {
    const hit = event.target.closest('.segment, .badge');
    if (!hit) return;
    if (String(window.getSelection() || '')) return; // the reader is selecting text to copy
    const id = hit.dataset.segmentId || hit.dataset.badgeFor;
    run(() => select(id));
  });
  $('sources').addEventListener('click', (event) => {
    const li = event.target.closest('li[data-source-id]');
    if (li) run(() => showSourceFromList(li.dataset.sourceId));
  });
  for (const key of [1, 2, 3]) {
    const button = $(`btn-accept-${key}`);
    button.addEventListener('click', () => run(() => accept(key)));
    button.addEventListener('mouseenter', () => showDefinitionFor(key));
  }
  $('btn-reject').addEventListener('click', () => run(() => decide('reject')));
  $('btn-correct').addEventListener('click', openPicker);
  $('btn-undo').addEventListener('click', () => run(undo));
  $('btn-next').addEventListener('click', () => run(() => step(1)));
  $('btn-prev').addEventListener('click', () => run(() => step(-1)));
  const picker = $('picker');
  picker.addEventListener('focus', renderPickerList);
  picker.addEventListener('input', () => { state.picker.active = 0; renderPickerList(); });
  picker.addEventListener('keydown', onPickerKey);
  picker.addEventListener('blur', closePicker);
  // mousedown, not click: a click would blur the input (closing the list) before it lands
  $('picker-list').addEventListener('mousedown', (event) => {
    const li = event.target.closest('li[data-code-id]');
    if (!li) return;
    event.preventDefault();
    choosePicked(li.dataset.codeId);
  });
  $('note').addEventListener('keydown', onNoteKey);
  for (const id of ['order', 'filter-code', 'filter-unreviewed']) {
    $(id).addEventListener('change', (event) => {
      event.target.blur(); // give the keys back to the review
      run(() => reloadQueue(true));
    });
  }
  $('filter-all-sources').addEventListener('change', (event) => {
    event.target.blur();
    run(() => reloadQueue(!state.selectedId));
  });
}

/** A click in the sidebar: show that source and select the first of its queued segments. */
async function showSourceFromList(id) {
  await openSource(id);
  if (!allSources()) {
    await reloadQueue(true);
    return;
  }
  const first = state.queue.ids.find((sid) => sourceOfSegment(sid) === id);
  if (first) await select(first);
  showQueueSize();
}

document.addEventListener('DOMContentLoaded', start);
