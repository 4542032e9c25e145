// "Alerts from the last sync" at the top of My log: what the server's rules flagged for the
// officer's team (a priority past its review date, a standard falling short...), kept on the
// phone so it reads the same with no signal. Each names the records behind it the phone has.
// Also the line a log card shows of a record's place in the loop.

import { h, fmtDay, fmtStamp } from './dom.js';

/**
 * @param {import('../alerts.js').StoredAlerts|null} stored
 * @param {import('../records.js').LocalRecord[]} records the phone's records
 * @param {import('../app.js').Context} ctx
 * @param {(id: string) => void} show bring a record's card into view
 */
export function alertList(stored, records, ctx, show) {
  if (!stored?.alerts?.length) return null;
  const byId = new Map(records.filter((r) => !r.deleted).map((r) => [r.id, r]));
  const kindTitle = (code) => ctx.schema?.kinds.find((k) => k.code === code)?.title ?? 'Record';
  const link = (r) => {
    // Kind (or a priority's title), when and, for a team member's record, whose.
    const who = r.mine ? '' : `, ${r.server?.officer?.display_name ?? 'team member'}`;
    const words = `${r.fields?.title || kindTitle(r.kind)}, ${fmtStamp(r.occurred_at)}${who}`;
    // The officer's own records open in the form (the app's record view); others show in the log.
    return r.mine
      ? h('a', { href: `#/edit/${encodeURIComponent(r.id)}` }, words)
      : h('button', { type: 'button', class: 'linklike', onclick: () => show(r.id) }, words);
  };
  const item = (a, i) => {
    const have = a.record_ids.map((id) => byId.get(id)).filter(Boolean);
    const missing = a.record_ids.length - have.length;
    const titleId = `alert-${i}`;
    return h('li', { class: 'alert-item' },
      h('article', { 'aria-labelledby': titleId },
        h('h3', { id: titleId }, a.title),
        a.detail ? h('p', {}, a.detail) : null,
        a.due ? h('p', { class: 'card-meta' }, `Due ${fmtDay(`${a.due}T12:00:00`).replace(/^(Today|Yesterday)$/, (d) => d.toLowerCase())}`) : null,
        have.length ? h('ul', { class: 'alert-records', 'aria-label': 'Records behind it' }, have.map((r) => h('li', {}, link(r)))) : null,
        missing > 0 ? h('p', { class: 'hint' }, `${missing === 1 ? 'One record' : `${missing} records`} behind it ${missing === 1 ? 'is' : 'are'} not on this phone.`) : null));
  };
  return h('section', { class: 'alerts', 'aria-labelledby': 'alerts-h' },
    h('h2', { id: 'alerts-h' }, `Alerts from the last sync, ${fmtStamp(stored.at)}`),
    h('ol', { class: 'alert-items' }, stored.alerts.map(item)));
}

const STATUS_WORDS = { open: 'Open', in_progress: 'In progress', resolved: 'Resolved', closed: 'Closed without action' };

/**
 * A card's line about the loop: a priority's title and status, the priority a record is for,
 * the concerns it raised. Null for a record outside the loop.
 * @param {Object<string, any>} f the record's fields
 * @param {{schema: any, priorities?: Map<string, string>}} ctx
 */
export function loopLine(f, ctx) {
  const bits = [];
  if (f.kind === 'local_priority') bits.push(`${f.title || 'Priority'} · ${STATUS_WORDS[f.priority_status] ?? 'Open'}`);
  else if (f.priority_id) bits.push(`For priority: ${ctx.priorities?.get(f.priority_id) || 'not on this phone'}`);
  const cats = [...new Set((f.concerns ?? []).map((c) => ctx.schema?.concern_categories?.find((k) => k.code === c.category)?.title ?? c.category))];
  if (cats.length) bits.push(`Concerns: ${cats.join(', ')}`);
  if (f.kind === 'feedback' && f.priority_id && f.public) bits.push('Shared on the public page');
  return bits.length ? h('p', { class: 'card-loop' }, bits.join(' · ')) : null;
}
