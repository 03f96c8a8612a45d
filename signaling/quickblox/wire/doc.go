// Package wire is the QuickBlox wire codec for call signaling: the <extraParams> payload that
// the QuickBlox SDKs (JavaScript, Android, iOS) carry inside XMPP headline messages.
//
// The format is described in ../shared/design/signaling.md. This package only turns
// Signal values into XML tokens and back (Encode, Decode, Marshal, Unmarshal) and maps
// user IDs to JIDs (Scheme); it does no I/O and knows nothing of sessions.
//
// # What the QuickBlox web SDK 2.23.0 writes
//
// Read off src/modules/webrtc/ of the npm package and checked by running that code
// under node (testdata/sdk/gen.js drives WebRTCSession's own methods and
// WebRTCSignalingProvider.sendMessage with a stubbed connection; its output is the
// golden stanzas in testdata/sdk/*.xml):
//
//   - The stanza is <message to="{id}-{appID}@{chat host}" type="headline"
//     id="{24 hex BSON ObjectId}"> with one <extraParams xmlns="jabber:client">.
//     No whitespace between elements.
//   - Children are written in the insertion order of a JS object. For call, accept,
//     reject and hangUp: userInfo (when the app passed an extension), sessionID,
//     callType, callerID, opponentsIDs, sdp (call, accept), then moduleIdentifier,
//     signalType, platform ("web"), which sendMessage adds last. iceCandidates: the
//     four session fields, iceCandidates, the three last ones. update: the caller's
//     own keys at the top level (for ICE restart: reason, sessionDescription), then
//     the session fields and the three last ones. Encode writes this order, except
//     that an update's extension goes inside <userInfo>: the receiving SDK's
//     onUpdateCallListener reads only extension.userInfo, so update({userInfo: {...}})
//     is the form in which SDK apps exchange data, and the one ttycall writes.
//   - call always carries userInfo, because the SDK adds userInfo.bandwidth (its
//     bandwidth cap, "0" for none); without an app extension that userInfo comes
//     after sdp instead of first. The receiving SDK reads userInfo.bandwidth as the
//     caller's cap. An empty userInfo is left out altogether (sendMessage deletes it);
//     Encode does the same.
//   - opponentsIDs is <opponentsIDs><opponentID>N</opponentID>…</opponentsIDs>;
//     iceCandidates is <iceCandidates><iceCandidate><candidate>…</candidate>
//     <sdpMid>0</sdpMid><sdpMLineIndex>0</sdpMLineIndex></iceCandidate>…
//     (keys in the order of the RTCIceCandidate fields the SDK copies).
//   - userInfo nests: every key is an element, a nested object a nested element.
//     JS null values become "" before sending. Numbers and booleans become text.
//   - Text is escaped by Strophe.xmlescape (&, <, >, ', " as entities). The SDP's
//     CRLFs are written raw, so any XML parser on the way (Prosody's, the receiver's)
//     turns them into LF: SDP from the web SDK arrives with LF line ends. ttycall
//     writes CR as &#xD; (encoding/xml does), which survives parsing, so the SDK
//     receives ttycall's SDP with CRLF intact (checked with testdata/sdk/parse.js).
//
// # How the SDK reads extraParams (WebRTCSignalingProcessor._getExtension)
//
// ttycall's output must fit this parser, and it has quirks:
//   - It walks childNodes, so whitespace text between elements would become keys
//     named "#text": never indent the payload.
//   - opponentID texts go through parseInt; everything else stays a string
//     (callerID "1001", callType "1", sdpMLineIndex "0"). Hence the quickblox scheme
//     writes plain decimal numbers, and the jid scheme cannot interoperate with the
//     SDK (parseInt of a JID is NaN): it is for ttycall-to-ttycall calls.
//   - An element with more than one child node becomes an object; one with exactly
//     one child becomes its textContent (userInfo is always an object). So a nested
//     userInfo map with a single key arrives at the SDK flattened to that key's text:
//     {"a": {"b": "x"}} is seen as {"a": "x"}. Avoid single-key nested maps.
//   - Duplicate elements: the last one wins; candidates and opponents of repeated
//     iceCandidates/opponentsIDs elements are appended. Decode does the same.
//   - The sender's user ID comes from the stanza's from JID (parseInt of the part
//     before "-"), not from callerID; signals carrying <delay> are ignored.
//   - sessionID, signalType and moduleIdentifier are removed before the extension is
//     handed to the listeners; platform is passed through.
//
// # Decoding rules
//
// Decode checks moduleIdentifier first (ErrNotSignal: the transport ignores such
// headlines), then signalType, sessionID, callType, callerID and the type's payload,
// with the limits MaxPayload, MaxDepth, MaxCandidates, MaxOpponents and MaxElements.
// SDP is returned with CRLF line ends (signaling.NormalizeSDP), ready for pion. Unknown
// top-level elements are ignored, except in update, where they are the SDK's raw
// update(ext) form and land in UserInfo together with <userInfo>'s entries (which win
// on a clash). Whatever Decode accepts, Encode writes back
// unchanged (FuzzDecode checks this).
package wire
