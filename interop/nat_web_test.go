package interop

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ttycall/ttycall/internal/netsim"
	"github.com/ttycall/ttycall/internal/xmppserver"
	"github.com/ttycall/ttycall/internal/xmppserver/xmppservertest"
)

// The QuickBlox web page behind one symmetric NAT and ttycall behind the other, both
// relay-only with coturn REST credentials: the call connects through the relay, with
// media both ways. Everything runs in the test's own namespaces (internal/netsim):
// Prosody, coturn and the page server on pub, Chromium in A, ttycall in B. The browser
// may reach only pub's address (TT_ALLOW_HOSTS); the page keeps all its candidates, and
// relay policy is what keeps host and srflx candidates out of use.
//
// Relay-only ttycall answers with no candidate in its SDP (its relay candidate comes
// about 20 ms later, trickled), and the QuickBlox SDK keeps a trickled candidate that
// arrives before its setRemoteDescription has resolved without ever applying it
// (qbRTCPeerConnection.addCandidates applies the stored ones only when another batch
// comes later): Chromium never paired with ttycall's relay, in some runs. ttycall now
// sends its candidates again while ICE has not connected (call.candidateResendAfter).
func TestWebBehindNATRelayToTtycall(t *testing.T) {
	chromium, node := needBrowser(t)
	netsim.Require(t)
	ctx := ctxFor(t, 2*time.Minute)
	const secret = "interop-nat-secret"
	n := netsim.New(t, netsim.Symmetric, netsim.Symmetric)
	n.StartTURN(t, secret, false)
	users := map[string]string{userNode(101): password, userNode(201): password}
	srv := xmppservertest.Start(t, xmppserver.Options{Domain: "localhost", Users: users,
		IP: netsim.PubIP, Wrap: netsim.Wrap(n.Pub), Dial: netsim.Dialer(n.Pub)})
	if srv.WebSocketURL == "" {
		t.Fatal("interop: the Prosody on pub has no WebSocket endpoint")
	}
	ln, err := netsim.Listen(n.Pub, "tcp", netsim.PubIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	base := servePageOn(t, ln)
	turnURL := fmt.Sprintf("turn:%s:%d", netsim.PubIP, netsim.TURNPort)

	// ttycall, QuickBlox user 201, behind natB: relay only, coturn from its config.
	tu, tp := netsim.Credentials(secret, "tty", time.Hour)
	cfg := fmt.Sprintf("[account]\njid = %q\npassword = %q\nserver = %q\nca_file = %q\nid_scheme = \"quickblox\"\nresource = \"interop\"\n\n"+
		"[calls]\nstats_report_time_interval = 0.5\n\n[media]\ncamera = \"test\"\nmicrophone = \"test\"\n\n"+
		"[ice]\ntransport_policy = \"relay\"\nexternal_services = false\n\n[[ice.servers]]\nurls = [%q]\nusername = %q\ncredential = %q\n",
		userNode(201)+"@"+srv.Domain, password, srv.Addr, srv.CAFile, turnURL, tu, tp)
	path := filepath.Join(t.TempDir(), "ttycall-201.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	tty := startTtyIn(t, netsim.Wrap(n.HostB), nil, path, 201, []string{"--answer", "auto", "--video"})
	tty.Wait(ctx, 0, "event", "online")

	// Chromium in A, reaching pub through natA; the page served over http from pub.
	b := startDriverIn(t, ctx, webDir, base, chromium, node, netsim.Wrap(n.HostA), []string{
		"TT_ALLOW_HOSTS=" + netsim.PubIP,
		"TT_CHROMIUM_ARGS=--unsafely-treat-insecure-origin-as-secure=" + base,
	})
	web := b.Open(ctx, "web101")
	web.User = 101
	wu, wp := netsim.Credentials(secret, "web", time.Hour)
	var res struct{ JID string }
	web.Must(ctx, &res, "login", map[string]any{
		"appId": appID, "userId": 101, "password": password,
		"websocket": srv.WebSocketURL, "domain": srv.Domain,
		"allCandidates": true,
		"webrtc": map[string]any{
			"iceServers":         []map[string]any{{"urls": turnURL, "username": wu, "credential": wp}},
			"iceTransportPolicy": "relay",
		},
	})

	wm, tm := web.Mark(), tty.Mark()
	var c callResult
	web.Must(ctx, &c, "call", []int{201}, videoCall, map[string]string{})
	tty.Wait(ctx, tm, "event", "call", "session", c.Session)
	waitConnected(ctx, web, wm, c.Session, 201)
	tty.Wait(ctx, tm, "event", "connection_state", "session", c.Session, "user", "101", "state", "CONNECTED")

	st := waitMediaFlows(t, ctx, web, c.Session, 201)
	if st.InAudioBytes == 0 || st.InVideoBytes == 0 {
		t.Errorf("page received from ttycall %+v, want audio and video", st)
	}
	var last RTPStats
	if err := until(ctx, 100*time.Millisecond, "frames decoded by the page", func() (bool, error) {
		var all map[string]RTPStats
		if err := web.Invoke(ctx, &all, "getStats", c.Session); err != nil {
			return false, err
		}
		last = all["201"]
		return last.FramesDecoded > 0, nil
	}); err != nil {
		t.Fatal(err)
	}
	if last.LocalCandidateType != "relay" || last.RemoteCandidateType != "relay" {
		t.Errorf("page candidate pair %s/%s, want relay/relay", last.LocalCandidateType, last.RemoteCandidateType)
	}
	waitTtyReceives(t, ctx, tty, tm, c.Session, 101, true)

	// ttycall's pair is relay, and no candidate the page received from ttycall (SDP or
	// trickled) names anything but a relay.
	// Stats events come from the start of the call, the pair only once ICE has one.
	var cand map[string]any
	if err := until(ctx, 100*time.Millisecond, "ttycall's candidate pair", func() (bool, error) {
		for _, e := range tty.Events(tm) {
			if e.Str("event") == "stats" && e.Str("session") == c.Session && e.Str("user") == strconv.Itoa(101) {
				if cp, _ := e["candidate"].(map[string]any); cp["local_type"] != "" && cp["local_type"] != nil {
					cand = cp
				}
			}
		}
		return cand != nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if cand["local_type"] != "relay" || cand["remote_type"] != "relay" {
		t.Errorf("ttycall candidate pair %v, want relay/relay", cand)
	}
	for _, ev := range web.Events(wm) {
		if ev.Str("event") != "xml_in" {
			continue
		}
		for _, typ := range []string{"typ host", "typ srflx"} {
			if strings.Contains(ev.Str("xml"), typ) {
				t.Errorf("ttycall (relay only) sent a %q candidate: %s", typ, ev.Str("xml"))
			}
		}
	}
	web.Must(ctx, nil, "stop", map[string]string{}, c.Session)
	tty.Wait(ctx, tm, "event", "session_close", "session", c.Session)
	checkNoGarbage(t, tty)
}
