package main

import (
	"bytes"
	"strings"
	"testing"
)

// --version answers after any subcommand, and `ttycall version` names the codec
// libraries linked in.
func TestVersionEverywhere(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"headless", "--version"}, {"demo", "--version"}, {"devices", "--version"}, {"--config", "x.toml", "--version"}} {
		var out, errOut bytes.Buffer
		if code := run(args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut.String())
		}
		for _, want := range []string{"ttycall ", "github.com/ttycall/ttycall", "libvpx ", "libopus "} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%q: %q lacks %q", args, out.String(), want)
			}
		}
	}
}

// devices says when no real camera or microphone was found (the synthetic sources are
// always listed).
func TestDevicesSaysWhatIsMissing(t *testing.T) {
	var out bytes.Buffer
	listDevices(&out)
	s := out.String()
	if !strings.Contains(s, "test pattern") {
		t.Fatalf("%q", s)
	}
	if !strings.Contains(s, "no camera found") && !strings.Contains(s, "/dev/video") {
		t.Errorf("neither a camera nor 'no camera found': %q", s)
	}
}
