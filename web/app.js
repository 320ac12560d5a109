// clawvoice — the voice page: one WebRTC call to the launcher's browser route (docs/browser.md).
//
// POST api/session → WS signal (offer from here, answer from the launcher, trickle ICE both ways) →
// the call's state, transcript, agent tasks and cost arrive as `state` and `event` messages.
// Audio: the microphone goes out on one sendrecv track; the reply plays through WebAudio (which also
// measures it for the "speaking" light). No build step, no dependencies.
// The mode switch picks this (relayed) or direct.js (the browser talks to OpenAI itself).
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const ui = {
    connect: $('connect'), state: $('state'), reason: $('reason'), voice: $('voice'), theme: $('theme'),
    mic: $('mic-level'), out: $('out-level'), speaking: $('speaking'), cost: $('cost'),
    transcript: $('transcript'), tasks: $('tasks'), insecure: $('insecure'), remote: $('remote'),
    mode: $('mode'), tokenField: $('token-field'), token: $('access-token'),
  };

  // What tests (and the curious) can read: window.clawvoice.stats.
  // How long a "disconnected" media path may last before the one ICE restart is tried.
  const DISCONNECTED_GRACE_MS = 6000;
  const stats = { state: 'idle', reason: '', micPeak: 0, remotePeak: 0, remoteAudibleMs: 0, events: 0, iceRestarts: 0 };
  let call = null;   // the running call's objects

  // ---- theme ---------------------------------------------------------------------------------
  const savedTheme = localStorage.getItem('clawvoice-theme');
  if (savedTheme) document.documentElement.dataset.theme = savedTheme;
  ui.theme.addEventListener('click', () => {
    const dark = document.documentElement.dataset.theme === 'dark' ||
      (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'light' : 'dark';
    localStorage.setItem('clawvoice-theme', document.documentElement.dataset.theme);
  });
  const savedVoice = localStorage.getItem('clawvoice-voice');
  if (savedVoice) ui.voice.value = savedVoice;
  ui.voice.addEventListener('change', () => localStorage.setItem('clawvoice-voice', ui.voice.value));
  // Relayed (through the launcher) or direct to OpenAI; the direct mode needs the launcher's bearer
  // (typed in, or given as #token=… in the address).
  const savedMode = localStorage.getItem('clawvoice-mode');
  if (savedMode) ui.mode.value = savedMode;
  const hashToken = new URLSearchParams(location.hash.slice(1)).get('token');
  if (hashToken) ui.token.value = hashToken;
  const showMode = () => { ui.tokenField.hidden = ui.mode.value !== 'direct'; document.body.dataset.mode = ui.mode.value; };
  ui.mode.addEventListener('change', () => { localStorage.setItem('clawvoice-mode', ui.mode.value); showMode(); });
  showMode();

  // The microphone exists only in a secure context (HTTPS or localhost).
  const secure = window.isSecureContext && navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
  if (!secure) ui.insecure.hidden = false;

  // ---- state ---------------------------------------------------------------------------------
  function setState(state, reason = '') {
    stats.state = state;
    stats.reason = reason;
    document.body.dataset.state = state;
    ui.state.textContent = state;
    ui.reason.textContent = reason;
    const active = state === 'connecting' || state === 'live' || state === 'reconnecting';
    ui.connect.textContent = active ? 'Disconnect' : 'Connect';
    ui.voice.disabled = active;
    ui.mode.disabled = active;
  }

  function fail(reason) {
    if (!call) return;
    setState('failed', reason);
    teardown(false);
  }

  // ---- signalling ----------------------------------------------------------------------------
  function send(type, payload = {}) {
    if (call && call.ws && call.ws.readyState === WebSocket.OPEN)
      call.ws.send(JSON.stringify({ type, session_id: call.sessionId, payload }));
  }

  async function sendOffer(iceRestart) {
    const offer = await call.pc.createOffer(iceRestart ? { iceRestart: true } : {});
    await call.pc.setLocalDescription(offer);
    send('offer', { type: 'offer', sdp: call.pc.localDescription.sdp });
  }

  async function addCandidate(c) {
    try { await call.pc.addIceCandidate(c); } catch (err) { console.warn(`launcher candidate refused: ${err.message}`, c.candidate); }
  }

  async function onSignal(event) {
    let msg;
    try { msg = JSON.parse(event.data); } catch (e) { return fail('the launcher sent something unreadable'); }
    const p = msg.payload || {};
    switch (msg.type) {
      case 'answer':
        await call.pc.setRemoteDescription({ type: 'answer', sdp: p.sdp });
        for (const c of call.pendingCandidates.splice(0)) await addCandidate(c);
        break;
      case 'ice': {
        const c = { candidate: p.candidate, sdpMid: p.sdpMid, sdpMLineIndex: p.sdpMLineIndex };
        if (call.pc.remoteDescription) await addCandidate(c);
        else call.pendingCandidates.push(c);
        break;
      }
      case 'state':
        if (p.state === 'ended' || p.state === 'failed') {
          setState(p.state, p.reason || '');
          teardown(false);
        } else {
          setState(p.state, p.reason || '');
        }
        break;
      case 'event': onEvent(p); break;
      case 'error':
        call.lastError = p.message || 'error';
        setState('failed', call.lastError);
        break;
      case 'bye':
        if (stats.state !== 'failed') setState('ended', p.reason || 'the launcher hung up');
        teardown(false);
        break;
    }
  }

  // ---- events: transcript, turns, tasks, cost ------------------------------------------------
  function onEvent(e) {
    stats.events++;
    if (e.kind === 'task-renamed') {   // direct mode: the task got the launcher's id
      const li = ui.tasks.querySelector(`li[data-task="${CSS.escape(e.from)}"]`);
      if (li) li.dataset.task = e.to;
      return;
    }
    if (e.kind === 'transcript') {
      const key = `${e.role}:${e.item_id || ''}`;
      let li = ui.transcript.querySelector(`li[data-key="${CSS.escape(key)}"]`);
      if (!li) {
        li = document.createElement('li');
        li.dataset.key = key;
        li.className = `${e.role} partial`;
        li.textContent = '';
        ui.transcript.appendChild(li);
      }
      if (e.final) { li.textContent = e.text; li.classList.remove('partial'); }
      else li.textContent += e.text;
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
    } else if (e.kind === 'task') {
      const empty = ui.tasks.querySelector('.empty');
      if (empty) empty.remove();
      let li = ui.tasks.querySelector(`li[data-task="${CSS.escape(e.task_id)}"]`);
      if (!li) {
        li = document.createElement('li');
        li.dataset.task = e.task_id;
        li.innerHTML = '<span class="question"></span><span class="status"></span>';
        ui.tasks.appendChild(li);
      }
      li.querySelector('.question').textContent = e.question || `task ${e.task_id}`;
      const status = li.querySelector('.status');
      status.textContent = e.status;
      status.className = `status ${e.status}`;
      li.title = e.error || e.answer || '';
    } else if (e.kind === 'cost') {
      ui.cost.textContent = `$${Number(e.total_usd || 0).toFixed(4)}`;
    } else if (e.kind === 'turn') {
      if (e.event === 'response-started') call.modelSpeaking = true;
      if (e.event === 'response-done' || e.event === 'barge-in') call.modelSpeaking = false;
    }
  }

  // ---- audio: levels and playback ------------------------------------------------------------
  function level(analyser, buffer) {
    analyser.getFloatTimeDomainData(buffer);
    let sum = 0;
    for (const v of buffer) sum += v * v;
    return Math.sqrt(sum / buffer.length);
  }

  function startMeters() {
    const buf = new Float32Array(1024);
    let last = performance.now();
    const tick = () => {
      if (!call) return;
      const now = performance.now();
      const mic = call.micAnalyser ? level(call.micAnalyser, buf) : 0;
      const out = call.outAnalyser ? level(call.outAnalyser, buf) : 0;
      stats.micPeak = Math.max(stats.micPeak, mic);
      stats.remotePeak = Math.max(stats.remotePeak, out);
      const audible = out > 0.01;
      if (audible) stats.remoteAudibleMs += now - last;
      last = now;
      ui.mic.style.width = `${Math.min(100, mic * 300)}%`;
      ui.out.style.width = `${Math.min(100, out * 300)}%`;
      ui.speaking.classList.toggle('on', audible);
      call.meterFrame = requestAnimationFrame(tick);
    };
    // requestAnimationFrame does not run in hidden tabs; a timer keeps the numbers honest there.
    call.meterTimer = setInterval(() => { if (document.hidden) tick(); }, 50);
    tick();
  }

  function playRemote(stream) {
    // Chromium gives WebAudio nothing from a remote stream unless an <audio> element holds it too.
    ui.remote.srcObject = stream;
    const source = call.audio.createMediaStreamSource(stream);
    call.outAnalyser = call.audio.createAnalyser();
    call.outAnalyser.fftSize = 1024;
    source.connect(call.outAnalyser);
    call.outAnalyser.connect(call.audio.destination);
  }

  // ---- the call ------------------------------------------------------------------------------
  async function connect(options = {}) {
    if (call) return;
    if (!secure) { setState('failed', 'no microphone here: this page needs HTTPS (or http://localhost)'); return; }
    ui.transcript.textContent = '';
    ui.tasks.innerHTML = '<li class="empty">No tasks yet.</li>';
    ui.cost.textContent = '$0.0000';
    Object.assign(stats, { micPeak: 0, remotePeak: 0, remoteAudibleMs: 0, events: 0, iceRestarts: 0 });
    call = { pendingCandidates: [], restarted: false, wasLive: false };
    setState('connecting', 'asking for the microphone');
    try {
      call.audio = new AudioContext();
      call.mic = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true } });
      if (!call) return;
      const micSource = call.audio.createMediaStreamSource(call.mic);
      call.micAnalyser = call.audio.createAnalyser();
      call.micAnalyser.fftSize = 1024;
      micSource.connect(call.micAnalyser);

      const mode = options.mode || ui.mode.value;
      stats.mode = mode;
      if (mode === 'direct') {
        const page = { setState, onEvent, playRemote, stats, fail, end: (reason) => { setState('ended', reason); teardown(false); } };
        ui.cost.textContent = 'billed by OpenAI';
        startMeters();
        await window.clawvoiceDirect.start(call, page, { bearer: options.bearer || ui.token.value.trim() || undefined });
        return;
      }
      setState('connecting', 'opening a session');
      const headers = { 'Content-Type': 'application/json' };
      if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`;
      const res = await fetch('api/session', { method: 'POST', headers, body: JSON.stringify({ voice: ui.voice.value }) });
      const session = await res.json().catch(() => ({}));
      if (!res.ok) throw new Error(session.error || `the launcher refused the session (HTTP ${res.status})`);
      if (!call) return;
      call.sessionId = stats.sessionId = session.session_id;

      call.pc = new RTCPeerConnection({ iceServers: session.ice_servers || [], bundlePolicy: 'max-bundle',
                                         iceTransportPolicy: options.iceTransportPolicy || 'all' });
      for (const track of call.mic.getAudioTracks()) call.pc.addTransceiver(track, { direction: 'sendrecv', streams: [call.mic] });
      call.pc.ontrack = (e) => playRemote(e.streams[0] || new MediaStream([e.track]));
      call.pc.onicecandidate = (e) => {
        if (e.candidate) send('ice', { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex });
      };
      const thisCall = call;
      const restartIce = () => {
        thisCall.restarted = true;
        stats.iceRestarts++;
        setState('reconnecting', 'media connection lost; restarting ICE');
        sendOffer(true).catch((err) => fail(`ICE restart failed: ${err.message}`));
      };
      call.pc.onconnectionstatechange = () => {
        if (call !== thisCall) return;
        const s = call.pc.connectionState;
        if (s === 'connected') {
          call.wasLive = true;
          clearTimeout(call.disconnectTimer);
          call.disconnectTimer = null;
        } else if (s === 'disconnected' && !call.restarted && !call.disconnectTimer) {
          // "disconnected" is often a blip that heals by itself (a busy host, a lost burst of
          // consent checks): one ICE restart only if it lasts; the launcher says `reconnecting`.
          call.disconnectTimer = setTimeout(() => {
            thisCall.disconnectTimer = null;
            if (call === thisCall && thisCall.pc.connectionState !== 'connected' && !thisCall.restarted) restartIce();
          }, DISCONNECTED_GRACE_MS);
        } else if (s === 'failed') {
          clearTimeout(call.disconnectTimer);
          call.disconnectTimer = null;
          if (!call.restarted) restartIce();
          else fail('the media connection failed');
        }
      };

      const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
      call.ws = new WebSocket(`${scheme}//${location.host}${session.signal_url}`);
      call.ws.onmessage = (e) => onSignal(e).catch((err) => fail(err.message));
      call.ws.onclose = () => {
        if (call && (stats.state === 'connecting' || stats.state === 'live' || stats.state === 'reconnecting'))
          fail(call.lastError || 'the signalling connection closed');
        else if (call) teardown(false);
      };
      call.ws.onopen = () => {
        setState('connecting', 'negotiating');
        sendOffer(false).catch((err) => fail(`cannot make an offer: ${err.message}`));
      };
      startMeters();
    } catch (err) {
      fail(err.message || String(err));
    }
  }

  function teardown(sayBye) {
    if (!call) return;
    const c = call;
    call = null;
    c.closed = true;
    if (c.push) c.push.close();   // direct mode: the agent results socket
    cancelAnimationFrame(c.meterFrame);
    clearInterval(c.meterTimer);
    if (c.ws) {
      c.ws.onclose = null;
      if (sayBye && c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify({ type: 'bye', session_id: c.sessionId, payload: {} }));
      setTimeout(() => c.ws.close(), 200);
    }
    if (c.pc) c.pc.close();
    if (c.mic) c.mic.getTracks().forEach((t) => t.stop());
    if (c.audio) c.audio.close();
    ui.remote.srcObject = null;
    ui.mic.style.width = ui.out.style.width = '0';
    ui.speaking.classList.remove('on');
  }

  function disconnect() {
    if (!call) return;
    setState('ended', 'you hung up');
    teardown(true);
  }

  ui.connect.addEventListener('click', () => (call ? disconnect() : connect()));
  window.clawvoice = { connect, disconnect, stats };
})();
