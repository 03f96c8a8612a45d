// The test page: StanzaJS (window.XMPP), a complete Jingle RTP stack, talking to a local
// Prosody over WebSocket, exposed to the driver as window.tt. XEP-0353 (Jingle Message
// Initiation) is defined here, as StanzaJS ships only a (wrong) namespace constant for it.
// Every Jingle and JMI stanza in or out is an event (xml_in/xml_out), and so is every
// session event.
'use strict';

(function () {
  var NS_JMI = 'urn:xmpp:jingle-message:0';
  var NS_RTP = 'urn:xmpp:jingle:apps:rtp:1';
  var JMI = ['propose', 'proceed', 'accept', 'reject', 'retract', 'finish', 'ringing'];
  var client = null;
  var sessions = {};      // sid -> MediaSession
  var outgoing = {};      // JMI id -> {to, media, stream}: our proposals
  var incoming = {};      // JMI id -> {from, media}: proposals we proceeded
  var auto = { mode: 'ignore' };
  var backlog = [];

  function now() { return performance.timeOrigin + performance.now(); }

  function emit(ev) {
    ev.t = ev.t || now();
    if (typeof window.ttEmit === 'function') {
      while (backlog.length) window.ttEmit(JSON.stringify(backlog.shift()));
      window.ttEmit(JSON.stringify(ev));
    } else {
      backlog.push(ev);
    }
  }

  function str(x) { return x === undefined || x === null ? '' : String(x); }

  function media(kinds) {
    return navigator.mediaDevices.getUserMedia({
      audio: kinds.indexOf('audio') >= 0,
      video: kinds.indexOf('video') >= 0
    });
  }

  function sendJMI(to, kind, id, kinds) {
    var msg = { to: to, type: 'chat' };
    msg['jmi_' + kind] = kinds ? { id: id, media: kinds } : { id: id };
    client.sendMessage(msg);
  }

  function track(session) {
    sessions[session.sid] = session;
  }

  function reasonOf(r) {
    if (!r) return '';
    if (typeof r === 'string') return r;
    return str(r.condition);
  }

  // Starts the session a proposal was proceeded to: the proposal's id is the sid.
  function startProposed(id, peer) {
    var p = outgoing[id];
    if (!p || p.started) return;
    p.started = true;
    var s = client.jingle.createMediaSession(peer, id, p.stream);
    track(s);
    s.start();
  }

  function onMessage(msg) {
    JMI.forEach(function (kind) {
      var el = msg['jmi_' + kind];
      if (!el) return;
      emit({ event: 'jmi', kind: kind, id: str(el.id), from: str(msg.from), media: el.media || [] });
      if (kind === 'proceed' && outgoing[el.id]) {
        startProposed(el.id, msg.from);
      } else if (kind === 'propose') {
        var kinds = el.media || [];
        switch (auto.mode) {
          case 'proceed':
          case 'busy':
            incoming[el.id] = { from: msg.from, media: kinds };
            sendJMI(msg.from, 'ringing', el.id);
            sendJMI(msg.from, 'proceed', el.id);
            break;
          case 'ring':
            sendJMI(msg.from, 'ringing', el.id);
            break;
          case 'reject':
            sendJMI(msg.from, 'reject', el.id);
            break;
        }
      }
    });
  }

  function onIncoming(session) {
    track(session);
    var kinds = [];
    (session.pc.getTransceivers ? session.pc.getTransceivers() : []).forEach(function (t) {
      if (t.receiver && t.receiver.track) kinds.push(t.receiver.track.kind);
    });
    emit({ event: 'incoming', sid: session.sid, from: str(session.peerID), media: kinds });
    var proposed = incoming[session.sid];
    if (auto.mode === 'busy') {
      session.end('busy');
      return;
    }
    if (proposed || auto.mode === 'accept') {
      var want = proposed ? proposed.media : (auto.media || ['audio', 'video']);
      if (proposed) session.ring();
      media(want).then(function (stream) {
        stream.getTracks().forEach(function (t) { session.addTrack(t, stream); });
        session.accept();
      }).catch(function (e) {
        emit({ event: 'error', message: 'accept: ' + e.message });
        session.end('failed-application');
      });
    }
  }

  function listen(c) {
    c.on('raw:incoming', function (xml) {
      if (String(xml).indexOf('urn:xmpp:jingle') >= 0) emit({ event: 'xml_in', xml: String(xml) });
    });
    c.on('raw:outgoing', function (xml) {
      if (String(xml).indexOf('urn:xmpp:jingle') >= 0) emit({ event: 'xml_out', xml: String(xml) });
    });
    c.on('message', onMessage);
    c.on('jingle:incoming', onIncoming);
    c.on('jingle:accepted', function (s) { emit({ event: 'accepted', sid: s.sid }); });
    c.on('jingle:terminated', function (s, reason) {
      emit({ event: 'terminated', sid: s.sid, reason: reasonOf(reason) });
    });
    ['ringing', 'hold', 'resumed', 'mute', 'unmute'].forEach(function (name) {
      c.on('jingle:' + name, function (s, info) {
        emit({ event: name, sid: s.sid, info: info ? JSON.parse(JSON.stringify(info)) : null });
      });
    });
    c.jingle.on('connectionState', function (s, v) { emit({ event: 'connection', sid: s.sid, state: v }); });
    c.jingle.on('peerTrackAdded', function (s, t) { emit({ event: 'track', sid: s.sid, kind: t.kind }); });
    c.on('disconnected', function () { emit({ event: 'disconnected' }); });
    // Contacts: a subscription request is approved and returned, so presence (and
    // with it disco) works both ways.
    c.on('subscribe', function (pres) {
      c.acceptSubscription(pres.from);
      c.subscribe(pres.from);
      emit({ event: 'subscribe', from: str(pres.from) });
    });
  }

  window.tt = {
    // login connects over WebSocket and sends presence; resolves with the full JID.
    login: function (o) {
      client = window.XMPP.createClient({
        jid: o.jid,
        password: o.password,
        resource: o.resource || 'page',
        transports: { websocket: o.websocket, bosh: false },
        useStreamManagement: false,
        // Its default ICE server is on the internet; tests stay on loopback.
        jingle: { iceServers: [] }
      });
      JMI.forEach(function (el) {
        client.stanzas.define({
          element: el,
          namespace: NS_JMI,
          path: 'message.jmi_' + el,
          fields: {
            id: window.XMPP.JXT.attribute('id'),
            media: window.XMPP.JXT.multipleChildAttribute(NS_RTP, 'description', 'media')
          }
        });
      });
      client.disco.addFeature(NS_JMI);
      listen(client);
      return new Promise(function (resolve, reject) {
        client.once('session:started', function () {
          client.sendPresence();
          Promise.resolve(client.enableCarbons && client.enableCarbons()).catch(function () {}).then(function () {
            resolve({ jid: str(client.jid) });
          });
        });
        client.once('stream:error', function (e) { reject(new Error('stream error ' + JSON.stringify(e))); });
        client.once('auth:failed', function () { reject(new Error('auth failed')); });
        client.connect();
      });
    },

    logout: function () {
      return new Promise(function (resolve) {
        client.once('disconnected', function () { resolve(true); });
        client.disconnect();
      });
    },

    // setAuto: what to do with incoming proposals and sessions:
    // ignore | proceed (ring, proceed, accept the session) | ring | reject | busy | accept.
    setAuto: function (o) { auto = o; return true; },

    // propose sends a JMI propose (id becomes the sid) after getting the media; the session
    // starts when a proceed arrives.
    propose: function (o) {
      return media(o.media).then(function (stream) {
        outgoing[o.id] = { to: o.to, media: o.media, stream: stream };
        sendJMI(o.to, 'propose', o.id, o.media);
        return true;
      });
    },

    // jmi sends one JMI element (retract, reject, finish, proceed, ringing, accept).
    jmi: function (o) { sendJMI(o.to, o.kind, o.id); return true; },

    // call starts a session without JMI.
    call: function (o) {
      return media(o.media).then(function (stream) {
        var s = client.jingle.createMediaSession(o.to, o.sid, stream);
        track(s);
        s.start();
        return true;
      });
    },

    end: function (o) {
      var s = sessions[o.sid];
      if (!s) throw new Error('no session ' + o.sid);
      s.end(o.reason || 'success');
      return true;
    },

    mute: function (o) { sessions[o.sid].mute(o.creator || 'initiator', o.name); return true; },
    hold: function (o) { sessions[o.sid].hold(); return true; },

    // getStats: RTP counters of a session, from the browser's own getStats.
    getStats: function (sid) {
      var s = sessions[sid];
      if (!s) throw new Error('no session ' + sid);
      return s.pc.getStats().then(function (report) {
        var r = { inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, inAudioBytes: 0,
                  inVideoBytes: 0, outAudioBytes: 0, outVideoBytes: 0, framesDecoded: 0 };
        report.forEach(function (st) {
          if (st.type === 'inbound-rtp') {
            r.inBytes += st.bytesReceived || 0;
            r.inPackets += st.packetsReceived || 0;
            if (st.kind === 'audio') r.inAudioBytes += st.bytesReceived || 0;
            if (st.kind === 'video') { r.inVideoBytes += st.bytesReceived || 0; r.framesDecoded += st.framesDecoded || 0; }
          } else if (st.type === 'transport') {
            r.iceState = st.iceState; r.dtlsState = st.dtlsState;
          } else if (st.type === 'outbound-rtp') {
            r.outBytes += st.bytesSent || 0;
            r.outPackets += st.packetsSent || 0;
            if (st.kind === 'audio') r.outAudioBytes += st.bytesSent || 0;
            if (st.kind === 'video') r.outVideoBytes += st.bytesSent || 0;
          }
        });
        return r;
      });
    },

    // forget drops ended sessions so a benchmark loop does not accumulate them.
    forget: function () {
      Object.keys(sessions).forEach(function (k) {
        if (sessions[k].state === 'ended') delete sessions[k];
      });
      return true;
    }
  };
})();
