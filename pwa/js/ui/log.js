// "My log": the screen the app opens on. The officer's own records by default, the team's on
// request, newest first and grouped by day, each with its sync receipt and review state in one
// badge. Drafts (forms left half-typed) come first; records that wait for the officer (returned
// by a supervisor, refused by the server) are counted in a banner. Search runs over the phone's
// own copy, so it works with no signal.

import { h, mount, focusHeading, icon, fmtTime, fmtDay, fmtStamp, confirmDialog } from './dom.js';
import { fieldLabel, formatValue } from './labels.js';
import { attentionText } from './syncbar.js';
import { listRecords, filterRecords, displayState, needsAttention, reviewState } from '../records.js';
import { listDrafts, dropDraft } from '../drafts.js';
import { readAlerts } from '../alerts.js';
import { alertList, loopLine } from './alertlist.js';

/** @type {Required<import('../records.js').LogFilter>} kept while the app runs */
const filter = { kind: '', from: '', to: '', scope: 'mine', attention: false, q: '' };
const PAGE = 50; // cards drawn at once: a team's year of records stays quick on a phone

/**
 * @param {HTMLElement} root
 * @param {import('../app.js').Context} ctx
 * @returns {Promise<() => void>} cleanup
 */
export async function renderLog(root, ctx) {
  const list = h('div', { class: 'log-list', id: 'log-list' });
  const countNote = h('p', { class: 'count-note', 'aria-live': 'polite' });
  const attention = h('div', { class: 'attention-slot' });
  const drafts = h('div', { class: 'drafts-slot' });
  const alerts = h('div', { class: 'alerts-slot' });
  let shown = PAGE;
  const redraw = () => { shown = PAGE; void draw(); };
  const search = searchBox(redraw);
  const filters = filterPanel(ctx, redraw);
  const scope = scopeSwitch(redraw);

  const screen = h('section', { class: 'screen log' },
    h('div', { class: 'screen-head' },
      h('h1', {}, 'My log'),
      h('button', { type: 'button', class: 'btn primary new-record', onclick: () => ctx.navigate('#/new') }, icon('plus'), 'New record')),
    drafts,
    attention,
    alerts,
    search,
    scope,
    filters.el,
    countNote,
    list);

  const kindTitle = (code) => ctx.schema?.kinds.find((k) => k.code === code)?.title ?? '';
  let drawing = Promise.resolve();
  function draw() {
    drawing = drawing.then(async () => {
      const [all, saved, stored] = await Promise.all([listRecords(ctx.db, ctx.session.userId), listDrafts(ctx.db, ctx.session.userId),
        readAlerts(ctx.db, ctx.session.userId).catch(() => null)]);
      mount(drafts, draftList(saved, ctx, () => void draw()));
      mount(alerts, alertList(stored, all, ctx, (id) => void reveal(id, list, search, () => { shown = Infinity; return draw(); })));
      const waiting = all.filter(needsAttention).length;
      if (!waiting) filter.attention = false; // all fixed: back to the whole list
      mount(attention, attentionBanner(waiting, redraw));
      for (const input of scope.querySelectorAll('input')) input.checked = input.value === filter.scope;
      scope.hidden = filter.attention; // the attention view is the officer's own records
      const rows = filterRecords(all, filter, kindTitle);
      const narrowed = filters.active() + (filter.q.trim() ? 1 : 0);
      filters.update();
      countNote.textContent = narrowed ? `${rows.length} ${rows.length === 1 ? 'record matches' : 'records match'}` : '';
      if (!rows.length) {
        mount(list, emptyLog(all.length > 0, narrowed > 0));
        return;
      }
      const priorities = new Map(all.filter((r) => r.kind === 'local_priority').map((r) => [r.id, r.fields.title]));
      mount(list, dayGroups(rows, shown, { ...ctx, priorities }, () => { shown += PAGE; void draw(); }));
    });
    return drawing;
  }

  // The screen appears with its first records and banner in place, so nothing jumps down.
  await draw();
  mount(root, screen);
  focusHeading(root);
  return ctx.onData(() => void draw());
}

/**
 * An alert's record: show the whole team's log, unfiltered and in full, and move to its card.
 * @param {string} id @param {HTMLElement} list @param {HTMLElement} search @param {() => Promise<void>} drawAll
 */
async function reveal(id, list, search, drawAll) {
  Object.assign(filter, { scope: 'team', attention: false, kind: '', from: '', to: '', q: '' });
  for (const input of [search.querySelector('input'), ...document.querySelectorAll('#f-kind, #f-from, #f-to')]) {
    /** @type {HTMLInputElement} */ (input).value = '';
  }
  await drawAll();
  const target = /** @type {HTMLElement|null} */ (list.querySelector(`li.card[data-id="${CSS.escape(id)}"] article`));
  if (!target) return;
  target.setAttribute('tabindex', '-1');
  target.scrollIntoView({ block: 'center' });
  target.focus({ preventScroll: true });
}

/** Search over the phone's own records (offline). @param {() => void} redraw */
function searchBox(redraw) {
  let timer = null;
  const input = h('input', { id: 'f-q', type: 'search', value: filter.q, autocomplete: 'off', enterkeyhint: 'search',
    placeholder: 'Search records on this phone', oninput: () => {
      clearTimeout(timer);
      timer = setTimeout(() => { filter.q = input.value; redraw(); }, 150);
    } });
  return h('div', { class: 'search', role: 'search' },
    h('label', { for: 'f-q', class: 'sr-only' }, 'Search records on this phone'), icon('search'), input);
}

/** The filter panel: dates and kind. @param {import('../app.js').Context} ctx @param {() => void} redraw */
function filterPanel(ctx, redraw) {
  const kinds = ctx.schema?.kinds ?? [];
  const kindSelect = h('select', { id: 'f-kind', onchange: () => { filter.kind = kindSelect.value; redraw(); } },
    h('option', { value: '' }, 'All kinds'),
    kinds.map((k) => h('option', { value: k.code }, k.title)));
  kindSelect.value = filter.kind;
  const from = h('input', { id: 'f-from', type: 'date', value: filter.from, onchange: () => { filter.from = from.value; redraw(); } });
  const to = h('input', { id: 'f-to', type: 'date', value: filter.to, onchange: () => { filter.to = to.value; redraw(); } });
  const active = () => [filter.kind, filter.from, filter.to].filter(Boolean).length;
  const summary = h('summary', {}, 'Filter');
  const el = h('details', { class: 'filters', open: active() > 0 },
    summary,
    h('div', { class: 'filter-grid' },
      h('div', { class: 'field' }, h('label', { for: 'f-from' }, 'From'), from),
      h('div', { class: 'field' }, h('label', { for: 'f-to' }, 'To'), to),
      h('div', { class: 'field wide' }, h('label', { for: 'f-kind' }, 'Filter by kind'), kindSelect),
      h('button', { type: 'button', class: 'btn secondary', onclick: () => {
        filter.kind = ''; filter.from = ''; filter.to = '';
        kindSelect.value = ''; from.value = ''; to.value = '';
        redraw();
      } }, 'Clear filter')));
  const update = () => { summary.textContent = active() ? `Filter (${active()} on)` : 'Filter'; };
  return { el, active, update };
}

/** Whose records: the heading says "My log", so the officer's own by default. @param {() => void} redraw */
function scopeSwitch(redraw) {
  const option = (value, label) => h('label', { class: 'seg-option' },
    h('input', { type: 'radio', name: 'scope', value, checked: filter.scope === value, onchange: () => {
      filter.scope = /** @type {'mine'|'team'} */ (value);
      redraw();
    } }),
    h('span', {}, label));
  return h('fieldset', { class: 'scope' },
    h('legend', { class: 'sr-only' }, 'Show records'),
    h('div', { class: 'seg' }, option('mine', 'Mine'), option('team', 'Whole team')));
}

/** @param {number} count own records waiting for the officer @param {() => void} redraw */
function attentionBanner(count, redraw) {
  const toggle = (on) => () => { filter.attention = on; redraw(); };
  if (filter.attention) {
    return h('div', { class: 'attention on' }, icon('alert'),
      h('p', {}, `Showing only your ${count === 1 ? 'record that needs' : `${count} records that need`} your attention.`),
      h('button', { type: 'button', class: 'btn secondary small', onclick: toggle(false) }, 'Show all'));
  }
  if (!count) return null;
  return h('button', { type: 'button', class: 'attention', onclick: toggle(true) }, icon('alert'),
    h('span', { class: 'attention-text' }, h('strong', {}, attentionText(count)),
      h('span', {}, 'Returned by your supervisor or not accepted by the server. Show them.')));
}

/**
 * Forms left half-typed, at the top of the log: continue or discard each.
 * @param {Array<{key: string, values: any, savedAt: string}>} saved
 * @param {import('../app.js').Context} ctx
 * @param {() => void} redraw
 */
function draftList(saved, ctx, redraw) {
  if (!saved.length) return null;
  const kindTitle = (code) => ctx.schema?.kinds.find((k) => k.code === code)?.title;
  const item = (d) => {
    const editing = d.key.startsWith('edit:');
    const title = `${editing ? 'Unsaved edit' : 'Unsaved new record'}${kindTitle(d.values?.kind) ? `: ${kindTitle(d.values.kind)}` : ''}`;
    const titleId = `draft-${d.key.replace(/[^a-z0-9-]/gi, '')}`;
    return h('li', { class: 'card draft', dataset: { draft: d.key } },
      h('article', { 'aria-labelledby': titleId },
        h('div', { class: 'card-top' }, h('h3', { id: titleId }, title), h('span', { class: 'badge draft' }, icon('edit'), 'Draft')),
        h('p', { class: 'card-meta' }, `Last typed ${fmtStamp(d.savedAt)} · not saved yet`),
        d.values?.summary ? h('p', { class: 'card-summary' }, d.values.summary) : null,
        h('div', { class: 'card-actions' },
          h('button', { type: 'button', class: 'btn primary small', 'aria-describedby': titleId,
            onclick: () => ctx.navigate(editing ? `#/edit/${d.key.slice(5)}` : '#/new') }, icon('edit'), 'Continue'),
          h('button', { type: 'button', class: 'btn ghost small', 'aria-describedby': titleId, onclick: async () => {
            const ok = await confirmDialog({ title: 'Discard this draft?', body: 'What you typed is thrown away. Nothing was saved or sent from it.',
              actions: [{ label: 'Keep it', value: false }, { label: 'Discard draft', value: true, kind: 'danger' }] });
            if (!ok) return;
            await dropDraft(ctx.db, ctx.session.userId, d.key);
            redraw();
          } }, icon('trash'), 'Discard'))));
  };
  return h('section', { class: 'drafts', 'aria-labelledby': 'drafts-h' },
    h('h2', { class: 'day', id: 'drafts-h' }, saved.length === 1 ? 'Draft' : `Drafts · ${saved.length}`),
    h('ol', { class: 'cards' }, saved.map(item)));
}

/** @param {boolean} phoneHasRecords @param {boolean} narrowed */
function emptyLog(phoneHasRecords, narrowed) {
  const teamHas = filter.scope === 'mine' && !narrowed && phoneHasRecords;
  return h('div', { class: 'empty' },
    h('p', { class: 'empty-title' }, narrowed ? 'No records match.' : teamHas ? 'No records of yours yet.' : 'No records yet.'),
    narrowed ? null : h('p', {}, 'Tap “New record” to log an engagement. It is saved on this phone at once, with or without a signal.'),
    teamHas ? h('p', {}, 'Your team’s records are under “Whole team”.') : null);
}

/**
 * Cards under a heading per day ("Today · 3 records"), the first `shown` of them.
 * @param {import('../records.js').LocalRecord[]} rows
 * @param {number} shown
 * @param {import('../app.js').Context} ctx
 * @param {() => void} more
 */
function dayGroups(rows, shown, ctx, more) {
  const perDay = new Map();
  for (const r of rows) {
    const label = fmtDay(r.occurred_at);
    perDay.set(label, (perDay.get(label) ?? 0) + 1);
  }
  const groups = [];
  let day = null;
  for (const r of rows.slice(0, shown)) {
    const label = fmtDay(r.occurred_at);
    if (label !== day) {
      day = label;
      const n = perDay.get(label);
      groups.push(h('h2', { class: 'day' }, label, h('span', { class: 'day-count' }, ` · ${n} ${n === 1 ? 'record' : 'records'}`)));
      groups.push(h('ol', { class: 'cards' }));
    }
    groups[groups.length - 1].append(card(r, ctx));
  }
  if (rows.length > shown) {
    groups.push(h('button', { type: 'button', class: 'btn secondary block', onclick: more },
      `Show older records (${rows.length - shown} more)`));
  }
  return groups;
}

/**
 * @param {import('../records.js').LocalRecord} r
 * @param {import('../app.js').Context} ctx
 */
function card(r, ctx) {
  const f = r.fields;
  const kind = ctx.schema?.kinds.find((k) => k.code === f.kind);
  const titleId = `rec-${r.id}`;
  const metaBits = [
    fmtTime(f.occurred_at),
    f.place,
    typeof f.people_count === 'number' ? `${f.people_count} ${f.people_count === 1 ? 'person' : 'people'}` : null,
    f.location ? 'location added' : null,
    r.mine ? null : (r.server?.officer?.display_name ?? 'Team member'),
  ].filter(Boolean);
  const state = displayState(r);
  return h('li', { class: `card state-${state}`, dataset: { id: r.id } },
    h('article', { 'aria-labelledby': titleId },
      h('div', { class: 'card-top' },
        h('h3', { id: titleId }, kind?.title ?? f.kind ?? 'Record'),
        badge(r, state)),
      // The supervisor's words come first: they are what the officer has to act on.
      reviewNotice(r, state),
      h('p', { class: 'card-meta' }, metaBits.join(' · ')),
      h('p', { class: 'card-summary' }, f.summary ?? ''),
      loopLine(f, ctx),
      r.receipt.state === 'rejected' ? rejectedNotice(r) : null,
      r.receipt.conflicts.length ? conflictNotice(r, ctx) : null,
      r.mine ? cardActions(r, state, titleId, ctx) : null));
}

/** Who returned it and when, with their words; or, once fixed, that it is back with them. */
function reviewNotice(/** @type {import('../records.js').LocalRecord} */ r, state) {
  const review = r.server?.review;
  if (!review) return null;
  const who = review.by?.display_name;
  const when = review.at ? `, ${fmtStamp(review.at)}` : '';
  if (review.state === 'returned') {
    const title = r.mine ? `Returned by your supervisor${who ? `, ${who}` : ''}${when}` : `Returned to the officer by ${who ?? 'a supervisor'}${when}`;
    return h('div', { class: 'notice review' }, icon('comment'),
      h('div', {}, h('strong', {}, title),
        review.comment ? h('blockquote', { class: 'review-comment' }, review.comment) : null,
        r.mine ? h('p', {}, state === 'pending' ? 'Your fix syncs and goes back for review.' : 'Edit the record and it goes back for review.') : null));
  }
  // Fixed after a return (a comment is only ever required to return): say it is back with them.
  if (r.mine && state !== 'pending' && reviewState(review) === 'resubmitted' && review.comment) {
    return h('div', { class: 'notice info resubmitted' }, icon('check'),
      h('div', {}, h('strong', {}, `Fixed and back with ${who ?? 'your supervisor'} for review`),
        h('p', {}, `You changed it after it was returned${when}.`)));
  }
  return null;
}

function rejectedNotice(/** @type {import('../records.js').LocalRecord} */ r) {
  return h('div', { class: 'notice bad', role: 'group', 'aria-label': 'Server’s reasons' }, icon('alert'),
    h('div', {}, h('strong', {}, 'Not accepted by the server — fix and save again'),
      h('ul', { class: 'errors' }, Object.entries(r.receipt.errors ?? {}).map(([field, msgs]) =>
        h('li', {}, h('span', { class: 'err-field' }, `${fieldLabel(field)}: `), [].concat(msgs).join(' '))))));
}

function conflictNotice(/** @type {import('../records.js').LocalRecord} */ r, ctx) {
  return h('div', { class: 'notice conflict' }, icon('split'),
    h('div', {}, h('strong', {}, 'Edited on two devices at once — both values kept for your supervisor'),
      h('ul', { class: 'conflicts' }, r.receipt.conflicts.map((c) =>
        h('li', {}, h('span', { class: 'err-field' }, `${fieldLabel(c.field)}: `),
          'shown ', h('q', { class: 'val' }, formatValue(c.field, c.winner.value, ctx.schema)),
          ', also recorded ', h('q', { class: 'val' }, formatValue(c.field, c.loser.value, ctx.schema)))))));
}

/** Edit and Delete; the delete dialog says what will happen to this record. */
function cardActions(/** @type {import('../records.js').LocalRecord} */ r, state, titleId, ctx) {
  const fixable = state === 'returned' || state === 'rejected';
  return h('div', { class: 'card-actions' },
    h('button', { type: 'button', class: `btn ${fixable ? 'primary' : 'secondary'} small`, 'aria-describedby': titleId, onclick: () => ctx.navigate(`#/edit/${r.id}`) }, icon('edit'), 'Edit'),
    h('button', { type: 'button', class: 'btn ghost small', 'aria-describedby': titleId, onclick: async () => {
      const onServer = await ctx.onServer(r.id);
      const ok = await confirmDialog({
        title: 'Delete this record?',
        body: onServer
          ? 'It leaves your log now. The server has it, so this phone tells the server to delete it at the next sync; your supervisor can still see that it existed. You can undo for a few seconds.'
          : 'It has not reached the server yet, so it is removed from this phone and nothing is sent. You can undo for a few seconds.',
        actions: [{ label: 'Cancel', value: false }, { label: 'Delete', value: true, kind: 'danger' }],
      });
      if (ok) await ctx.deleteRecord(r.id);
    } }, icon('trash'), 'Delete'));
}

const REVIEW_WORDS = { waiting: 'Waiting for review', approved: 'Approved', returned: 'Sent back', resubmitted: 'Back with supervisor' };

/**
 * One badge: where the record is (on the phone, refused, sent back) and, once on the server,
 * when it first reached it and its review.
 * @param {import('../records.js').LocalRecord} r
 * @param {ReturnType<typeof displayState>} s
 */
function badge(r, s) {
  if (s === 'pending') return h('span', { class: 'badge pending' }, icon('clock'), 'Pending');
  if (s === 'rejected') return h('span', { class: 'badge rejected' }, icon('alert'), 'Needs attention');
  if (s === 'returned') return h('span', { class: 'badge returned' }, icon('comment'), r.mine ? 'Sent back — needs your fix' : 'Sent back');
  if (s === 'conflict') return h('span', { class: 'badge conflict' }, icon('split'), 'Conflict');
  const review = reviewState(r.server?.review);
  const at = fmtStamp(r.receipt.at);
  // Each half wraps as a unit on a narrow card: "Synced 11:48 ·" over "Waiting for review".
  return h('span', { class: `badge synced review-${review}` }, icon('check'),
    h('span', { class: 'badge-text' }, h('span', { class: 'nowrap' }, `${at ? `Synced ${at}` : 'Synced'} ·`), ' ',
      h('span', { class: 'nowrap' }, REVIEW_WORDS[review])));
}
