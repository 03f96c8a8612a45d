package impair

import "time"

// BenchProfile is one of the network profiles of the media benchmarks (issue #15), the
// same for ttycall<->ttycall (call's BenchmarkImpairedCall) and the runs with Chromium
// (interop's BenchmarkImpairedWeb): a link shaped the same way in each direction,
// possibly changed mid-call.
type BenchProfile struct {
	Name     string
	Link     Profile // each direction
	Capacity int     // bit/s, for "mean bitrate vs capacity" (0: no cap)
	// Drop: at a third of the call the link becomes DropTo, at two thirds Link again.
	Drop   bool
	DropTo Profile
}

// BenchProfiles: (a) 2% loss, 60 ms RTT; (b) 5% loss, 120 ms RTT, 30 ms jitter;
// (c) 1 Mbit/s; (d) 300 kbit/s; (e) 2 Mbit/s dropping to 400 kbit/s and back.
var BenchProfiles = []BenchProfile{
	{Name: "a-2pct-60ms", Link: Profile{Loss: 0.02, Delay: 30 * time.Millisecond}},
	{Name: "b-5pct-120ms-30jit", Link: Profile{Loss: 0.05, Delay: 60 * time.Millisecond, Jitter: 30 * time.Millisecond}},
	{Name: "c-1mbit", Link: Profile{RateBps: 1_000_000}, Capacity: 1_000_000},
	{Name: "d-300kbit", Link: Profile{RateBps: 300_000}, Capacity: 300_000},
	{Name: "e-2mbit-400k-2mbit", Link: Profile{RateBps: 2_000_000}, Capacity: 2_000_000,
		Drop: true, DropTo: Profile{RateBps: 400_000}},
}
