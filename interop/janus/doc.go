// Package janus holds the conference tests and benchmarks that run whole processes
// against a real Janus VideoRoom: `ttycall headless --room` processes and web
// participants (janus.js, npm janus-gateway, in headless Chromium), all inside a
// network namespace of the test's own (internal/janusserver.ReexecInNetns).
package janus
