// The test page: the QuickBlox web SDK (QB), talking to a local Prosody over WebSocket,
// exposed to the driver as window.tt. Every SDK listener becomes an event passed to
// window.ttEmit (a binding the driver installs); every stanza in or out is an event too.
'use strict';

(function () {
  var sessions = {};       // sessionID -> QB session
  var current = null;      // the session commands act on by default
  var autoAnswer = { mode: 'ignore', ext: {} };
  var stateNames = {};     // connection state number -> name
  var sessionStateNames = { 1: 'NEW', 2: 'ACTIVE', 3: 'HUNGUP', 4: 'REJECTED', 5: 'CLOSED' };
  var backlog = [];        // events emitted before the driver's binding exists

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

  function plain(obj) {
    try { return JSON.parse(JSON.stringify(obj || {})); } catch (e) { return {}; }
  }

  function sessionOf(id) {
    var s = id ? sessions[id] : current;
    if (!s) throw new Error('no session ' + (id || '(current)'));
    return s;
  }

  function track(session) {
    sessions[session.ID] = session;
    current = session;
  }

  function media(session, callType) {
    return new Promise(function (resolve, reject) {
      session.getUserMedia({ audio: true, video: callType === 1 }, function (err, stream) {
        if (err) reject(new Error('getUserMedia: ' + (err.message || err.name || err)));
        else resolve(stream);
      });
    });
  }

  function serialize(elem) {
    try { return new XMLSerializer().serializeToString(elem); } catch (e) { return String(elem); }
  }

  // Only call signals are logged in full: they are what the Go side compares.
  function logStanza(dir, elem) {
    if (!elem || !elem.getElementsByTagName) return;
    var msgs = elem.tagName === 'message' ? [elem] : elem.getElementsByTagName('message');
    for (var i = 0; i < msgs.length; i++) {
      if (msgs[i].getElementsByTagName('extraParams').length) {
        emit({ event: 'xml_' + dir, xml: serialize(msgs[i]) });
      }
    }
  }

  function setListeners() {
    var W = QB.webrtc;
    Object.keys(W.SessionConnectionState).forEach(function (k) {
      stateNames[W.SessionConnectionState[k]] = k;
    });
    // Set on QB.webrtc before any session exists: the SDK copies some into each session.
    W.onCallListener = function (session, ext) {
      track(session);
      emit({ event: 'call', session: session.ID, user: session.initiatorID, ext: plain(ext),
             callType: session.callType, opponents: session.opponentsIDs });
      if (autoAnswer.mode === 'accept') {
        window.tt.accept(autoAnswer.ext, session.ID).catch(function (e) {
          emit({ event: 'error', message: 'auto accept: ' + e.message });
        });
      } else if (autoAnswer.mode === 'reject') {
        window.tt.reject(autoAnswer.ext, session.ID);
      }
    };
    W.onAcceptCallListener = function (session, userID, ext) {
      emit({ event: 'accept', session: session.ID, user: userID, ext: plain(ext) });
    };
    W.onRejectCallListener = function (session, userID, ext) {
      emit({ event: 'reject', session: session.ID, user: userID, ext: plain(ext) });
    };
    W.onStopCallListener = function (session, userID, ext) {
      emit({ event: 'stop', session: session.ID, user: userID, ext: plain(ext) });
    };
    W.onUserNotAnswerListener = function (session, userID) {
      emit({ event: 'user_not_answer', session: session.ID, user: userID });
    };
    W.onSessionCloseListener = function (session) {
      emit({ event: 'session_close', session: session.ID, state: sessionStateNames[session.state] || String(session.state) });
    };
    W.onUpdateCallListener = function (session, userID, ext) {
      emit({ event: 'update', session: session.ID, user: userID, ext: plain(ext) });
    };
    W.onSessionConnectionStateChangedListener = function (session, userID, state) {
      emit({ event: 'connection_state', session: session.ID, user: userID, state: stateNames[state] || String(state) });
    };
    W.onRemoteStreamListener = function (session, userID, stream) {
      var kinds = stream ? stream.getTracks().map(function (t) { return t.kind; }) : [];
      emit({ event: 'remote_stream', session: session.ID, user: userID, kinds: kinds });
      if (stream) {
        var el = document.getElementById('remote-' + session.ID + '-' + userID);
        if (!el) {
          el = document.createElement('video');
          el.id = 'remote-' + session.ID + '-' + userID;
          el.autoplay = true;
          el.muted = true;
          el.playsInline = true;
          document.getElementById('videos').appendChild(el);
        }
        el.srcObject = stream;
      }
    };
    W.onCallStatsReport = function (session, userID, stats, error) {
      emit({ event: 'stats', session: session.ID, user: userID, stats: plain(stats), error: error ? String(error) : undefined });
    };
    W.onInvalidEventsListener = function (name, session, userID, ext) {
      emit({ event: 'invalid_event', name: name, session: session && session.ID ? session.ID : session,
             user: userID, ext: plain(ext) });
    };
    W.onReconnectListener = function (session, userID, state) {
      emit({ event: 'reconnect', session: session.ID, user: userID, state: state });
    };
  }

  // Loopback only: candidates for any other address are neither sent nor used, so the
  // test puts no packet on this machine's other interfaces (the Go test also runs in a
  // network namespace with only lo when it can). Installed after QB.init, since the SDK
  // shims RTCPeerConnection (webrtc-adapter) then.
  function isLoopbackCandidate(c) {
    var addr = String(c).split(' ')[4] || '';
    return /^127\./.test(addr) || addr === '::1';
  }
  function filterSDP(sdp) {
    return String(sdp).split(/\r\n|\n/).filter(function (line) {
      if (line.indexOf('a=candidate:') !== 0) return true;
      var keep = isLoopbackCandidate(line.slice(2));
      if (!keep) emit({ event: 'dropped_candidate', candidate: line });
      return keep;
    }).join('\r\n');
  }
  function filterDesc(d) {
    if (!d || !d.sdp) return d;
    return new RTCSessionDescription({ type: d.type, sdp: filterSDP(d.sdp) });
  }
  function loopbackOnly() {
    var Native = window.RTCPeerConnection;
    if (Native.ttLoopback) return;
    class LoopbackPC extends Native {
      // login's relayOnly (impairment benchmarks): every connection goes through the
      // TURN relay the test runs, as iceTransportPolicy 'relay' makes it.
      constructor(config, ...rest) {
        if (window.ttRelayOnly) config = Object.assign({}, config || {}, { iceTransportPolicy: 'relay' });
        super(config, ...rest);
      }
      set onicecandidate(fn) {
        super.onicecandidate = typeof fn !== 'function' ? fn : function (ev) {
          if (ev.candidate && ev.candidate.candidate && !isLoopbackCandidate(ev.candidate.candidate)) {
            emit({ event: 'dropped_candidate', candidate: ev.candidate.candidate });
            return;
          }
          return fn.call(this, ev);
        };
      }
      get onicecandidate() { return super.onicecandidate; }
      get localDescription() { return filterDesc(super.localDescription); }
      setRemoteDescription(d) { return super.setRemoteDescription(filterDesc(d)); }
      addIceCandidate(c) {
        if (c && c.candidate && !isLoopbackCandidate(c.candidate)) {
          emit({ event: 'dropped_candidate', candidate: c.candidate, remote: true });
          return Promise.resolve();
        }
        return super.addIceCandidate(c);
      }
    }
    LoopbackPC.ttLoopback = true;
    window.RTCPeerConnection = LoopbackPC;
  }

  // init: QB.init with the local chat endpoint (and API endpoint when given), the page's
  // webrtc settings, loopback-only candidates (unless o.allCandidates) and the stanza and listener hooks. Returns
  // the Strophe connection.
  function init(o, authKey, authSecret, endpoints) {
    var cfg = {
      endpoints: Object.assign({ chat: o.domain || 'localhost' }, endpoints),
      chatProtocol: { active: 2, websocket: o.websocket },
      streamManagement: { enable: false },
      debug: { mode: o.debug ? 1 : 0 },
      webrtc: Object.assign({
        answerTimeInterval: 60,
        dialingTimeInterval: 5,
        disconnectTimeInterval: 30,
        statsReportTimeInterval: false,
        iceServers: []
      }, o.webrtc || {})
    };
    // No accountKey: the config is the 4th argument.
    QB.init(o.appId, authKey, authSecret, cfg);
    window.ttRelayOnly = !!o.relayOnly;
    // o.allCandidates (opt-in, NAT tests in network namespaces): keep every candidate,
    // for a page whose o.webrtc sets iceServers and iceTransportPolicy 'relay'.
    if (!o.allCandidates) loopbackOnly();
    // Hooks on Strophe: the stanzas as they go to and come from the wire.
    var conn = QB.chat.connection;
    var prevOut = conn.xmlOutput, prevIn = conn.xmlInput;
    conn.xmlOutput = function (elem) { logStanza('out', elem); if (prevOut) prevOut.call(conn, elem); };
    conn.xmlInput = function (elem) { logStanza('in', elem); if (prevIn) prevIn.call(conn, elem); };
    setListeners();
    return conn;
  }

  function connect(conn, userId, password) {
    return new Promise(function (resolve, reject) {
      QB.chat.connect({ userId: userId, password: password }, function (err) {
        if (err) { reject(new Error('chat.connect: ' + JSON.stringify(err))); return; }
        emit({ event: 'online', jid: conn.jid });
        resolve(conn.jid);
      });
    });
  }

  window.tt = {
    // login: QB.init with the local chat endpoint and no REST, then chat.connect.
    login: function (o) {
      // Strings for authKey/authSecret, no accountKey: the SDK then fetches no
      // account_settings and makes no REST request at all.
      var conn = init(o, 'interop-key', 'interop-secret', {});
      return connect(conn, o.userId, o.password).then(function (jid) { return { jid: jid }; });
    },

    // loginREST: as a QuickBlox app signs in: QB.init with the application's keys and the
    // API endpoint (the test's REST stand-in, https://127.0.0.1:PORT), QB.createSession
    // with the user's login and password, QB.users.get of another user by login, then
    // QB.chat.connect with the session's user ID and token as the password.
    loginREST: function (o) {
      var conn = init(o, o.authKey, o.authSecret, { api: o.api });
      return new Promise(function (resolve, reject) {
        QB.createSession({ login: o.login, password: o.password }, function (err, session) {
          if (err) { reject(new Error('createSession: ' + JSON.stringify(err))); return; }
          resolve(session);
        });
      }).then(function (session) {
        return new Promise(function (resolve, reject) {
          if (!o.lookup) { resolve(null); return; }
          QB.users.get({ login: o.lookup }, function (err, user) {
            if (err) { reject(new Error('users.get: ' + JSON.stringify(err))); return; }
            resolve(user);
          });
        }).then(function (peer) {
          return connect(conn, session.user_id, session.token).then(function (jid) {
            return { jid: jid, userId: session.user_id, token: session.token, peer: peer };
          });
        });
      });
    },

    setAutoAnswer: function (mode, ext) {
      autoAnswer = { mode: mode, ext: ext || {} };
      return true;
    },

    // call: new session, local media, session.call(ext). Returns the session ID and the
    // time call() was made (ms since the epoch, with fractions).
    call: function (ids, callType, ext, opts) {
      var type = callType === 2 || callType === 'audio' ? 2 : 1;
      var session = QB.webrtc.createNewSession(ids.map(Number), type, null, opts || {});
      track(session);
      return media(session, type).then(function () {
        var t = now();
        emit({ event: 'calling', session: session.ID, t: t });
        session.call(ext || {}, function () {});
        return { session: session.ID, t: t };
      });
    },

    accept: function (ext, id) {
      var session = sessionOf(id);
      return media(session, session.callType).then(function () {
        session.accept(ext || {});
        return { session: session.ID, t: now() };
      });
    },

    reject: function (ext, id) {
      var s = sessionOf(id);
      s.reject(ext || {});
      return { session: s.ID };
    },

    stop: function (ext, id) {
      var s = sessionOf(id);
      s.stop(ext || {});
      return { session: s.ID };
    },

    // update: session.update(raw) sends raw's fields as they are; the SDK's receivers read
    // only raw.userInfo. wrap=true sends {userInfo: ext}, which is what reaches a listener.
    update: function (ext, wrap, id, userID) {
      var s = sessionOf(id);
      s.update(wrap === false ? (ext || {}) : { userInfo: ext || {} }, userID);
      return { session: s.ID };
    },

    sessionState: function (id) {
      var s = sessionOf(id);
      var conns = {};
      Object.keys(s.peerConnections).forEach(function (u) {
        conns[u] = stateNames[s.connectionStateForUser(u)] || String(s.connectionStateForUser(u));
      });
      return { session: s.ID, state: sessionStateNames[s.state] || String(s.state), connections: conns };
    },

    // stats: RTP bytes and packets per opponent, from the browser's own getStats.
    getStats: function (id) {
      var s = sessionOf(id);
      var users = Object.keys(s.peerConnections);
      return Promise.all(users.map(function (u) {
        var pc = s.peerConnections[u]._pc;
        return pc.getStats().then(function (report) {
          var r = { inBytes: 0, outBytes: 0, inPackets: 0, outPackets: 0, inAudioBytes: 0,
                    inVideoBytes: 0, outAudioBytes: 0, outVideoBytes: 0, framesDecoded: 0 };
          report.forEach(function (st) {
            if (st.type === 'inbound-rtp') {
              r.inBytes += st.bytesReceived || 0;
              r.inPackets += st.packetsReceived || 0;
              if (st.kind === 'audio') r.inAudioBytes += st.bytesReceived || 0;
              if (st.kind === 'video') {
                r.inVideoBytes += st.bytesReceived || 0; r.framesDecoded += st.framesDecoded || 0;
                r.freezeCount = st.freezeCount || 0; r.totalFreezesDuration = st.totalFreezesDuration || 0;
                r.inVideoPacketsLost = st.packetsLost || 0; r.inVideoPackets = st.packetsReceived || 0;
                r.nackCount = st.nackCount || 0; r.frameWidth = st.frameWidth || 0;
                r.pliCount = st.pliCount || 0;
                r.keyFramesDecoded = st.keyFramesDecoded || 0; r.framesDropped = st.framesDropped || 0;
                r.jitterBufferDelay = st.jitterBufferDelay || 0; r.jitterBufferEmittedCount = st.jitterBufferEmittedCount || 0;
              }
              if (st.kind === 'audio') {
                r.inAudioPacketsLost = st.packetsLost || 0; r.inAudioPackets = st.packetsReceived || 0;
                r.concealedSamples = st.concealedSamples || 0; r.totalSamplesReceived = st.totalSamplesReceived || 0;
              }
            } else if (st.type === 'remote-inbound-rtp' && st.kind === 'video') {
              r.remoteRTT = st.roundTripTime || 0;
            } else if (st.type === 'candidate-pair' && st.nominated && st.availableOutgoingBitrate) {
              r.availableOutgoingBitrate = st.availableOutgoingBitrate;
            } else if (st.type === 'transport') {
              r.iceState = st.iceState; r.dtlsState = st.dtlsState;
              // The selected pair's candidate types (host, srflx, prflx, relay).
              var pair = report.get(st.selectedCandidatePairId);
              var lc = pair && report.get(pair.localCandidateId);
              var rc = pair && report.get(pair.remoteCandidateId);
              if (lc) { r.localCandidateType = lc.candidateType; r.localRelayProtocol = lc.relayProtocol; }
              if (rc) r.remoteCandidateType = rc.candidateType;
            } else if (st.type === 'outbound-rtp') {
              r.outBytes += st.bytesSent || 0;
              r.outPackets += st.packetsSent || 0;
              if (st.kind === 'audio') r.outAudioBytes += st.bytesSent || 0;
              if (st.kind === 'video') { r.outVideoBytes += st.bytesSent || 0; }
            }
          });
          return [u, r];
        });
      })).then(function (pairs) {
        var out = {};
        pairs.forEach(function (p) { out[p[0]] = p[1]; });
        return out;
      });
    },

    // fetch: a request from the page, for the test that the driver blocks non-loopback
    // requests. Returns the error text ("" when the request went through).
    fetch: function (url) {
      return window.fetch(url).then(function () { return ''; }, function (e) { return String(e); });
    },

    // forget: drop closed sessions so a benchmark loop does not accumulate them.
    forget: function () {
      Object.keys(sessions).forEach(function (k) {
        if (sessions[k].state === 5) { delete sessions[k]; delete QB.webrtc.sessions[k]; }
      });
      return true;
    }
  };

  window.addEventListener('error', function (e) {
    emit({ event: 'error', message: 'page: ' + e.message });
  });
})();
