/* Beatbook service worker (a classic script, served from / so its scope is the whole app).
 *
 * - Precaches the app shell under a versioned cache; install waits for every file, so a
 *   half-cached version never takes over. Old versions' caches are removed on activate.
 * - Never touches /api: API calls go to the network and fail fast into the app's outbox.
 * - A new version waits until the app says SKIP_WAITING (the officer tapped Reload), so a
 *   record being typed is never cut off by an update.
 * - Background Sync (where the browser has it): an open app is asked to sync; with no app open
 *   the worker sends the queued changes itself. It only sends: the app learns the results on
 *   its next sync, when the server answers the same changes `duplicate` with their first result.
 */
'use strict';

const VERSION = '1.3.0'; // keep equal to js/version.js (a test checks)
const CACHE_PREFIX = 'beatbook-shell-';
const CACHE = `${CACHE_PREFIX}${VERSION}`;
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/js/api.js',
  '/js/app.js',
  '/js/db.js',
  '/js/drafts.js',
  '/js/hlc.js',
  '/js/merge.js',
  '/js/outbox.js',
  '/js/records.js',
  '/js/schema.js',
  '/js/session.js',
  '/js/storage.js',
  '/js/sync.js',
  '/js/version.js',
  '/js/ui/device.js',
  '/js/ui/dom.js',
  '/js/ui/form.js',
  '/js/ui/labels.js',
  '/js/ui/log.js',
  '/js/ui/signin.js',
  '/js/ui/syncbar.js',
];

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      // cache: 'reload' skips the HTTP cache so a new version never precaches old files.
      cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })))),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(CACHE_PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

const SHELL_PATHS = new Set(SHELL);

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Only the app's own files: /api stays network-only, and the console and public pages that
  // share this origin are never answered with the app.
  if (url.pathname.startsWith('/api/')) return;
  if (!SHELL_PATHS.has(url.pathname)) return;
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(url.pathname === '/' ? '/' : request, { ignoreSearch: true }))
      .then((hit) => hit || fetch(request)),
  );
});

self.addEventListener('sync', (event) => {
  if (event.tag === 'beatbook-sync') event.waitUntil(backgroundSync());
});

async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (windows.length) {
    // An open app has the whole sync loop: ask it, and wait for its answer (bounded).
    await new Promise((resolve) => {
      const channel = new MessageChannel();
      const timer = setTimeout(resolve, 60000);
      channel.port1.onmessage = () => {
        clearTimeout(timer);
        resolve();
      };
      windows[0].postMessage({ type: 'sync' }, [channel.port2]);
    });
    return;
  }
  await sendQueued();
}

/* ---- Sending the queue with no app open (mirrors js/outbox.js nextBatch + markSent) ---- */

function idb(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openExisting() {
  return new Promise((resolve) => {
    const request = indexedDB.open('beatbook');
    // No database yet (or an older one the app must upgrade first): do nothing.
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
}

// Picks the batch as js/outbox.js nextBatch() does (first entry per record, rejected held back).
// Written again here because a classic worker cannot import the app's ES modules, and module
// service workers are not yet in every browser officers carry.
async function sendQueued() {
  const db = await openExisting();
  if (!db) return;
  try {
    const tx = db.transaction(['meta', 'auth', 'outbox', 'records'], 'readwrite');
    const meta = tx.objectStore('meta');
    const currentRow = await idb(meta.get(['*', 'current_user']));
    const userId = currentRow && currentRow.value;
    if (!userId) return;
    const auth = await idb(tx.objectStore('auth').get(userId));
    if (!auth || auth.needsSignIn || !auth.token) return;
    const offsetRow = await idb(meta.get([userId, 'offset']));
    const offset = (offsetRow && offsetRow.value) || 0;
    const outbox = tx.objectStore('outbox');
    const all = await idb(outbox.index('by_user').getAll(IDBKeyRange.bound([userId], [userId, []])));
    const seen = new Set();
    const batch = [];
    for (const entry of all) {
      if (seen.has(entry.recordId)) continue;
      seen.add(entry.recordId);
      if (entry.state === 'rejected') continue;
      let baseRev = entry.baseRev;
      if (entry.awaitRev) {
        const doc = await idb(tx.objectStore('records').get([userId, entry.recordId]));
        baseRev = doc ? doc.rev : null;
      }
      // Sent entries are never edited again by the app: mark before sending.
      await idb(outbox.put(Object.assign({}, entry, { baseRev, awaitRev: false, attempts: entry.attempts + 1 })));
      batch.push({ id: entry.recordId, op: entry.op, hlc: entry.hlc, base_rev: baseRev, data: entry.data });
      if (batch.length >= 500) break;
    }
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
    if (!batch.length) return;
    const response = await fetch('/api/v1/sync/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${auth.token}` },
      body: JSON.stringify({
        device_id: auth.deviceId,
        batch_id: self.crypto.randomUUID(),
        device_now: new Date(Date.now() + offset).toISOString(),
        pending: all.length,
        app_version: VERSION,
        changes: batch,
      }),
    });
    // 5xx: throw so the browser retries the sync event later with its own backoff.
    if (response.status >= 500) throw new Error(`server ${response.status}`);
  } finally {
    db.close();
  }
}
