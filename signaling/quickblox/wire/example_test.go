package wire_test

import (
	"fmt"

	"github.com/ttycall/ttycall/signaling/quickblox/wire"
	"mellium.im/xmpp/jid"
)

func ExampleMarshal() {
	// The account 1002-77@localhost uses the quickblox scheme: user 1001 is
	// 1001-77@localhost.
	sch, err := wire.NewScheme("auto", jid.MustParse("1002-77@localhost"))
	if err != nil {
		panic(err)
	}
	out, err := wire.Marshal(&wire.Signal{
		Type:        wire.TypeHangUp,
		SessionID:   "7f0c5b0e-3d7a-4b6e-9a51-2c8e4f1d9a10",
		CallType:    wire.CallTypeVideo,
		CallerID:    "1001",
		OpponentIDs: []wire.UserID{"1002"},
	}, sch)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(out))
	to, _ := sch.JID("1001")
	fmt.Println(to)
	// Output:
	// <extraParams xmlns="jabber:client"><sessionID>7f0c5b0e-3d7a-4b6e-9a51-2c8e4f1d9a10</sessionID><callType>1</callType><callerID>1001</callerID><opponentsIDs><opponentID>1002</opponentID></opponentsIDs><moduleIdentifier>WebRTCVideoChat</moduleIdentifier><signalType>hangUp</signalType><platform>ttycall</platform></extraParams>
	// 1001-77@localhost
}
