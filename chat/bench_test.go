package chat

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
)

// Run with at least 100 iterations, e.g.
//
//	go test -run '^$' -bench . -benchtime 200x ./chat/
//
// Each benchmark reports the median and p99 of its samples in milliseconds.

func reportLatency(b *testing.B, samples []time.Duration) {
	b.Helper()
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(samples[len(samples)/2]), "median-ms")
	b.ReportMetric(ms(samples[(len(samples)*99+99)/100-1]), "p99-ms")
	b.ReportMetric(float64(len(samples)), "samples")
}

// BenchmarkLogin: from Run (dial) to Online (TLS, SCRAM, bind, roster, presence
// processed by the server), StartTLS against the local Prosody.
func BenchmarkLogin(b *testing.B) {
	srv := startServer(b)
	samples := make([]time.Duration, 0, b.N)
	for b.Loop() {
		b.StopTimer()
		p := &peer{t: b}
		a, err := New(Config{
			JID: srv.JID("alice"), Password: testUsers["alice"], Server: srv.Addr, CAFile: srv.CAFile,
			Scheme: jidScheme(b, srv.JID("alice")), Logger: testLogger(),
		})
		if err != nil {
			b.Fatal(err)
		}
		p.Account = a
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		// Run's goroutine; it ends with cancel below.
		go func() { done <- a.Run(ctx) }()
		p.waitState(Online)
		samples = append(samples, time.Since(start))
		b.StopTimer()
		cancel()
		<-done
		a.Close()
		b.StartTimer()
	}
	reportLatency(b, samples)
}

// BenchmarkSignalRoundTrip: alice -> bob -> alice through Prosody: alice sends a call
// signal, bob's OnSignal hands it to a goroutine that sends it back, alice receives it.
func BenchmarkSignalRoundTrip(b *testing.B) {
	srv := startServer(b)
	alice := newPeer(b, srv, "alice", nil).online()
	bob := newPeer(b, srv, "bob", nil).online()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	echoDone := make(chan struct{})
	// bob's echo; it ends with cancel.
	go func() {
		defer close(echoDone)
		for {
			select {
			case <-ctx.Done():
				return
			case s := <-bob.signals:
				back := *s
				back.From, back.To = "", ""
				if err := bob.SendSignal(ctx, alice.LocalID(), &back); err != nil && ctx.Err() == nil {
					b.Error(err)
					return
				}
			}
		}
	}()
	defer func() { cancel(); <-echoDone }()

	samples := make([]time.Duration, 0, b.N)
	s := testSignal(alice.LocalID(), bob.LocalID(), 0)
	s.Type, s.SDP, s.Candidates = wire.TypeICECandidates, "", []wire.ICECandidate{{
		Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host", SDPMid: "0",
	}}
	for b.Loop() {
		start := time.Now()
		if err := alice.SendSignal(ctx, bob.LocalID(), s); err != nil {
			b.Fatal(err)
		}
		got := alice.nextSignal()
		samples = append(samples, time.Since(start))
		if got.SessionID != s.SessionID {
			b.Fatalf("echo of session %s, want %s", got.SessionID, s.SessionID)
		}
	}
	reportLatency(b, samples)
}
