// The server's API (docs/sync-protocol.md). Calls go straight to the network and fail fast:
// offline, the caller queues instead of waiting.

/** An HTTP error with the protocol's error body, or a network failure (status 0). */
export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, 0 for a network failure or time-out
   * @param {string} code the protocol's error code ("network" when there was no answer)
   * @param {string} message
   * @param {{fields?: Object<string, string[]>, retryAfterS?: number|null, serverTime?: string|null}} [extra]
   */
  constructor(status, code, message, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = extra.fields ?? null;
    this.retryAfterS = extra.retryAfterS ?? null;
    this.serverTime = extra.serverTime ?? null;
  }

  /** The officer must sign in again: never retried. */
  get needsSignIn() {
    return this.status === 401 || this.status === 403 || (this.status === 409 && this.code === 'device_mismatch');
  }

  /** Worth retrying later with backoff: nothing is lost. */
  get transient() {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

/**
 * @param {{baseUrl?: string, fetch?: typeof fetch, getToken?: () => string|null,
 *          timeoutMs?: number, isOnline?: () => boolean}} [options]
 */
export function createApi(options = {}) {
  const baseUrl = options.baseUrl ?? '';
  const doFetch = options.fetch ?? ((...args) => globalThis.fetch(...args));
  const getToken = options.getToken ?? (() => null);
  const timeoutMs = options.timeoutMs ?? 20000;
  const isOnline = options.isOnline ?? (() => globalThis.navigator?.onLine ?? true);

  /**
   * @param {string} method
   * @param {string} path under /api/v1
   * @param {{body?: any, headers?: Object<string, string>, auth?: boolean, token?: string}} [init]
   * @returns {Promise<{status: number, body: any, headers: Headers, rttMs: number}>}
   */
  async function call(method, path, init = {}) {
    if (!isOnline()) throw new ApiError(0, 'network', 'No connection.');
    const headers = { Accept: 'application/json', ...(init.headers ?? {}) };
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';
    const token = init.auth === false ? null : init.token ?? getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const started = Date.now();
    let response;
    try {
      response = await doFetch(`${baseUrl}/api/v1${path}`, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: controller.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (error) {
      throw new ApiError(0, 'network', controller.signal.aborted ? 'The server did not answer in time.' : 'Could not reach the server.');
    } finally {
      clearTimeout(timer);
    }
    const rttMs = Date.now() - started;
    let body = null;
    const text = await response.text().catch(() => '');
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        body = null;
      }
    }
    if (response.ok || response.status === 304) return { status: response.status, body, headers: response.headers, rttMs };
    const error = body?.error ?? {};
    // No header is no advice (Number(null) would be 0: a retry at once, in a loop).
    const header = response.headers.get('Retry-After');
    const retryAfter = header === null || header.trim() === '' ? NaN : Number(header);
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? `The server answered ${response.status}.`, {
      fields: error.fields ?? null,
      retryAfterS: Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : null,
      serverTime: body?.server_time ?? error.server_time ?? response.headers.get('Date'),
    });
  }

  return {
    /** @param {{username: string, password: string, device_name: string}} creds */
    async signIn(creds) {
      return (await call('POST', '/auth/device', { body: creds, auth: false })).body;
    },
    /** @param {{code: string, device_name: string}} body the one-time code from #/sso/CODE */
    async signInSso(body) {
      return (await call('POST', '/auth/device/sso', { body, auth: false })).body;
    },
    /** @returns {Promise<{password: boolean, sso: {name: string, start: string}|null}>} */
    async signInMethods() {
      return (await call('GET', '/auth/methods', { auth: false })).body;
    },
    /**
     * Rename this device (the name supervisors see).
     * @param {string} name
     * @param {string} [token] a token just issued, before the session holds it
     * @returns {Promise<{device_id: string, device_name: string}>}
     */
    async renameDevice(name, token) {
      return (await call('PATCH', '/auth/device', { body: { device_name: name }, token })).body;
    },
    /**
     * The server's key for this phone's encrypted queue (docs/sync-protocol.md).
     * @param {string} installId this phone's random id
     * @param {string} [token] a token just issued, before the session holds it
     * @returns {Promise<{key: string}>}
     */
    async queueKey(installId, token) {
      return (await call('POST', '/auth/device/queue-key', { body: { install_id: installId }, token })).body;
    },
    async signOut() {
      await call('DELETE', '/auth/device');
    },
    /** @param {string|null} etag @returns {Promise<{notModified: boolean, body: any, etag: string|null}>} */
    async schema(etag) {
      const res = await call('GET', '/schema', { headers: etag ? { 'If-None-Match': etag } : {} });
      return { notModified: res.status === 304, body: res.body, etag: res.headers.get('ETag') };
    },
    /** @param {any} batch the push body */
    async push(batch) {
      const res = await call('POST', '/sync/push', { body: batch });
      return { ...res.body, rttMs: res.rttMs };
    },
    /** @param {string} since @param {number} limit */
    async pull(since, limit) {
      const query = new URLSearchParams({ limit: String(limit) });
      if (since) query.set('since', since);
      const res = await call('GET', `/sync/pull?${query}`);
      return { ...res.body, rttMs: res.rttMs };
    },
  };
}
