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
    const { text, sub, tone, glyph } = describe(s, ctx.online(), ctx.now());
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
  // The app's one clock: "This phone" shows the same "synced 1 min ago" at the same moment.
  const untick = ctx.onTick(() => draw(ctx.engine.status));
  return () => { unsubscribe(); untick(); };
}

/** "2 records" @param {number} n */
export const records = (n) => `${n} ${n === 1 ? 'record' : 'records'}`;

/** "2 records need your attention": the words of the bar and of the log's banner. @param {number} n */
export const attentionText = (n) => `${records(n)} ${n === 1 ? 'needs' : 'need'} your attention`;

/**
 * Words for a sync status. Counts are records the officer recognises, not changes: two edits of
 * one record are one record waiting. The detail line is kept short enough for a 360 px phone.
 * @param {import('../sync.js').SyncStatus} s
 * @param {boolean} online
 * @param {number} [nowMs]
 */
export function describe(s, online, nowMs = Date.now()) {
  const waiting = s.waiting - s.rejected;
  const waitText = waiting > 0 ? `${records(waiting)} waiting` : '';
  // The banner's count (refused and returned records), in fewer words. The main line is what is
  // not on the server yet, so returned records alone go in the detail line.
  const attention = s.attention ?? s.rejected;
  const needs = attention > 0 ? `${attention} ${attention === 1 ? 'needs' : 'need'} attention` : '';
  const counts = [waitText, s.rejected > 0 ? needs : ''].filter(Boolean).join(' · ');
  const aside = s.rejected > 0 || !needs ? '' : `${needs} · `;
  const ago = fmtAgo(s.lastSuccess, nowMs);
  const lastText = `Last synced ${ago}`;
  if (s.state === 'auth') return { text: 'Sign in again to sync', sub: counts || 'Nothing waiting', tone: 'bad', glyph: 'user' };
  if (s.state === 'syncing') return { text: waiting ? `Syncing ${records(waiting)}…` : 'Syncing…', sub: lastText, tone: 'busy', glyph: 'sync' };
  if (!online || s.state === 'offline') return { text: counts || 'All saved on this phone', sub: `Offline · synced ${ago}`, tone: counts ? 'warn' : 'idle', glyph: 'offline' };
  if (s.state === 'retrying' && s.busy) return { text: counts || 'Server busy', sub: 'Server busy, will retry', tone: 'warn', glyph: 'clock' };
  if (s.state === 'retrying') return { text: counts || 'Could not sync', sub: 'No answer from the server · retrying', tone: 'warn', glyph: 'alert' };
  if (s.state === 'error') return { text: counts || 'Sync problem', sub: s.lastError ?? 'Sync stopped', tone: 'bad', glyph: 'alert' };
  if (s.rejected > 0) return { text: counts, sub: lastText, tone: 'bad', glyph: 'alert' };
  if (waiting > 0) return { text: counts, sub: `${aside}${lastText}`, tone: 'warn', glyph: 'clock' };
  return { text: 'All changes synced', sub: aside ? `${aside}last synced ${ago}` : lastText, tone: 'ok', glyph: 'check' };
}

/**
 * The server's reason for refusing the phone's sign-in, without its "Sign in again." (the app
 * says what to do in its own words).
 * @param {string} [reason]
 */
export function signInWhy(reason) {
  const why = String(reason ?? '').replace(/\s*Sign in again\.?\s*$/i, '').trim();
  return why || 'Your sign-in on this phone has ended.';
}

/**
 * Why records stay on the phone for now, or null when sync works. Said after "Saved on this
 * phone." and in the toast of a delete, so the officer never reads a plain "Saved." while
 * nothing can reach the server.
 * @param {import('../sync.js').SyncStatus} s
 * @param {boolean} online
 * @param {{needsSignIn?: boolean, signInReason?: string}|null} session
 * @returns {string|null}
 */
export function blockedReason(s, online, session) {
  if (session?.needsSignIn || s.state === 'auth') return `${signInWhy(session?.signInReason)} It syncs once you sign in again.`;
  if (!online || s.state === 'offline') return 'It will sync when there is a signal.';
  if (s.state === 'retrying' && s.busy) return 'The server is busy; the phone will retry.';
  if (s.state === 'retrying') return 'The server is not answering; the phone keeps trying.';
  if (s.state === 'error') return 'Sync has stopped for now; your supervisor may need to look at it.';
  return null;
}
