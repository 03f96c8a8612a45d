package chat

import (
	"context"
	"testing"
)

// TestBindsConfiguredResource: the server binds the resource we ask for (mellium alone
// would let it pick a random one).
func TestBindsConfiguredResource(t *testing.T) {
	srv := startServer(t)
	p := newPeer(t, srv, "alice", func(c *Config) { c.Resource = "interop" })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	s, err := p.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.LocalAddr().String(); got != "alice@localhost/interop" {
		t.Errorf("bound %s, want alice@localhost/interop", got)
	}
}
