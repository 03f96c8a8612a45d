// Package xmppserver runs a private Prosody XMPP server on loopback, for the tests and
// for `ttycall demo`. Each server has its own config, certificate, ports, data directory
// and log in a temporary directory, so it never touches the system's Prosody, and it is
// killed with its parent: nothing is left running when a test fails or is interrupted.
//
// Accounts are written straight into Prosody's internal storage (internal_plain), which
// is much faster than one prosodyctl process per account and works while the server runs.
package xmppserver
