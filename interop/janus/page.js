// page.js: one web participant of a Janus VideoRoom room, on janus.js (npm
// janus-gateway), driven by driver.mjs through window.tt. It publishes the fake camera
// and microphone (or audio only), subscribes to every other publisher with one
// multistream subscriber handle, and reports what it receives per publisher.
import Janus from '/node_modules/janus-gateway/npm/dist/janus.es.js';

const log = (...a) => console.log('[page]', ...a);
const state = {
  janus: null, pub: null, sub: null, myId: null, room: null, pin: '',
  feeds: new Map(),   // publisher id -> display
  midFeed: new Map(), // subscriber mid -> {id, display, type}
  subscribed: new Set(), // "feed/mid" subscribed
  subJoined: false, subBusy: false, pending: [],
  events: [],
};
const ev = (name, data) => { state.events.push({ name, ...data, t: Date.now() }); };

function initJanus() {
  return new Promise((resolve) => Janus.init({ debug: false, dependencies: Janus.useDefaultDependencies({ adapter: window.adapter }), callback: resolve }));
}

function subscribeTo(pubs) {
  const streams = [];
  for (const p of pubs) {
    if (p.id === state.myId) continue;
    state.feeds.set(p.id, p.display || '');
    for (const s of p.streams || []) {
      if (s.disabled || (s.type !== 'audio' && s.type !== 'video')) continue;
      const k = p.id + '/' + s.mid;
      if (state.subscribed.has(k)) continue;
      state.subscribed.add(k);
      streams.push({ feed: p.id, mid: s.mid });
    }
  }
  if (!streams.length) return;
  if (!state.subJoined) {
    state.subJoined = true;
    state.sub.send({ message: { request: 'join', ptype: 'subscriber', room: state.room, pin: state.pin, streams } });
  } else {
    state.sub.send({ message: { request: 'subscribe', streams } });
  }
}

function mapStreams(streams) {
  if (!streams) return;
  for (const s of streams) {
    if (s.feed_id) state.midFeed.set(s.mid, { id: s.feed_id, display: s.feed_display || state.feeds.get(s.feed_id) || '', type: s.type });
  }
}

function attachSubscriber() {
  return new Promise((resolve, reject) => {
    state.janus.attach({
      plugin: 'janus.plugin.videoroom',
      success: (h) => { state.sub = h; resolve(); },
      error: reject,
      onmessage: (msg, jsep) => {
        if (msg.error) { ev('error', { message: msg.error }); return; }
        mapStreams(msg.streams);
        if (jsep) {
          state.sub.createAnswer({
            jsep, tracks: [{ type: 'data' }],
            success: (ans) => state.sub.send({ message: { request: 'start' }, jsep: ans }),
            error: (e) => ev('error', { message: 'answer: ' + e }),
          });
        }
      },
      onremotetrack: (track, mid, on) => {
        const f = state.midFeed.get(mid);
        ev('remotetrack', { mid, on, kind: track.kind, feed: f && f.id, display: f && f.display });
      },
    });
  });
}

window.tt = {
  async join({ server, room, pin, display, audioOnly, simulcast, width, height }) {
    state.room = room; state.pin = pin || '';
    await initJanus();
    await new Promise((resolve, reject) => {
      state.janus = new Janus({ server, iceServers: [], success: resolve, error: (e) => { ev('janus_error', { message: String(e) }); reject(new Error(String(e))); } });
    });
    await attachSubscriber();
    return await new Promise((resolve, reject) => {
      state.janus.attach({
        plugin: 'janus.plugin.videoroom',
        error: reject,
        success: (h) => {
          state.pub = h;
          h.send({ message: { request: 'join', ptype: 'publisher', room, pin: state.pin, display } });
        },
        webrtcState: (on) => { ev('webrtc', { on }); if (on) resolve({ id: state.myId }); },
        onmessage: (msg, jsep) => {
          const vr = msg.videoroom;
          if (msg.error) { ev('error', { message: msg.error, code: msg.error_code }); reject(new Error(msg.error)); return; }
          if (vr === 'joined') {
            state.myId = msg.id;
            ev('joined', { id: msg.id });
            state.pub.createOffer({
              tracks: [{ type: 'audio', capture: true, recv: false }].concat(audioOnly ? [] : [{ type: 'video', capture: { width: width || 320, height: height || 240 }, simulcast: !!simulcast, recv: false }]),
              success: (offer) => state.pub.send({ message: { request: 'configure', audio: true, video: !audioOnly, bitrate: simulcast ? 2000000 : 200000 }, jsep: offer }),
              error: (e) => reject(new Error('offer: ' + e)),
            });
            subscribeTo(msg.publishers || []);
          } else if (vr === 'event') {
            if (msg.publishers) subscribeTo(msg.publishers);
            for (const k of ['leaving', 'unpublished']) {
              if (msg[k] && msg[k] !== 'ok') {
                ev('left', { id: msg[k], display: state.feeds.get(msg[k]) });
                for (const s of [...state.subscribed]) if (s.startsWith(msg[k] + '/')) state.subscribed.delete(s);
              }
            }
          } else if (vr === 'talking' || vr === 'stopped-talking') {
            ev(vr, { id: msg.id });
          }
          if (jsep) state.pub.handleRemoteJsep({ jsep });
        },
      });
    });
  },

  // received: per publisher display, what the subscription receives (inbound-rtp).
  async received() {
    const out = {};
    if (!state.sub || !state.sub.webrtcStuff || !state.sub.webrtcStuff.pc) return out;
    const stats = await state.sub.webrtcStuff.pc.getStats();
    stats.forEach((r) => {
      if (r.type !== 'inbound-rtp') return;
      const f = state.midFeed.get(r.mid);
      if (!f) return;
      const o = out[f.display] || (out[f.display] = { audio: 0, video: 0, frames: 0 });
      if (r.kind === 'audio') o.audio += r.packetsReceived || 0;
      else { o.video += r.packetsReceived || 0; o.frames += r.framesDecoded || 0; }
    });
    return out;
  },

  events() { return state.events; },

  leave() {
    if (state.janus) state.janus.destroy({ unload: true });
    return true;
  },
};
