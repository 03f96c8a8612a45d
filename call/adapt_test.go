package call

import "testing"

// TestVideoTarget: audio's share comes off the estimate first, the configured cap
// (kbit/s, like b=AS) bounds the rest, and video never gets less than its floor.
func TestVideoTarget(t *testing.T) {
	for _, tc := range []struct{ avail, capKbps, want int }{
		{1_000_000, 0, 1_000_000 - audioReserve},
		{1_000_000, 300, 300_000},
		{300_000, 0, 300_000 - audioReserve},
		{50_000, 0, minVideoBitrate},
	} {
		if got := videoTarget(tc.avail, tc.capKbps); got != tc.want {
			t.Errorf("videoTarget(%d, %d) = %d, want %d", tc.avail, tc.capKbps, got, tc.want)
		}
	}
}
