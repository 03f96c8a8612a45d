package impair

import (
	"fmt"
	"net"

	"github.com/pion/logging"
	"github.com/pion/turn/v5"
)

// Relay is a TURN server (pion/turn) on loopback whose relayed sockets are shaped: with
// both peers on relay-only ICE through it, all media crosses the shaper, whatever the
// peers are (Chromium included). Each allocation's socket shapes what it relays to the
// other peer, so each direction is its own link.
type Relay struct {
	URL      string // turn:127.0.0.1:port?transport=udp
	Username string
	Password string
	Net      *Net // SetProfile changes the link mid-call
	srv      *turn.Server
}

const relayRealm = "ttycall-impair"

// StartRelay starts a TURN server on a free loopback port with profile p.
func StartRelay(p Profile, seed uint64) (*Relay, error) {
	n, err := NewNet(nil, p, seed)
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		n.Close()
		return nil, fmt.Errorf("impair: relay listener: %w", err)
	}
	r := &Relay{Username: "impair", Password: "impair", Net: n}
	key := turn.GenerateAuthKey(r.Username, relayRealm, r.Password)
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelError
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:         relayRealm,
		LoggerFactory: lf,
		AuthHandler: func(ra *turn.RequestAttributes) (string, []byte, bool) {
			if ra.Username == r.Username {
				return ra.Username, key, true
			}
			return "", nil, false
		},
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn: pc,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{
				RelayAddress: net.IPv4(127, 0, 0, 1),
				Address:      "127.0.0.1",
				Net:          n,
			},
		}},
	})
	if err != nil {
		_ = pc.Close()
		n.Close()
		return nil, fmt.Errorf("impair: TURN server: %w", err)
	}
	r.srv = srv
	r.URL = fmt.Sprintf("turn:%s?transport=udp", pc.LocalAddr().String())
	return r, nil
}

// Close stops the server and the shapers.
func (r *Relay) Close() error {
	err := r.srv.Close()
	r.Net.Close()
	if err != nil {
		return fmt.Errorf("impair: close TURN server: %w", err)
	}
	return nil
}
