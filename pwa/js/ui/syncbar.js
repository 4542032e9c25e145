// The sync status line: what waits, when the last sync worked, and "Sync now".

import { h, mount, icon, fmtAgo } from './dom.js';

/**
 * @param {HTMLElement} bar
 * @param {import('../app.js').Context} ctx
 */
export function renderSyncBar(bar, ctx) {
  const line = h('p', { class: 'sync-line', id: 'sync-line', role: 'status' });
  const detail = h('p', { class: 'sync-detail', id: 'sync-detail' });
  const button = h('button', { type: 'button', class: 'btn sync-now', 'aria-describedby': 'sync-line', onclick: () => ctx.syncNow() }, icon('sync'), 'Sync now');
  const dot = h('span', { class: 'sync-icon', 'aria-hidden': 'true' });
  mount(bar, h('div', { class: 'sync-text' }, dot, h('div', {}, line, detail)), button);
  bar.hidden = false;

  let last = '';
  const draw = (s) => {
    const { text, sub, tone, glyph } = describe(s, ctx.online());
    // Only a real change of words goes to the live region: no chatter every tick.
    if (text !== last) {
      line.textContent = text;
      last = text;
    }
    detail.textContent = sub;
    bar.dataset.tone = tone;
    mount(dot, icon(glyph));
    button.disabled = s.state === 'syncing';
    button.classList.toggle('spinning', s.state === 'syncing');
  };
  const unsubscribe = ctx.engine.subscribe(draw);
  const tick = setInterval(() => draw(ctx.engine.status), 30_000);
  return () => { unsubscribe(); clearInterval(tick); };
}

/**
 * Words for a sync status.
 * @param {import('../sync.js').SyncStatus} s
 * @param {boolean} online
 */
export function describe(s, online) {
  const waiting = s.waiting - s.rejected;
  const waitText = waiting > 0 ? `${waiting} ${waiting === 1 ? 'change' : 'changes'} waiting` : '';
  const attention = s.rejected > 0 ? `${s.rejected} ${s.rejected === 1 ? 'needs' : 'need'} attention` : '';
  const counts = [waitText, attention].filter(Boolean).join(' · ');
  const lastText = `Last synced ${fmtAgo(s.lastSuccess)}`;
  if (s.state === 'auth') return { text: 'Sign in again to sync', sub: counts || 'Nothing waiting', tone: 'bad', glyph: 'user' };
  if (s.state === 'syncing') return { text: waiting ? `Syncing ${waitText.replace(' waiting', '')}…` : 'Syncing…', sub: lastText, tone: 'busy', glyph: 'sync' };
  if (!online || s.state === 'offline') return { text: counts || 'All saved on this phone', sub: `Offline · synced ${fmtAgo(s.lastSuccess)}`, tone: counts ? 'warn' : 'idle', glyph: 'offline' };
  if (s.state === 'retrying') return { text: counts || 'Could not sync', sub: `Server not reachable · retrying · ${lastText.toLowerCase()}`, tone: 'warn', glyph: 'alert' };
  if (s.state === 'error') return { text: counts || 'Sync problem', sub: s.lastError ?? 'Sync stopped', tone: 'bad', glyph: 'alert' };
  if (s.rejected > 0) return { text: counts, sub: lastText, tone: 'bad', glyph: 'alert' };
  if (waiting > 0) return { text: counts, sub: lastText, tone: 'warn', glyph: 'clock' };
  return { text: 'All changes synced', sub: lastText, tone: 'ok', glyph: 'check' };
}
