// Drives the QuickBlox web SDK 2.23.0's own signaling code (WebRTCSession prototype
// methods + WebRTCSignalingProvider) with a stubbed connection and prints each stanza
// exactly as Strophe serialises it.
var path = '/tmp/package/src/';
var strophe = require('/tmp/package/node_modules/strophe.js/dist/strophe.umd.js');
global.$msg = strophe.$msg;
var Strophe = strophe.Strophe;
// Node shim only: @xmldom/xmldom has no Element.parentElement, which Strophe's
// Builder.up() uses (browsers have it). Give xmldom nodes the browser's getter.
(function () {
  var el = Strophe.xmlGenerator().createElement('x');
  var proto = Object.getPrototypeOf(Object.getPrototypeOf(el)); // xmldom Node
  if (!('parentElement' in el)) Object.defineProperty(proto, 'parentElement', {
    get: function () { var p = this.parentNode; return p && p.nodeType === 1 ? p : null; } });
})();
var fs = require('fs');
var config = require(path + 'qbConfig');
config.creds.appId = 77;
config.endpoints.chat = 'localhost';
var Provider = require(path + 'modules/webrtc/qbWebRTCSignalingProvider');
var Session = require(path + 'modules/webrtc/qbWebRTCSession');
var out = process.argv[2];
var n = 0, name = '';
var conn = { send: function (msg) {
  var xml = Strophe.serialize(msg.tree());
  // the message id is a time-based BSON ObjectId: pin it for reproducible goldens
  xml = xml.replace(/ id="[0-9a-f]{24}"/, ' id="000000000000000000000001"');
  fs.writeFileSync(out + '/' + name + '.xml', xml);
  n++;
}};
var provider = new Provider(null, { connection: conn });
var sdp = fs.readFileSync(out + '/offer.sdp', 'utf8');
var answer = fs.readFileSync(out + '/answer.sdp', 'utf8');
function fakeSession() {
  return {
    ID: '7f0c5b0e-3d7a-4b6e-9a51-2c8e4f1d9a10', callType: 1, initiatorID: 1001,
    opponentsIDs: [1002, 1003], bandwidth: 0, signalingProvider: provider,
    peerConnections: { 1002: { userID: 1002 } },
    _clearAnswerTimer: function () {}, _close: function () {},
  };
}
function prepare(extension) { // copy of the SDK's private _prepareExtension
  var ext = {};
  if (({}).toString.call(extension) === '[object Object]') {
    ext.userInfo = extension;
    ext = JSON.parse(JSON.stringify(ext).replace(/null/g, "\"\""));
  }
  return ext;
}
var pc = { userID: 1002, _pc: { localDescription: { sdp: sdp } } };
// session.call(extension) -> processCall(peer, prepared ext)
name = 'call'; Session.prototype.processCall.call(fakeSession(), pc, prepare({ name: 'Alice', avatar: { url: 'https://x/a.png', size: '64' }, note: 'a<b & "c"' }));
name = 'call_noext'; Session.prototype.processCall.call(fakeSession(), pc, prepare(undefined));
// accept: _acceptInternal builds the ext in this order after setLocalDescription
name = 'accept';
(function () { var s = fakeSession(); var ext = prepare({ mood: 'happy' });
  ext.sessionID = s.ID; ext.callType = s.callType; ext.callerID = s.initiatorID; ext.opponentsIDs = s.opponentsIDs; ext.sdp = answer;
  provider.sendMessage(1001, ext, 'accept'); })();
name = 'accept_noext';
(function () { var s = fakeSession(); var ext = prepare({});
  ext.sessionID = s.ID; ext.callType = s.callType; ext.callerID = s.initiatorID; ext.opponentsIDs = s.opponentsIDs; ext.sdp = answer;
  provider.sendMessage(1001, ext, 'accept'); })();
name = 'reject'; Session.prototype.reject.call(fakeSession(), {});
name = 'reject_ext'; Session.prototype.reject.call(fakeSession(), { reason: 'busy' });
name = 'hangup'; Session.prototype.stop.call(fakeSession(), {});
name = 'candidates'; Session.prototype.processIceCandidates.call(fakeSession(), pc, [
  { candidate: 'candidate:842163049 1 udp 1677729535 192.0.2.7 49203 typ srflx raddr 0.0.0.0 rport 0 generation 0 ufrag sK3z network-cost 999', sdpMid: '0', sdpMLineIndex: 0 },
  { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host generation 0', sdpMid: '1', sdpMLineIndex: 1 }]);
name = 'update_offer'; Session.prototype.update.call(fakeSession(), { reason: 'reconnect', sessionDescription: { offerId: '5d0e7c4a-1b2f-4e3d-8c9a-0f1e2d3c4b5a', sdp: sdp, type: 'offer' } }, 1002);
name = 'update_answer'; Session.prototype.update.call(fakeSession(), { reason: 'reconnect', sessionDescription: { offerId: '5d0e7c4a-1b2f-4e3d-8c9a-0f1e2d3c4b5a', sdp: answer, type: 'answer' } }, 1002);
console.error('wrote ' + n + ' stanzas');
