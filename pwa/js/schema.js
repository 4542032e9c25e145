// The record schema (kinds, groups, standards) from GET /api/v1/schema, cached for offline use.

import { STORES, withTx, getMeta, putMeta } from './db.js';

/**
 * @typedef {{code: string, title: string, description?: string, standards: string[], meeting: boolean, key_contact?: boolean}} Kind
 * @typedef {{code: string, title: string, seldom_heard: boolean}} Group
 * @typedef {{code: string, title: string, number?: number, description?: string}} Standard
 * @typedef {{version: string, schema_version?: number, record: Object<string, {type: string, required: boolean, min?: number, max?: number}>,
 *            kinds: Kind[], groups: Group[], standards: {catalogue: string, version: string, standards: Standard[]}}} Schema
 */

/** The record schema version this app writes (the server upgrades older ones). */
export const APP_SCHEMA_VERSION = 2;

/** @param {IDBDatabase} db @returns {Promise<Schema|null>} */
export async function cachedSchema(db) {
  const row = await withTx(db, [STORES.meta], 'readonly', (tx) => getMeta(tx, '*', 'schema'));
  return row?.body ?? null;
}

/**
 * Fetch the schema if it changed (ETag) and cache it. Offline, the cached copy stands.
 * @param {IDBDatabase} db
 * @param {{schema: (etag: string|null) => Promise<{notModified: boolean, body: any, etag: string|null}>}} api
 * @returns {Promise<Schema|null>}
 */
export async function refreshSchema(db, api) {
  const row = await withTx(db, [STORES.meta], 'readonly', (tx) => getMeta(tx, '*', 'schema'));
  const res = await api.schema(row?.etag ?? null);
  if (res.notModified && row) return row.body;
  await withTx(db, [STORES.meta], 'readwrite', (tx) => putMeta(tx, '*', 'schema', { etag: res.etag, body: res.body, at: new Date().toISOString() }));
  return res.body;
}

/** @param {Schema} schema @param {string} code */
export function kindOf(schema, code) {
  return schema.kinds.find((k) => k.code === code) ?? null;
}

/** Key community leader contacts are known by role and organisation. */
export function isKeyContact(kind) {
  return Boolean(kind && (kind.key_contact ?? kind.code === 'key_contact'));
}

/** Meetings and surgeries record when they were publicised. */
export function isMeeting(kind) {
  return Boolean(kind?.meeting);
}

/** A field's limit from the schema's record description, else the protocol's default. */
export function maxLength(schema, field, fallback) {
  return schema?.record?.[field]?.max ?? fallback;
}
