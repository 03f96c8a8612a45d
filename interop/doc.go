// Package interop holds the tests that put ttycall against the real QuickBlox JavaScript SDK
// (npm quickblox, pinned in web/package.json) running in headless Chromium, through a
// private local Prosody: web page <-> web page, web page <-> `ttycall headless`, and a
// three-party mesh. Nothing here is part of the ttycall binary.
//
// The pieces:
//   - web/page.html, web/page.js: the test page. It loads the SDK's prebuilt browser bundle,
//     logs in over WebSocket as {userID}-{appID}@localhost with no REST request, and exposes
//     window.tt (login, call, accept, reject, stop, update, getStats) plus every SDK listener
//     as an event.
//   - web/driver.mjs: playwright-core driving /usr/bin/chromium; a line-based JSON protocol
//     on stdin/stdout; aborts and reports any request that is not to loopback.
//   - qbstandin/: a local stand-in of QuickBlox's REST sign-in endpoints (sessions, users,
//     account_settings), with the tokens as chat passwords in the test's Prosody, so that
//     the page and ttycall sign in as QuickBlox apps do (qbrest_test.go).
//   - *_test.go: the Go side: Prosody (internal/xmppserver), the page server on
//     127.0.0.1:0, the driver process, the ttycall headless processes, the scenarios and
//     benchmarks.
//
// The tests skip, saying why, when chromium, node or web/node_modules is missing; `make
// test` installs all three (scripts/setup.sh).
package interop
