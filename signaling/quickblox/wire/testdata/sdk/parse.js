// Feeds <extraParams> elements to the QuickBlox web SDK 2.23.0's own parser
// (WebRTCSignalingProcessor._getExtension) and prints what the SDK's listeners get.
var path = '/tmp/package/src/';
var xmldom = require('/tmp/package/node_modules/@xmldom/xmldom');
var fs = require('fs');
// Browsers' NodeList has forEach; xmldom's may not.
var doc0 = new xmldom.DOMParser().parseFromString('<a><b/></a>', 'text/xml');
var NL = Object.getPrototypeOf(doc0.documentElement.childNodes);
if (!NL.forEach) NL.forEach = function (f) { for (var i = 0; i < this.length; i++) f(this[i], i); };
var Processor = require(path + 'modules/webrtc/qbWebRTCSignalingProcessor');
var p = new Processor(null, {});
process.argv.slice(2).forEach(function (file) {
  var xml = fs.readFileSync(file, 'utf8');
  var doc = new xmldom.DOMParser().parseFromString(xml, 'text/xml');
  var ext = doc.getElementsByTagName('extraParams')[0];
  console.log(file.split('/').pop() + ' ' + JSON.stringify(p._getExtension(ext)).slice(0, 400));
});
