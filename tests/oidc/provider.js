// A real OpenID Provider for the single sign-on tests (tests/api/sso.rs): panva's
// oidc-provider (OpenID Certified), on a loopback port, plain HTTP. It prints
// "listening <issuer>" once ready. Code flow only, PKCE required, back-channel logout on.
//
// The tests drive it over HTTP:
// - GET  /interaction/:uid           a sign-in page (field `login`: the account's sub)
// - POST /interaction/:uid           signs that account in and grants what was asked
// - POST /admin/clients              {"base_url", "cis2_auth"}: registers the two clients
//                                    (nhsmail, cis2) with that Staffroom's redirect and
//                                    back-channel URLs; cis2_auth "private_key_jwt" makes CIS2's
//                                    client authenticate with the key below
// - POST /admin/client-key           the PEM (PKCS#1) of the key CIS2's client signs with
// - POST /admin/accounts             {"sub", "claims", "amr", "acr"}: an account
// - POST /admin/rotate-keys          a new signing key replaces the old one (new kid)
// - POST /admin/logout-token         {"client_id", "sub", "sid"}: a logout token, as the
//                                    provider itself would sign it, returned not sent
// - POST /admin/backchannel-logout   {"client_id", "sub", "sid"}: the provider sends one
import http from 'node:http';
import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto';

import Provider from 'oidc-provider';

const port = Number(process.env.PORT || 0);

// One store for every provider instance (a key rotation makes a new instance): sessions,
// grants, codes and the clients registered survive it.
const store = new Map();
class MemoryAdapter {
  constructor(model) { this.model = model; }
  key(id) { return `${this.model}:${id}`; }
  async upsert(id, payload, expiresIn) {
    const expiresAt = expiresIn ? Date.now() + expiresIn * 1000 : undefined;
    store.set(this.key(id), { payload, expiresAt });
    if (payload.grantId) {
      const grant = `grant:${payload.grantId}`;
      store.set(grant, [...(store.get(grant) || []), this.key(id)]);
    }
    if (payload.userCode) store.set(`userCode:${payload.userCode}`, id);
    if (payload.uid) store.set(`uid:${payload.uid}`, id);
  }
  async find(id) {
    const found = store.get(this.key(id));
    if (!found) return undefined;
    if (found.expiresAt && found.expiresAt < Date.now()) { store.delete(this.key(id)); return undefined; }
    return found.payload;
  }
  async findByUid(uid) { const id = store.get(`uid:${uid}`); return id && this.find(id); }
  async findByUserCode(code) { const id = store.get(`userCode:${code}`); return id && this.find(id); }
  async consume(id) { const found = store.get(this.key(id)); if (found) found.payload.consumed = Math.floor(Date.now() / 1000); }
  async destroy(id) { store.delete(this.key(id)); }
  async revokeByGrantId(grantId) {
    for (const key of store.get(`grant:${grantId}`) || []) store.delete(key);
    store.delete(`grant:${grantId}`);
  }
}

const accounts = new Map();

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };
}

// The key Staffroom's CIS2 client signs its private_key_jwt assertions with; its public half is
// registered with the client, under its RFC 7638 thumbprint as the kid.
const clientKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
const clientJwk = (() => {
  const { n, e } = clientKey.publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
  return { kty: 'RSA', n, e, kid, use: 'sig', alg: 'RS256' };
})();

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

function configuration(key) {
  return {
    adapter: MemoryAdapter,
    jwks: { keys: [key] },
    cookies: { keys: ['staffroom-tests-cookie-key'] },
    findAccount: async (ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account.claims }) };
    },
    claims: {
      // How the person signed in comes with every ID token, as Entra ID and CIS2 send it.
      openid: ['sub', 'acr', 'amr'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name'],
      nationalrbacaccess: ['nhsid_nrbac_roles'],
      associatedorgs: ['nhsid_user_orgs'],
    },
    scopes: ['openid', 'email', 'profile', 'nationalrbacaccess', 'associatedorgs'],
    acrValues: ['AAL1_USERPASS', 'AAL3_ANY'],
    // The claims asked for go in the ID token too, as Entra ID puts email there.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    responseTypes: ['code'],
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
    clientBasedCORS: () => false,
    // Staffroom runs on loopback here: the provider's guard against fetching special-use
    // addresses (SSRF) would refuse its back-channel logout URL.
    fetch: (url, options) => {
      const { dispatcher, ...rest } = options;
      return globalThis.fetch(url, rest);
    },
  };
}

let provider;
function build(key) {
  const next = new Provider(issuer, configuration(key));
  next.proxy = false;
  // A plain-HTTP loopback issuer: no Secure cookies.
  next.on('server_error', (ctx, error) => console.error('server_error', error));
  return next;
}
provider = build(signingKey());

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString();
  return text ? JSON.parse(text) : {};
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString());
}

function send(res, status, body, type = 'application/json') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function clientsFor(baseUrl, cis2Auth) {
  return ['nhsmail', 'cis2'].map((name) => {
    const client = {
      client_id: `staffroom-${name}`,
      client_secret: `${name}-secret`,
      redirect_uris: [`${baseUrl}/login/sso/${name}/callback`],
      backchannel_logout_uri: `${baseUrl}/login/sso/${name}/backchannel-logout`,
      backchannel_logout_session_required: true,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    };
    if (name === 'cis2' && cis2Auth === 'private_key_jwt') {
      delete client.client_secret;
      client.token_endpoint_auth_method = 'private_key_jwt';
      client.token_endpoint_auth_signing_alg = 'RS256';
      client.jwks = { keys: [clientJwk] };
    }
    return client;
  });
}

async function admin(req, res, path) {
  const body = await readJson(req);
  switch (path) {
    case '/admin/clients': {
      const adapter = new MemoryAdapter('Client');
      for (const client of clientsFor(body.base_url, body.cis2_auth)) {
        await adapter.upsert(client.client_id, client);
      }
      return send(res, 200, { ok: true });
    }
    case '/admin/client-key':
      return send(res, 200, { pem: clientKey.privateKey.export({ type: 'pkcs1', format: 'pem' }) });
    case '/admin/accounts':
      accounts.set(body.sub, { claims: body.claims || {}, amr: body.amr, acr: body.acr });
      return send(res, 200, { ok: true });
    case '/admin/rotate-keys': {
      const key = signingKey();
      provider = build(key);
      return send(res, 200, { kid: key.kid });
    }
    case '/admin/logout-token':
    case '/admin/backchannel-logout': {
      const client = await provider.Client.find(body.client_id);
      if (!client) return send(res, 404, { error: 'no such client' });
      if (path === '/admin/backchannel-logout') {
        await client.backchannelLogout(body.sub, body.sid);
        return send(res, 200, { ok: true });
      }
      // As Client#backchannelLogout builds it, but handed back instead of sent.
      const token = new provider.IdToken({ sub: body.sub }, { client, ctx: undefined });
      token.mask = { sub: null };
      token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
      token.set('jti', randomUUID());
      if (body.sid) token.set('sid', body.sid);
      return send(res, 200, { logout_token: await token.issue({ use: 'logout' }) });
    }
    default:
      return send(res, 404, { error: 'not found' });
  }
}

// The sign-in page: one field, the account's sub; the password is not checked.
async function interaction(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  if (req.method === 'GET') {
    const client = await provider.Client.find(details.params.client_id);
    return send(res, 200, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in to the test provider</title></head>
<body><h1>Sign in to the test provider</h1><p>for ${escape(client?.clientId)}</p>
<form method="post" action="/interaction/${escape(uid)}">
<label for="login">Username</label> <input id="login" name="login" autofocus>
<label for="password">Password</label> <input id="password" name="password" type="password">
<button type="submit" id="provider-sign-in">Sign in</button></form></body></html>`, 'text/html; charset=utf-8');
  }
  const form = await readForm(req);
  const sub = form.get('login');
  const account = accounts.get(sub);
  if (!account) return send(res, 403, '<p>Unknown account</p>', 'text/html; charset=utf-8');
  const grant = new provider.Grant({ accountId: sub, clientId: details.params.client_id });
  grant.addOIDCScope(details.params.scope);
  const grantId = await grant.save();
  const login = { accountId: sub };
  if (account.amr) login.amr = account.amr;
  if (account.acr) login.acr = account.acr;
  return provider.interactionFinished(req, res, { login, consent: { grantId } }, { mergeWithLastSubmission: false });
}

server.on('request', async (req, res) => {
  const { pathname } = new URL(req.url, issuer);
  try {
    if (req.method === 'POST' && pathname.startsWith('/admin/')) return await admin(req, res, pathname);
    const match = pathname.match(/^\/interaction\/([^/]+)$/);
    if (match) return await interaction(req, res, match[1]);
    return provider.callback()(req, res);
  } catch (error) {
    console.error(error);
    if (!res.headersSent) send(res, 500, { error: String(error) });
  }
});

console.log(`listening ${issuer}`);
