// The service worker's precache list must hold every file of the app, or the app breaks offline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP_VERSION } from '../../pwa/js/version.js';

const PWA = fileURLToPath(new URL('../../pwa/', import.meta.url));
const sw = readFileSync(join(PWA, 'sw.js'), 'utf8');

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

function shellList() {
  const block = /const SHELL = \[([\s\S]*?)\];/.exec(sw);
  assert.ok(block, 'sw.js has a SHELL list');
  return [...block[1].matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

test('the precache list holds every app file and nothing missing', () => {
  const files = walk(PWA).map((p) => `/${relative(PWA, p).split('\\').join('/')}`)
    .filter((p) => p !== '/sw.js' && !p.endsWith('.md'))
    .map((p) => (p === '/index.html' ? '/' : p))
    .sort();
  assert.deepEqual([...shellList()].sort(), files);
});

test('the worker cache version is the app version', () => {
  const m = /const VERSION = '([^']+)'/.exec(sw);
  assert.equal(m?.[1], APP_VERSION);
});

test('the worker never answers /api requests from the cache', () => {
  assert.match(sw, /url\.pathname\.startsWith\('\/api\/'\)\) return;/);
  assert.match(sw, /if \(!SHELL_PATHS\.has\(url\.pathname\)\) return;/, 'only app files are answered');
});

test('every module import resolves to a file in the shell', () => {
  const shell = new Set(shellList());
  for (const file of shellList().filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(join(PWA, file), 'utf8');
    for (const m of text.matchAll(/^import [^'"]*['"]([^'"]+)['"]/gm)) {
      const target = new URL(m[1], `http://x${file}`).pathname;
      assert.ok(shell.has(target), `${file} imports ${target}, not precached`);
    }
  }
});

test('the manifest names the app, is standalone and has its icons', () => {
  const manifest = JSON.parse(readFileSync(join(PWA, 'manifest.webmanifest'), 'utf8'));
  assert.equal(manifest.display, 'standalone');
  assert.ok(manifest.name && manifest.short_name && manifest.theme_color);
  const sizes = manifest.icons.map((i) => i.sizes);
  assert.ok(sizes.includes('192x192') && sizes.includes('512x512'));
  assert.ok(manifest.icons.some((i) => i.purpose === 'maskable'));
  for (const icon of manifest.icons) statSync(join(PWA, icon.src));
});
