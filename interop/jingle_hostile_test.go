package interop

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/ttycall/ttycall/chat"
	"github.com/ttycall/ttycall/signaling/jingle"
	"github.com/ttycall/ttycall/signaling/jmi"
)

// attacker logs a plain XMPP account in (mellium, through chat.Account) to send what a
// hostile peer would; it is closed at cleanup.
func (e *JingleEnv) attacker(ctx context.Context, user string) *chat.Account {
	e.tb.Helper()
	j, err := jid.Parse(user + "@" + e.Server.Domain)
	if err != nil {
		e.tb.Fatal(err)
	}
	acc, err := chat.New(chat.Config{JID: j, Password: password, Server: e.Server.Addr, CAFile: e.Server.CAFile, Resource: "evil"})
	if err != nil {
		e.tb.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // ends at cleanup (cancel, Close)
		defer wg.Done()
		_ = acc.Run(runCtx)
	}()
	e.tb.Cleanup(func() {
		cancel()
		_ = acc.Close()
		wg.Wait()
	})
	for {
		select {
		case ev := <-acc.Events():
			if st, ok := ev.(chat.StateEvent); ok && st.State == chat.Online {
				return acc
			}
		case <-ctx.Done():
			e.tb.Fatalf("attacker %s not online: %v", user, ctx.Err())
		}
	}
}

func goldenJingle(t *testing.T, kind string) *jingle.Jingle {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(jingleGoldenDir, "stanzajs-"+kind+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := jingle.ParseString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestJingleHostileDuringCall: while the page and ttycall are in a call, a third
// account sends ttycall what the issue lists; each gets the IQ error XEP-0166 names and
// the call goes on (media keeps flowing both ways, no session ends).
func TestJingleHostileDuringCall(t *testing.T) {
	ctx := ctxFor(t, 3*time.Minute)
	env := startJingleEnv(t, ctx, "alice", "bob", "mallory")
	tty := env.Ttycall(ctx, "bob", JingleTtyOpts{Args: []string{"--answer", "auto", "--video"}, Stats: 0.5})
	alice, _ := env.StanzaUser(ctx, "alice", "page")
	evil := env.attacker(ctx, "mallory")

	pm, tm := alice.Mark(), tty.Mark()
	sid := fmt.Sprintf("live-%d", time.Now().UnixNano())
	alice.Must(ctx, nil, "propose", map[string]any{"to": "bob@localhost", "id": sid, "media": []string{"audio", "video"}})
	alice.Wait(ctx, pm, "event", "accepted", "sid", sid)
	alice.Wait(ctx, pm, "event", "connection", "sid", sid, "state", "connected")
	waitJingleMedia(t, ctx, alice, sid, "audio", "video")

	target, err := jid.Parse("bob@localhost/tty")
	if err != nil {
		t.Fatal(err)
	}
	var many []jingle.Candidate
	for i := 0; i < 5000; i++ {
		many = append(many, jingle.Candidate{Component: 1, Foundation: fmt.Sprint(i), IP: "127.0.0.1", Port: uint16(1000 + i), Priority: 1, Protocol: "udp", Type: "host"})
	}
	var manyPT []jingle.PayloadType
	for i := 0; i < 100; i++ {
		manyPT = append(manyPT, jingle.PayloadType{ID: uint8(i), Name: "x", ClockRate: 90000})
	}
	dup := goldenJingle(t, "session-initiate")
	dup.SID = sid
	acc := goldenJingle(t, "session-accept")
	acc.SID = sid
	cases := []struct {
		name string
		j    *jingle.Jingle
		want *jingle.Error
	}{
		{"unknown action", &jingle.Jingle{Action: "session-explode", SID: sid}, jingle.ErrIQBadRequest},
		{"unknown sid", &jingle.Jingle{Action: jingle.SessionTerminate, SID: "no-such-session", Reason: &jingle.Reason{Condition: "success"}}, jingle.ErrUnknownSession},
		{"terminate from a stranger", &jingle.Jingle{Action: jingle.SessionTerminate, SID: sid, Reason: &jingle.Reason{Condition: "success"}}, jingle.ErrUnknownSession},
		{"accept from a stranger", acc, jingle.ErrUnknownSession},
		{"duplicate session-initiate", dup, jingle.ErrTieBreak},
		{"thousands of candidates", &jingle.Jingle{Action: jingle.TransportInfo, SID: sid, Contents: []jingle.Content{{Creator: "initiator", Name: "0", Transport: &jingle.Transport{Ufrag: "u", Candidates: many}}}}, jingle.ErrIQBadRequest},
		{"huge description", &jingle.Jingle{Action: jingle.SessionInitiate, SID: "huge", Contents: []jingle.Content{{Creator: "initiator", Name: "0", Description: &jingle.Description{Media: "video", PayloadTypes: manyPT}}}}, jingle.ErrIQBadRequest},
	}
	for _, c := range cases {
		err := evil.SendJingle(ctx, target, c.j)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	// JMI from the stranger with the live id, and from the peer with other ids.
	_ = evil.SendJMI(ctx, target.Bare(), jmi.Message{Kind: jmi.Retract, ID: sid})
	_ = evil.SendJMI(ctx, target.Bare(), jmi.Message{Kind: jmi.Reject, ID: sid})
	alice.Must(ctx, nil, "jmi", map[string]any{"to": "bob@localhost", "kind": "retract", "id": sid + "-other"})

	// The call is untouched: fresh media both ways, and ends only when the page ends it.
	mark := alice.Mark()
	waitJingleMedia(t, ctx, alice, sid, "audio", "video")
	waitTtyReceivesFrom(t, ctx, tty, tty.Mark(), sid, "alice@localhost", true)
	for _, e := range tty.Events(tm) {
		if e.Str("event") == "session_close" || e.Str("event") == "stop" {
			t.Errorf("ttycall ended the call on hostile input: %s", e)
		}
	}
	for _, e := range alice.Events(mark) {
		if e.Str("event") == "terminated" {
			t.Errorf("the page's call ended: %s", e)
		}
	}
	alice.Must(ctx, nil, "end", map[string]any{"sid": sid, "reason": "success"})
	tty.Wait(ctx, tm, "event", "session_close", "session", sid)
}
