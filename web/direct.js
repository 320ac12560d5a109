// clawvoice — the voice page's direct mode: the browser talks to OpenAI itself (docs/openai.md,
// "Browser straight to OpenAI"); the launcher only mints the key and runs the agent.
//
//   POST api/token → {token: ek_…, calls_url}      the launcher (our bearer)
//   POST calls_url  (SDP offer, Bearer ek_…) → 201 SDP answer, Location: …/calls/rtc_…
//   data channel `oai-events`: the Realtime events both ways
//   response.function_call_arguments.done → POST api/send {message, sessionId} → {taskId}
//   WS ws?sessionId=…  {type:"result", taskId, text} → conversation.item.create (function_call_output)
//                                                        + response.create: the voice speaks it
//
// It adapts OpenAI's events to the page's own (transcript, task, turn), so app.js draws both modes
// the same way. No build step, no dependencies.
'use strict';

(() => {
  const GATHER_MS = 1500;   // wait this long at most for our ICE candidates before offering

  function waitForGathering(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { if (pc.iceGatheringState === 'complete') { pc.removeEventListener('icegatheringstatechange', done); resolve(); } };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, GATHER_MS);
    });
  }

  function questionOf(argumentsText) {
    try {
      const args = JSON.parse(argumentsText || '{}');
      if (typeof args.message === 'string') return args.message;
      const first = Object.values(args).find((v) => typeof v === 'string');
      return first || argumentsText;
    } catch { return argumentsText || ''; }
  }

  /* @call: app.js's call object (mic, audio, …); @page: {setState, fail, onEvent, playRemote, stats}. */
  async function start(call, page, options = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (options.bearer) headers.Authorization = `Bearer ${options.bearer}`;
    page.setState('connecting', 'asking the launcher for a key');
    const res = await fetch('api/token', { method: 'POST', headers, body: '{}' });
    const minted = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(minted.error || `the launcher refused a key (HTTP ${res.status})`);
    if (call.closed) return;
    const callsUrl = minted.calls_url || 'https://api.openai.com/v1/realtime/calls';

    const sessionId = (crypto.randomUUID && crypto.randomUUID()) || `s${Date.now()}${Math.random().toString(16).slice(2)}`;
    call.sessionId = page.stats.sessionId = sessionId;
    call.toolCalls = new Map();   // taskId → {callId, question}
    call.early = new Map();       // results pushed before /api/send answered

    // The agent's answers come back on our WebSocket.
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const wsUrl = new URL(`${scheme}//${location.host}${location.pathname.replace(/[^/]*$/, '')}ws`);
    wsUrl.searchParams.set('sessionId', sessionId);
    if (options.bearer) wsUrl.searchParams.set('token', options.bearer);
    call.push = new WebSocket(wsUrl);
    call.push.onmessage = (e) => { let m; try { m = JSON.parse(e.data); } catch { return; } if (m.type === 'result') onResult(m); };

    call.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    for (const track of call.mic.getAudioTracks()) call.pc.addTransceiver(track, { direction: 'sendrecv', streams: [call.mic] });
    call.pc.ontrack = (e) => page.playRemote(e.streams[0] || new MediaStream([e.track]));
    call.dc = call.pc.createDataChannel('oai-events');
    call.dc.onmessage = (e) => { let ev; try { ev = JSON.parse(e.data); } catch { return; } onServerEvent(ev); };
    call.dc.onopen = () => maybeLive();
    call.dc.onclose = () => { if (!call.closed && page.stats.state === 'live') page.end('the voice closed the session'); };
    call.pc.onconnectionstatechange = () => {
      const s = call.pc.connectionState;
      if (s === 'connected') maybeLive();
      else if (s === 'failed') page.fail('the media connection to the voice failed');
      else if (s === 'closed' && !call.closed) page.end('the voice hung up');
    };

    page.setState('connecting', 'negotiating with the voice');
    await call.pc.setLocalDescription(await call.pc.createOffer());
    await waitForGathering(call.pc);
    if (call.closed) return;
    const answer = await fetch(callsUrl, {
      method: 'POST', body: call.pc.localDescription.sdp,
      headers: { Authorization: `Bearer ${minted.token}`, 'Content-Type': 'application/sdp' } });
    const sdp = await answer.text();
    if (answer.status !== 201) {
      let why = `HTTP ${answer.status}`;
      try { why = JSON.parse(sdp).error.message || why; } catch {}
      throw new Error(`the voice refused the call: ${why}`);
    }
    const location_ = answer.headers.get('Location') || '';
    page.stats.callId = location_.split('/').pop();
    if (call.closed) return;
    await call.pc.setRemoteDescription({ type: 'answer', sdp });

    function maybeLive() {
      if (!call.closed && call.pc.connectionState === 'connected' && call.dc.readyState === 'open' && page.stats.state !== 'live')
        page.setState('live', '');
    }

    function send(event) {
      if (call.dc && call.dc.readyState === 'open') call.dc.send(JSON.stringify(event));
    }

    function onServerEvent(ev) {
      page.stats.oaiEvents = (page.stats.oaiEvents || 0) + 1;
      switch (ev.type) {
        case 'conversation.item.input_audio_transcription.delta':
          page.onEvent({ kind: 'transcript', role: 'user', item_id: ev.item_id, text: ev.delta || '', final: false });
          break;
        case 'conversation.item.input_audio_transcription.completed':
          page.onEvent({ kind: 'transcript', role: 'user', item_id: ev.item_id, text: ev.transcript || '', final: true });
          break;
        case 'response.output_audio_transcript.delta':
          page.onEvent({ kind: 'transcript', role: 'assistant', item_id: ev.item_id, text: ev.delta || '', final: false });
          break;
        case 'response.output_audio_transcript.done':
          page.onEvent({ kind: 'transcript', role: 'assistant', item_id: ev.item_id, text: ev.transcript || '', final: true });
          break;
        case 'output_audio_buffer.started':
          page.onEvent({ kind: 'turn', event: 'response-started' });
          break;
        case 'output_audio_buffer.stopped':
        case 'output_audio_buffer.cleared':
          page.onEvent({ kind: 'turn', event: 'response-done' });
          break;
        case 'response.function_call_arguments.done':
          onToolCall(ev.call_id, ev.name, ev.arguments);
          break;
        case 'error':
          page.stats.lastError = (ev.error && ev.error.message) || 'error';
          console.warn('voice error', ev.error);
          break;
      }
    }

    async function onToolCall(callId, name, argumentsText) {
      const question = questionOf(argumentsText);
      const pending = `pending-${callId}`;
      page.onEvent({ kind: 'task', task_id: pending, question, status: 'sending' });
      try {
        const r = await fetch('api/send', { method: 'POST', headers, body: JSON.stringify({ message: question, sessionId }) });
        const body = await r.json().catch(() => ({}));
        if (!r.ok || !body.taskId) throw new Error(body.error || `HTTP ${r.status}`);
        page.onEvent({ kind: 'task-renamed', from: pending, to: body.taskId });
        call.toolCalls.set(body.taskId, { callId, question });
        page.onEvent({ kind: 'task', task_id: body.taskId, question, status: 'running' });
        page.stats.tasksSent = (page.stats.tasksSent || 0) + 1;
        if (call.early.has(body.taskId)) { onResult(call.early.get(body.taskId)); call.early.delete(body.taskId); }
      } catch (err) {
        page.onEvent({ kind: 'task', task_id: pending, question, status: 'failed', error: err.message });
        answerTool(callId, `The agent could not be asked: ${err.message}`);
      }
    }

    function onResult(m) {
      const task = call.toolCalls.get(m.taskId);
      if (!task) { call.early.set(m.taskId, m); return; }
      call.toolCalls.delete(m.taskId);
      const failed = m.status === 'failed';
      const text = failed ? `The agent could not answer: ${m.error || 'unknown error'}` : (m.text || '');
      page.onEvent({ kind: 'task', task_id: m.taskId, question: task.question, status: failed ? 'failed' : 'done',
                     answer: failed ? undefined : text, error: failed ? m.error : undefined });
      page.stats.resultsInjected = (page.stats.resultsInjected || 0) + 1;
      answerTool(task.callId, text);
    }

    // The result as the tool's output, then a response: the voice speaks it.
    function answerTool(callId, text) {
      send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: JSON.stringify({ result: text }) } });
      send({ type: 'response.create' });
    }
  }

  window.clawvoiceDirect = { start };
})();
