// driver.mjs: headless Chromium (playwright-core, Debian's /usr/bin/chromium) with N pages
// of the QuickBlox test page, driven by the Go test over stdin/stdout, one JSON object a line.
//
// Commands (stdin):
//   {"id":1,"op":"open","page":"a"}                       open page "a" at $TT_BASE_URL/
//   {"id":2,"op":"invoke","page":"a","method":"login","args":[{...}]}
//                                                         await window.tt[method](...args)
//   {"id":3,"op":"closepage","page":"a"}
//   {"id":4,"op":"quit"}
// Replies (stdout): {"id":1,"ok":true,"result":...} or {"id":1,"ok":false,"error":"..."}
// Events (stdout): {"page":"a","event":NAME,...}: every SDK listener of the page, every call
//   stanza in and out (xml_in/xml_out), console errors, page errors, and "blocked": any
//   request to anything but loopback, which is aborted.
// Logs go to stderr. The browser gets a fresh temporary profile and is closed on quit,
// on stdin EOF and on SIGTERM.
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const base = process.env.TT_BASE_URL;
if (!base) {
  process.stderr.write('driver: TT_BASE_URL is not set\n');
  process.exit(2);
}
const executablePath = process.env.TT_CHROMIUM || '/usr/bin/chromium';

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// TT_ALLOW_HOSTS (opt-in, comma-separated): addresses inside the test's own network
// namespaces (netsim) that the page may reach besides loopback, for a browser run in a
// namespace behind a NAT. Empty: loopback only.
const allowHosts = new Set((process.env.TT_ALLOW_HOSTS || '').split(',').map((s) => s.trim()).filter(Boolean));
// TT_CHROMIUM_ARGS (opt-in, space-separated): extra flags, such as
// --unsafely-treat-insecure-origin-as-secure=http://ADDR:PORT for a page not on loopback.
const extraArgs = (process.env.TT_CHROMIUM_ARGS || '').split(' ').filter(Boolean);
// TT_PAGE_GLOBAL: the library global a page must have once loaded, besides the tests'
// `tt` (QB for this QuickBlox page; ../jingle/driver.mjs sets XMPP for StanzaJS's).
const pageGlobal = process.env.TT_PAGE_GLOBAL || 'QB';

function isLocal(u) {
  try {
    const url = typeof u === 'string' ? new URL(u) : u;
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.protocol === 'about:') return true;
    const h = url.hostname;
    if (allowHosts.has(h)) return true;
    return h === '127.0.0.1' || h === 'localhost' || h === '[::1]' || h === '::1';
  } catch {
    return false;
  }
}

const args = [
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--allow-loopback-in-peer-connection',
  // Keep WebRTC on loopback: no mDNS hostnames for host candidates.
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  // The QuickBlox SDK always calls https:// + endpoints.api; the tests' REST stand-in
  // (interop/qbstandin) on 127.0.0.1 has a self-signed certificate.
  '--ignore-certificate-errors',
];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
args.push(...extraArgs);

const t0 = Date.now();
const browser = await chromium.launch({ executablePath, headless: true, args });
// A new context is a fresh, temporary profile; launch() also uses its own temp user-data-dir.
const context = await browser.newContext({ permissions: ['camera', 'microphone'], ignoreHTTPSErrors: true });
process.stderr.write(`driver: chromium ${browser.version()} up in ${Date.now() - t0} ms\n`);

// Nothing but loopback: every other request is aborted and reported.
await context.route((url) => !isLocal(url), async (route) => {
  const req = route.request();
  out({ page: pageNameOf(req.frame && safeFramePage(req)), event: 'blocked', url: req.url(), method: req.method() });
  await route.abort('blockedbyclient');
});
await context.routeWebSocket((url) => !isLocal(url), (ws) => {
  out({ event: 'blocked', url: ws.url(), method: 'WEBSOCKET' });
  ws.close({ code: 1008, reason: 'blocked by the ttycall interop driver' });
});

const pages = new Map(); // name -> Page
function pageNameOf(page) {
  for (const [n, p] of pages) if (p === page) return n;
  return '';
}
function safeFramePage(req) {
  try { return req.frame().page(); } catch { return null; }
}

async function openPage(name) {
  if (pages.has(name)) throw new Error(`page ${name} exists`);
  const page = await context.newPage();
  pages.set(name, page);
  await page.exposeFunction('ttEmit', (s) => {
    let ev;
    try { ev = JSON.parse(s); } catch { ev = { event: 'error', message: 'bad event ' + s }; }
    out(Object.assign({ page: name }, ev));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      process.stderr.write(`driver: [${name}] console.${m.type()}: ${m.text()}\n`);
    }
    if (m.type() === 'error') out({ page: name, event: 'console_error', text: m.text() });
  });
  page.on('pageerror', (e) => out({ page: name, event: 'pageerror', message: String(e && e.message || e) }));
  page.on('crash', () => out({ page: name, event: 'crash' }));
  await page.goto(base + '/', { waitUntil: 'load' });
  const ok = await page.evaluate((g) => typeof window[g] === 'object' && typeof window.tt === 'object', pageGlobal);
  if (!ok) throw new Error(`page did not load ${pageGlobal} and tt`);
  return true;
}

async function handle(cmd) {
  switch (cmd.op) {
    case 'open':
      return openPage(cmd.page);
    case 'invoke': {
      const page = pages.get(cmd.page);
      if (!page) throw new Error(`no page ${cmd.page}`);
      return page.evaluate(({ method, args }) => {
        if (typeof window.tt[method] !== 'function') throw new Error('no method ' + method);
        return window.tt[method](...args);
      }, { method: cmd.method, args: cmd.args || [] });
    }
    case 'closepage': {
      const page = pages.get(cmd.page);
      if (page) { pages.delete(cmd.page); await page.close(); }
      return true;
    }
    case 'quit':
      out({ id: cmd.id, ok: true, result: true });
      await shutdown(0);
      return true;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

let closing = false;
async function shutdown(code) {
  if (closing) return;
  closing = true;
  try { await browser.close(); } catch (e) { process.stderr.write(`driver: close: ${e}\n`); }
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));

out({ event: 'ready', version: browser.version() });

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (!line.trim()) return;
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { out({ event: 'error', message: 'bad command: ' + line }); return; }
  handle(cmd).then(
    (result) => { if (!closing) out({ id: cmd.id, ok: true, result: result === undefined ? null : result }); },
    (err) => out({ id: cmd.id, ok: false, error: String(err && err.message || err) }),
  );
});
rl.on('close', () => shutdown(0));
