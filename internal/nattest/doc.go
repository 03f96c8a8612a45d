// Package nattest holds the tests of calls across NATs and firewalls: ttycall processes
// (and the QuickBlox web page) in private networks behind simulated NAT routers
// (internal/netsim), with Prosody and coturn on the public side. It has no code of its
// own; the tests need root, ip and nft (CI has them) and skip elsewhere.
package nattest
