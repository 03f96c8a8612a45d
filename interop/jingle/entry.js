// The bundle's entry: esbuild turns StanzaJS (and the `events` polyfill it needs in a
// browser) into one script that defines window.XMPP. Built by scripts/setup.sh (and by the
// Go test when missing) into node_modules/.ttycall/stanza.js, never committed.
window.XMPP = require('stanza');
