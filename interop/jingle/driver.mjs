// driver.mjs for the StanzaJS Jingle test page: the QuickBlox page's driver
// (../web/driver.mjs, same commands and events), told that this page's library global is
// XMPP. playwright-core resolves from ../web/node_modules, which `make test` installs too.
process.env.TT_PAGE_GLOBAL ??= 'XMPP';
await import('../web/driver.mjs');
