/* Beatbook service worker (a classic script, served from / so its scope is the whole app).
 *
 * - Precaches the app shell under a versioned cache; install waits for every file, so a
 *   half-cached version never takes over. Old versions' caches are removed on activate.
 * - Never touches /api: API calls go to the network and fail fast into the app's outbox.
 * - A new version waits until the app says SKIP_WAITING (the officer tapped Reload), so a
 *   record being typed is never cut off by an update.
 * - Background Sync (where the browser has it): an open app is asked to sync. With no app open
 *   nothing is sent: the queue is encrypted under a key only the unlocked app holds.
 */
'use strict';

const VERSION = '1.4.0'; // keep equal to js/version.js (a test checks)
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
  '/js/alerts.js',
  '/js/api.js',
  '/js/app.js',
  '/js/crypto.js',
  '/js/db.js',
  '/js/drafts.js',
  '/js/hlc.js',
  '/js/keyring.js',
  '/js/lock.js',
  '/js/loop.js',
  '/js/merge.js',
  '/js/outbox.js',
  '/js/pii.js',
  '/js/records.js',
  '/js/schema.js',
  '/js/sealed.js',
  '/js/session.js',
  '/js/storage.js',
  '/js/sync.js',
  '/js/version.js',
  '/js/ui/alertlist.js',
  '/js/ui/device.js',
  '/js/ui/dom.js',
  '/js/ui/form.js',
  '/js/ui/labels.js',
  '/js/ui/log.js',
  '/js/ui/loopfields.js',
  '/js/ui/pin.js',
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

// Only an open, unlocked app can send: the queue and the device token are encrypted under the
// officer's key, which the worker never holds (1.3.0; before, the worker sent the queue itself).
// With no app open, the queue waits until the officer opens Beatbook.
async function backgroundSync() {
  const windows = await self.clients.matchAll({ type: 'window' });
  if (!windows.length) return;
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
}
