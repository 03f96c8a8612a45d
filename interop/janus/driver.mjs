// driver.mjs: headless Chromium (playwright-core, Debian's /usr/bin/chromium) with pages
// of page.html, driven by the Go test over stdin/stdout, one JSON object a line.
//   {"id":1,"op":"open","page":"a"}
//   {"id":2,"op":"invoke","page":"a","method":"join","args":[{...}]}  await window.tt[method](...args)
//   {"id":3,"op":"closepage","page":"a"}
//   {"id":4,"op":"quit"}
// Replies: {"id":1,"ok":true,"result":...} or {"id":1,"ok":false,"error":"..."}.
// The Go test serves this directory at $TT_BASE_URL (loopback: a secure context, and
// Chromium's local network access checks pass); any request off loopback is aborted.
import { chromium } from 'playwright-core';
import readline from 'node:readline';

const base = process.env.TT_BASE_URL;
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const args = [
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
  '--allow-loopback-in-peer-connection', '--disable-features=WebRtcHideLocalIpsWithMdns',
];
if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
const browser = await chromium.launch({ executablePath: process.env.TT_CHROMIUM || '/usr/bin/chromium', headless: true, args });
const context = await browser.newContext({ permissions: ['camera', 'microphone'] });
await context.route('**/*', async (route) => {
  const u = new URL(route.request().url());
  if (u.hostname === '127.0.0.1' || u.hostname === 'localhost') return route.continue();
  out({ event: 'blocked', url: u.href });
  return route.abort('blockedbyclient');
});

const pages = new Map();
async function handle(cmd) {
  switch (cmd.op) {
    case 'open': {
      const page = await context.newPage();
      page.on('console', (m) => process.stderr.write(`${cmd.page} console ${m.type()}: ${m.text()}\n`));
      page.on('pageerror', (e) => out({ page: cmd.page, event: 'pageerror', text: String(e) }));
      await page.goto(base + '/page.html');
      await page.waitForFunction(() => window.tt !== undefined);
      pages.set(cmd.page, page);
      return true;
    }
    case 'invoke': {
      const page = pages.get(cmd.page);
      if (!page) throw new Error('no page ' + cmd.page);
      return await page.evaluate(([m, a]) => window.tt[m](...a), [cmd.method, cmd.args || []]);
    }
    case 'closepage': {
      const page = pages.get(cmd.page);
      pages.delete(cmd.page);
      if (page) await page.close();
      return true;
    }
    case 'quit':
      await browser.close();
      out({ id: cmd.id, ok: true });
      process.exit(0);
  }
  throw new Error('unknown op ' + cmd.op);
}

const rl = readline.createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let cmd;
  try { cmd = JSON.parse(line); } catch { return; }
  handle(cmd).then((result) => out({ id: cmd.id, ok: true, result }), (e) => out({ id: cmd.id, ok: false, error: String(e && e.message || e) }));
});
rl.on('close', async () => { await browser.close(); process.exit(0); });
process.on('SIGTERM', async () => { await browser.close(); process.exit(0); });
