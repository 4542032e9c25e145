// A real OpenID Connect provider for the tests: the npm package oidc-provider (OpenID-certified),
// configured like a force's identity provider: users with group claims, refresh tokens, PKCE
// required, back-channel logout. Started by tests/oidc_provider.py; listens on 127.0.0.1 only.
//
//   node tests/oidc/provider.mjs   (settings in the environment, see below)
//
// Its own sign-in page (/interaction/...) stands in for the force's; /test/... lets a test do
// what a force's IT team does (disable an account, sign a user out everywhere) and alter the
// next ID token in flight (wrong audience, expired, tampered signature), re-signed with the
// provider's own key where the change needs a valid signature.

import http from 'node:http';
import { generateKeyPair, exportJWK, SignJWT, decodeJwt, decodeProtectedHeader, importJWK } from 'jose';
import Provider, { interactionPolicy } from 'oidc-provider';

const env = process.env;
const PORT = Number(env.OIDC_PORT);
const ISSUER = `http://127.0.0.1:${PORT}`;
const CLIENT_ID = env.OIDC_CLIENT_ID ?? 'beatbook';
const CLIENT_SECRET = env.OIDC_CLIENT_SECRET ?? 'beatbook-test-secret';
const REDIRECT_URIS = (env.OIDC_REDIRECT_URIS ?? '').split(',').filter(Boolean);
const BACKCHANNEL_URI = env.OIDC_BACKCHANNEL_URI || undefined;
const PASSWORD = env.OIDC_PASSWORD ?? 'provider-Password-1';

// The force's directory: subject, names, groups; `disabled` as an IT team sets it.
const USERS = {
  'sgt.oidc': { sub: 'a1f0c3e2-0001-4000-8000-000000000001', name: 'Sgt Oidc', email: 'sgt.oidc@force.example', groups: ['beatbook-supervisors-npt-a'] },
  'pc.oidc': { sub: 'a1f0c3e2-0002-4000-8000-000000000002', name: 'PC Oidc', email: 'pc.oidc@force.example', groups: ['beatbook-officers-npt-a'] },
  'civ.nogroup': { sub: 'a1f0c3e2-0003-4000-8000-000000000003', name: 'Civ Nogroup', email: 'civ@force.example', groups: ['finance'] },
};
const bySub = Object.fromEntries(Object.entries(USERS).map(([login, u]) => [u.sub, { login, ...u }]));

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
const signingKey = await importJWK(signingJwk, 'RS256');

// A disabled account with a session here still has to see the sign-in page (which refuses it),
// as a force's provider ends a disabled person's sessions.
const policy = interactionPolicy.base();
policy.get('login').checks.add(new interactionPolicy.Check('account_disabled', 'the account is disabled', (ctx) => {
  const user = bySub[ctx.oidc.session.accountId];
  return user && USERS[user.login].disabled ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT;
}));

let tamper = ''; // '', wrong_aud, wrong_iss, wrong_nonce, expired, bad_signature: the next ID token

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    backchannel_logout_uri: BACKCHANNEL_URI,
  }],
  jwks: { keys: [signingJwk] },
  pkce: { required: () => true },
  scopes: ['openid', 'offline_access', 'profile', 'email'],
  claims: { openid: ['sub'], profile: ['name', 'preferred_username', 'groups'], email: ['email'] },
  conformIdTokenClaims: false, // the groups go in the ID token, as Entra ID and Keycloak send them
  features: { devInteractions: { enabled: false }, backchannelLogout: { enabled: true } },
  // Like Keycloak and Entra ID: a refresh token for every sign-in of a client allowed to use one.
  issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
  interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(_ctx, sub, token) {
    const user = bySub[sub];
    // A disabled account is gone for every token (a refresh is refused: invalid_grant); its
    // browser session is sent to the sign-in page by the policy above.
    if (!user || (token && USERS[user.login].disabled)) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ sub, name: user.name, preferred_username: user.login, email: user.email, groups: user.groups }),
    };
  },
  // Beatbook runs on 127.0.0.1 here, which oidc-provider's SSRF guard refuses to call for the
  // back-channel logout: in this test setting every address is loopback, so let it through.
  fetch: (url, options) => globalThis.fetch(url, { ...options, dispatcher: undefined }),
  ttl: { IdToken: 600, AccessToken: 600, Session: 3600, Interaction: 600, Grant: 86400, RefreshToken: 86400 },
});
provider.on('server_error', (_ctx, error) => console.error('server_error', error));
provider.on('backchannel.error', (_client, error) => console.error('backchannel.error', error));

// The ID token altered in flight, as an attacker or a misconfigured proxy would.
provider.use(async (ctx, next) => {
  await next();
  if (ctx.path !== '/token' || !tamper || !ctx.body?.id_token) return;
  const mode = tamper;
  tamper = '';
  ctx.body = { ...ctx.body, id_token: await alter(ctx.body.id_token, mode) };
});

async function alter(idToken, mode) {
  const claims = decodeJwt(idToken);
  const header = decodeProtectedHeader(idToken);
  const now = Math.floor(Date.now() / 1000);
  if (mode === 'bad_signature') {
    const [head, , signature] = idToken.split('.');
    const body = Buffer.from(JSON.stringify({ ...claims, sub: USERS['sgt.oidc'].sub })).toString('base64url');
    return `${head}.${body}.${signature}`;
  }
  // wrong_aud: meant for another service, though naming Beatbook as the party it went to (azp
  // alone would pass: the audience itself has to be checked).
  const changes = {
    wrong_aud: { aud: 'another-service', azp: CLIENT_ID },
    wrong_iss: { iss: 'https://look-alike.example' },
    wrong_nonce: { nonce: 'replayed-from-another-sign-in' },
    expired: { iat: now - 3600, exp: now - 1800 },
  };
  const changed = { ...claims, ...changes[mode] };
  return new SignJWT(changed).setProtectedHeader(header).sign(signingKey);
}

const page = (title, body) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width"></head><body><h1>${title}</h1>${body}</body></html>`;

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readForm(req) {
  let data = '';
  for await (const chunk of req) data += chunk;
  return Object.fromEntries(new URLSearchParams(data));
}

function send(res, status, html, type = 'text/html; charset=utf-8') {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(html);
}

function loginForm(uid, error = '') {
  return page('Force sign-in', `${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${uid}/login">
<label>Username <input name="login" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button type="submit">Sign in</button></form>`);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (action === 'login' && req.method === 'POST') {
    const form = await readForm(req);
    const user = USERS[form.login];
    if (!user || form.password !== PASSWORD) return send(res, 200, loginForm(uid, 'Wrong username or password.'));
    if (user.disabled) return send(res, 200, loginForm(uid, 'This account is disabled. Contact the IT service desk.'));
    return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
  }
  if (details.prompt.name === 'login') return send(res, 200, loginForm(uid));
  // Consent: a force's own app is pre-approved, so grant what it asked for.
  const { prompt, params, session } = details;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

// What a force's IT team does, for the tests: POST /test/users/<login>/disable|enable|logout,
// POST /test/tamper/<mode>.
async function control(req, res, parts) {
  if (req.method !== 'POST') return send(res, 405, '{}', 'application/json');
  if (parts[0] === 'tamper') {
    tamper = parts[1] === 'none' ? '' : parts[1];
    return send(res, 200, JSON.stringify({ tamper }), 'application/json');
  }
  const user = USERS[parts[1]];
  if (parts[0] !== 'users' || !user) return send(res, 404, '{}', 'application/json');
  if (parts[2] === 'disable') user.disabled = true;
  else if (parts[2] === 'enable') user.disabled = false;
  else if (parts[2] === 'logout') {
    // A back-channel logout token, signed and sent by oidc-provider itself.
    const client = await provider.Client.find(CLIENT_ID);
    await client.backchannelLogout(user.sub);
  } else return send(res, 404, '{}', 'application/json');
  return send(res, 200, JSON.stringify({ login: parts[1], disabled: Boolean(user.disabled) }), 'application/json');
}

const handler = provider.callback();
http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, ISSUER);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] === 'interaction') return await interaction(req, res, parts[1], parts[2]);
    if (parts[0] === 'test') return await control(req, res, parts.slice(1));
    return handler(req, res);
  } catch (error) {
    console.error(error);
    return send(res, 500, page('Provider error', `<p>${escape(error.message)}</p>`));
  }
}).listen(PORT, '127.0.0.1', () => console.log(`oidc-provider listening on ${ISSUER}`));
