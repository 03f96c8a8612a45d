package devices

import (
	"strings"
	"testing"
)

func TestCodecVersions(t *testing.T) {
	vpx, opus := CodecVersions()
	if vpx == "" || !strings.Contains(opus, "opus") {
		t.Fatalf("CodecVersions() = %q, %q", vpx, opus)
	}
}
