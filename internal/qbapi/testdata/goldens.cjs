// goldens.cjs: signatures and request bodies made by the QuickBlox web SDK's own code
// (npm quickblox@2.23.0, installed in interop/web/node_modules by scripts/setup.sh), for
// the Go signer in package qbapi to match byte for byte.
//
//   node internal/qbapi/testdata/goldens.cjs > internal/qbapi/testdata/signatures.json
//
// It runs src/modules/qbAuth.js createSession (generateAuthMsg + signMessage, which
// qbAuth.js does not export) through src/qbProxy.js ajax (the form-urlencoded body), with
// the nonce and timestamp fixed and node-fetch replaced by a stub that records the request
// instead of sending it: nothing leaves the process.
'use strict';

const path = require('node:path');
const Module = require('node:module');

const web = path.join(__dirname, '..', '..', '..', 'interop', 'web');
const req = Module.createRequire(path.join(web, 'package.json'));

// The stub for node-fetch, put in require's cache before qbProxy.js loads it.
let captured = null;
const fetchPath = req.resolve('node-fetch', { paths: [path.dirname(req.resolve('quickblox/src/qbProxy.js'))] });
const fake = function (url, request) {
  captured = { url, method: request.method, body: request.body, headers: request.headers };
  return Promise.resolve({
    status: 201,
    headers: { get: () => null },
    json: () => Promise.resolve({ session: { token: 't' } }),
    text: () => Promise.resolve(''),
  });
};
const m = new Module(fetchPath);
m.filename = fetchPath;
m.loaded = true;
m.exports = fake;
m.exports.default = fake;
require.cache[fetchPath] = m;

const pkg = req('quickblox/package.json');
const config = req('quickblox/src/qbConfig.js');
const Utils = req('quickblox/src/qbUtils.js');
const Proxy = req('quickblox/src/qbProxy.js');
const Auth = req('quickblox/src/modules/qbAuth.js');
const cryptoJS = req('crypto-js/package.json');

const nonce = 4242;
const timestamp = 1700000000;
Utils.randomNonce = () => nonce;
Utils.unixTime = () => timestamp;
Utils.QBLog = () => {};

const cases = [
  { name: 'app', appId: 7, authKey: 'key-abc', authSecret: 'secret-xyz', hash: 'sha1', params: {} },
  { name: 'login', appId: 7, authKey: 'key-abc', authSecret: 'secret-xyz', hash: 'sha1',
    params: { login: 'alice', password: 'alice-pw' } },
  { name: 'email', appId: 7, authKey: 'key-abc', authSecret: 'secret-xyz', hash: 'sha1',
    params: { email: 'alice@example.org', password: 'alice-pw' } },
  { name: 'sha256', appId: 92000, authKey: 'K3yK3y', authSecret: 'S3cr3t-S3cr3t', hash: 'sha256',
    params: { login: 'bob_login', password: 'bob-pw-123' } },
  { name: 'app-sha256', appId: 92000, authKey: 'K3yK3y', authSecret: 'S3cr3t-S3cr3t', hash: 'sha256', params: {} },
  { name: 'special', appId: 7, authKey: 'k&y=1 2', authSecret: 'sécret & = ☃', hash: 'sha1',
    params: { login: 'a&b=c d+e', password: 'p&w=ü ñ 漢字 😀 %20?#' } },
  { name: 'special-email-sha256', appId: 7, authKey: 'key-abc', authSecret: 'secret-xyz', hash: 'sha256',
    params: { email: 'zoë+tag@exämple.org', password: 'pass word&x=y' } },
];

async function run(c) {
  config.creds.appId = c.appId;
  config.creds.authKey = c.authKey;
  config.creds.authSecret = c.authSecret;
  config.hash = c.hash;
  captured = null;
  const auth = new Auth(new Proxy());
  await new Promise((resolve, reject) => {
    auth.createSession(Object.assign({}, c.params), (err) => (err ? reject(new Error(JSON.stringify(err))) : resolve()));
  });
  const fields = new URLSearchParams(captured.body);
  return {
    name: c.name,
    app_id: c.appId,
    auth_key: c.authKey,
    auth_secret: c.authSecret,
    hash: c.hash,
    login: c.params.login || '',
    email: c.params.email || '',
    password: c.params.password || '',
    nonce,
    timestamp,
    signature: fields.get('signature'),
    method: captured.method,
    url: captured.url,
    content_type: captured.headers['Content-Type'],
    body: captured.body,
  };
}

(async () => {
  const out = { sdk: 'quickblox@' + pkg.version, crypto_js: cryptoJS.version, cases: [] };
  // The ICE servers of the SDK's config (qbConfig.js webrtc.iceServers), read before any
  // case changes the config.
  out.ice_servers = JSON.parse(JSON.stringify(config.webrtc.iceServers));
  out.endpoints = { api: config.endpoints.api, chat: config.endpoints.chat };
  for (const c of cases) out.cases.push(await run(c));
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
