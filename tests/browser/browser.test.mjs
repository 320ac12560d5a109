// The browser path end to end: the real launcher (Realtime simulator + fake gateway inside), the
// voice page in headless Debian Chromium with a fake microphone, and a real coturn for TURN-only.
// Run by run-e2e.sh (meson suite 'browser'); every process is killed by pid in after().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { startLauncher, startCoturn, launchChromium, waitFor, withDiagnosis, DATA_DIR } from './support.mjs';
import { decodePng, shareOfColour } from './png.mjs';

const CONTROL = 'control-token-browser-tests-0123';
const TURN_SECRET = 'turn-shared-secret-for-tests-0123';
const OUT_DIR = process.env.CLAWVOICE_TEST_OUTPUT_DIR || tmpdir();
let work, wav, coturn, launcher, browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'clawvoice-browser-'));
  // The fake microphone loops its file with no gap: a pause after the question lets the simulator's
  // VAD end the turn, as a person would.
  wav = join(work, 'question-pause.wav');
  execFileSync('sox', [join(DATA_DIR, 'question.wav'), '-b', '16', wav, 'pad', '0', '2']);
  coturn = await startCoturn(TURN_SECRET);
  launcher = await startLauncher({
    server: { control_token: CONTROL },
    log: { level: 'debug' },   // candidates are logged at debug: the TURN test reads them
    realtime: { backend: 'simulator' },
    calls: { max_concurrent: 20, ttl_seconds: 120 },
    routes: { browser: { enabled: true, ice_addresses: ['127.0.0.1'], token_ttl_seconds: 5,
      turn_urls: [`turn:127.0.0.1:${coturn.port}?transport=udp`], turn_secret: TURN_SECRET } },
  });
  browser = await launchChromium(wav);
});

after(async () => {
  if (browser) await browser.close();
  if (launcher) await launcher.stop();
  if (coturn) await coturn.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  // No secret in anything the launcher printed.
  if (launcher) assert.ok(!launcher.lines.some((l) => l.includes(TURN_SECRET) || l.includes(CONTROL)), 'a secret was logged');
});

async function openPage() {
  const page = await browser.context.newPage();
  await page.goto(`${launcher.base}/`);
  return page;
}
const stats = (page) => page.evaluate(() => ({ ...window.clawvoice.stats }));

test('a call reaches live, the simulator hears the caller, the reply is audible, the transcript shows', { timeout: 60000 }, withDiagnosis(() => launcher, async () => {
  const page = await openPage();
  await page.click('#connect');
  await waitFor('live', async () => (await stats(page)).state === 'live', 15000);
  // The simulator's transcript of a user turn is "(N.N seconds of speech)": it heard speech.
  await page.locator('#transcript li.user:not(.partial)', { hasText: 'seconds of speech' }).first().waitFor({ timeout: 20000 });
  await page.locator('#transcript li.assistant:not(.partial)').first().waitFor({ timeout: 15000 });
  // Audible: WebAudio measured the remote track (not RTP stats).
  await waitFor('reply audio in the page', async () => { const s = await stats(page); return s.remotePeak > 0.05 && s.remoteAudibleMs > 500; }, 15000);
  // The agent was asked (openclawrelay → fake gateway) and its task shows as done.
  await page.locator('#tasks li .status.done').first().waitFor({ timeout: 15000 });
  assert.match(await page.locator('#cost').innerText(), /^\$0\.\d{4}$/);
  assert.notEqual(await page.locator('#cost').innerText(), '$0.0000');

  const shot = join(OUT_DIR, 'browser-live.png');
  await page.screenshot({ path: shot, fullPage: true });
  const image = decodePng(readFileSync(shot));
  assert.ok(image.width >= 800 && image.height >= 400, `screenshot ${image.width}x${image.height}`);
  // The state badge is the "live" green, as the person sees it.
  const badge = decodePng(await page.locator('#state').screenshot());
  assert.ok(shareOfColour(badge, [0x1a, 0x9c, 0x5b]) > 0.5, 'the live badge is not green');
  const text = await page.locator('body').innerText();
  assert.match(text, /LIVE/i);

  // The server's view: the call is active, with caller audio in and reply audio out.
  const calls = await (await fetch(`${launcher.base}/calls`, { headers: { Authorization: `Bearer ${CONTROL}` } })).json();
  const call = calls.calls.find((c) => c.route === 'browser' && c.state === 'active');
  assert.ok(call, 'no active browser call in /calls');

  await page.click('#connect');   // Disconnect
  // Over once it has left the live list (its counters are read as its pipeline comes down).
  await waitFor('call over', async () => {
    const live = await (await fetch(`${launcher.base}/calls`, { headers: { Authorization: `Bearer ${CONTROL}` } })).json();
    return !live.calls.some((c) => c.id === call.id);
  }, 10000);
  const ended = await launcher.call(call.id);
  assert.equal(ended.end_reason, 'the caller hung up');
  assert.ok(ended.audio_frames_in > 50, `caller frames in: ${JSON.stringify(ended)} ${launcher.lines.filter((l) => l.includes('call.ended')).join('\n')}`);
  assert.ok(ended.audio_frames_out > 50, `reply frames out: ${ended.audio_frames_out}`);
  assert.equal((await stats(page)).state, 'ended');
  await page.close();
}));

test('ten browser sessions at once all go live and hear their reply', { timeout: 120000 }, withDiagnosis(() => launcher, async () => {
  const pages = await Promise.all(Array.from({ length: 10 }, () => openPage()));
  try {
    await Promise.all(pages.map((p) => p.evaluate(() => window.clawvoice.connect())));
    await Promise.all(pages.map((p, i) => waitFor(`page ${i} live`, async () => (await stats(p)).state === 'live', 30000)));
    await Promise.all(pages.map((p, i) => waitFor(`page ${i} hears its reply`, async () => (await stats(p)).remoteAudibleMs > 300, 45000, 250)));
    const live = (await (await fetch(`${launcher.base}/calls`, { headers: { Authorization: `Bearer ${CONTROL}` } })).json())
      .calls.filter((c) => c.route === 'browser' && c.state === 'active');
    assert.equal(live.length, 10);
    await Promise.all(pages.map((p) => p.evaluate(() => window.clawvoice.disconnect())));
    await waitFor('all calls over', async () => {
      const h = await (await fetch(`${launcher.base}/health`)).json();
      return h.active_calls === 0 && h.pending_calls === 0;
    }, 20000);
  } finally {
    // Closed whatever happened: ten live calls left behind would fail the tests after this one.
    await Promise.all(pages.map((p) => p.close()));
  }
}));

test('a TURN-only session (iceTransportPolicy relay) through coturn with ephemeral credentials', { timeout: 60000 }, withDiagnosis(() => launcher, async () => {
  const page = await openPage();
  await page.evaluate(() => window.clawvoice.connect({ iceTransportPolicy: 'relay' }));
  await waitFor('live through TURN', async () => (await stats(page)).state === 'live', 20000).catch(async (e) => {
    const { sessionId } = await stats(page);
    throw new Error(`${e.message}\n${JSON.stringify(await stats(page))}\ncoturn:\n${coturn.lines.slice(-30).join('\n')}\nlauncher:\n${launcher.lines.filter((l) => l.includes(sessionId)).join('\n')}`);
  });
  await waitFor('reply audio through TURN', async () => (await stats(page)).remoteAudibleMs > 300, 30000, 250);
  // Every candidate the page sent was a relay candidate on coturn.
  const { sessionId } = await stats(page);
  const candidates = launcher.lines.filter((l) => l.includes('browser.remote_candidate') && l.includes(sessionId));
  assert.ok(candidates.length > 0, 'no candidate from the page was logged');
  // coturn saw an allocation by a user of the TURN REST form "<expiry>:<session id>".
  const allocated = () => coturn.lines.some((l) => /ALLOCATE/.test(l) && /success/.test(l) && l.includes(`:${sessionId}`));
  await waitFor(`coturn allocation for ${sessionId}:\n${coturn.lines.filter((l) => /ALLOCATE|401|403/.test(l)).join('\n')}`, allocated, 5000).catch(() => {
    throw new Error(`no allocation for ${sessionId} in coturn's log:\n${coturn.lines.slice(-40).join('\n')}`);
  });
  assert.ok(candidates.every((l) => l.includes('typ relay')), candidates.join('\n'));
  await page.evaluate(() => window.clawvoice.disconnect());
  await page.close();
}));

/* A UDP relay on 127.0.0.1 between the page and the launcher: what comes from the launcher's port goes
   to the last page address seen, everything else to the launcher; `dropping` discards both ways, as a
   dead network would. */
async function startUdpRelay() {
  const socket = createSocket('udp4');
  const relay = { socket, port: 0, launcherPort: 0, page: null, dropping: false, forwarded: 0 };
  socket.on('message', (msg, from) => {
    let to = null;
    if (from.port === relay.launcherPort) to = relay.page;
    else { relay.page = { address: from.address, port: from.port }; if (relay.launcherPort) to = { address: '127.0.0.1', port: relay.launcherPort }; }
    if (to && !relay.dropping) { socket.send(msg, to.port, to.address); relay.forwarded++; }
  });
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  relay.port = socket.address().port;
  relay.close = () => new Promise((resolve) => socket.close(resolve));
  return relay;
}

test('ICE restart: the connection drops, the page restarts ICE, a new webrtcbin answers, the same call goes on', { timeout: 90000 }, withDiagnosis(() => launcher, async () => {
  const relay = await startUdpRelay();
  const page = await browser.context.newPage();
  try {
    // The page's media goes through the relay only: the launcher's UDP candidates are rewritten to
    // it (TCP ones dropped), the page's own are not passed on (the launcher learns the page from its
    // checks, which come through the relay).
    await page.routeWebSocket(/\/signal/, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage((m) => { if (JSON.parse(m).type !== 'ice') server.send(m); });
      server.onMessage((m) => {
        const msg = JSON.parse(m);
        if (msg.type === 'ice' && msg.payload.candidate) {
          const f = msg.payload.candidate.split(' ');
          if (f[2].toUpperCase() !== 'UDP' || f[4] !== '127.0.0.1') return;
          relay.launcherPort = Number(f[5]);
          f[5] = String(relay.port);
          msg.payload.candidate = f.join(' ');
          m = JSON.stringify(msg);
        }
        ws.send(m);
      });
    });
    await page.goto(`${launcher.base}/`);
    await page.click('#connect');
    await waitFor('live', async () => (await stats(page)).state === 'live', 15000);
    const { sessionId } = await stats(page);
    assert.ok(relay.forwarded > 0, 'the call went live without the relay');
    const states = [];
    await page.exposeFunction('recordState', (s) => states.push(s));
    await page.evaluate(() => {
      let last = '';
      setInterval(() => { const s = window.clawvoice.stats.state; if (s !== last) { last = s; window.recordState(s); } }, 50);
    });
    const firstUfrag = launcher.event('browser.answer_sent').filter((e) => e.call_id === sessionId).at(-1).ice_ufrag;

    // The network goes away: the launcher says reconnecting (no RTP), the page restarts ICE once.
    relay.dropping = true;
    const droppedAt = Date.now();
    await waitFor('the page restarts ICE', async () => (await stats(page)).iceRestarts === 1, 30000);
    const restartedAt = Date.now();
    relay.dropping = false;
    const before = await stats(page);

    // A new webrtcbin answered with new ICE credentials; the page is live again and hears the voice.
    await waitFor('live again', async () => (await stats(page)).state === 'live', 20000);
    const liveAt = Date.now();
    const answers = launcher.event('browser.answer_sent').filter((e) => e.call_id === sessionId);
    assert.equal(answers.length, 2);
    assert.notEqual(answers[1].ice_ufrag, firstUfrag, 'the restart was answered with the old ICE credentials');
    assert.equal(launcher.event('browser.webrtcbin_replaced').filter((e) => e.call_id === sessionId).length, 1);
    assert.ok(states.includes('reconnecting'), `states: ${states.join(' ')}`);
    await waitFor('the reply heard again after the restart', async () => (await stats(page)).remoteAudibleMs > before.remoteAudibleMs + 500, 30000, 250);
    // The same voice session heard the caller again: a new user transcript after the restart.
    const userTurns = () => page.locator('#transcript li.user:not(.partial)', { hasText: 'seconds of speech' }).count();
    const turnsBefore = await userTurns();
    await waitFor('a new user turn after the restart', async () => (await userTurns()) > turnsBefore, 20000, 250);
    process.stderr.write(`ICE restart: dropped → restart offer ${((restartedAt - droppedAt) / 1000).toFixed(1)} s, ` +
      `→ live again ${((liveAt - restartedAt) / 1000).toFixed(1)} s; page states: ${states.join(' → ')}\n`);
    const call = await launcher.call(sessionId);
    assert.equal(call.state, 'active');
    assert.equal(launcher.event('call.active').filter((e) => e.call_id === sessionId).length, 1, 'the call was rebuilt');
    assert.equal(launcher.event('call.error').filter((e) => e.call_id === sessionId).length, 0);

    await page.evaluate(() => window.clawvoice.disconnect());
    await waitFor('call ended', async () => (await launcher.call(sessionId)).state === 'ended', 10000);
  } finally {
    await page.close();
    await relay.close();
  }
}));

/* From the page's origin: a session, a signalling socket, one frame; what the launcher answered. */
async function signal(page, { frame, token, offerWithoutAudio = false, waitMs = 4000 }) {
  return page.evaluate(async ({ frame, token, offerWithoutAudio, waitMs }) => {
    let session = null;
    if (!token) {
      session = await (await fetch('api/session', { method: 'POST', body: '{}' })).json();
      token = session.token;
    }
    const ws = new WebSocket(`ws://${location.host}/signal?token=${token}`);
    const got = [];
    const closed = new Promise((resolve) => { ws.onclose = (e) => resolve(e.code); });
    ws.onmessage = (e) => got.push(JSON.parse(e.data));
    await new Promise((resolve) => { ws.onopen = resolve; ws.onerror = resolve; });
    if (offerWithoutAudio) {
      const pc = new RTCPeerConnection();
      pc.createDataChannel('x');
      const offer = await pc.createOffer();
      frame = JSON.stringify({ type: 'offer', session_id: session.session_id, payload: { sdp: offer.sdp } });
      pc.close();
    }
    if (frame !== undefined && ws.readyState === WebSocket.OPEN) ws.send(frame);
    const code = await Promise.race([closed, new Promise((r) => setTimeout(() => r(null), waitMs))]);
    return { session, token, got, code };
  }, { frame, token, offerWithoutAudio, waitMs });
}

async function assertRefusedAndTornDown(result, pattern) {
  const error = result.got.find((m) => m.type === 'error');
  assert.ok(error, `no error message in ${JSON.stringify(result.got)}`);
  assert.match(error.payload.message, pattern);
  assert.notEqual(result.code, null, 'the socket was not closed');
  if (result.session) {
    const call = await waitFor('call failed', async () => { const c = await launcher.call(result.session.session_id); return c && c.state === 'failed' && c; }, 5000);
    assert.match(call.end_reason, pattern);
  }
}

test('bad signalling gets an error and a clean teardown', { timeout: 60000 }, withDiagnosis(() => launcher, async () => {
  const page = await openPage();
  await assertRefusedAndTornDown(await signal(page, { frame: '{not json' }), /not JSON/);
  await assertRefusedAndTornDown(await signal(page, { frame: JSON.stringify({ type: 'dance', payload: {} }) }), /unknown message type/);
  await assertRefusedAndTornDown(await signal(page, { offerWithoutAudio: true }), /no audio track/);

  // A token is good once: the second socket is refused and the first call is untouched.
  const first = await signal(page, { waitMs: 300 });
  assert.equal(first.code, null);
  const reused = await signal(page, { token: first.token });
  await assertRefusedAndTornDown(reused, /unknown, used or expired token/);
  assert.equal((await launcher.call(first.session.session_id)).state, 'pending');

  // An expired token (token_ttl_seconds 5): refused, and its call ended as failed.
  const session = await page.evaluate(async () => (await fetch('api/session', { method: 'POST' })).json());
  await new Promise((r) => setTimeout(r, 5500));
  const expired = await signal(page, { token: session.token });
  await assertRefusedAndTornDown(expired, /unknown, used or expired token/);
  const call = await launcher.call(session.session_id);
  assert.equal(call.state, 'failed');

  // No pipeline or call is left behind by any of it.
  await waitFor('nothing live', async () => { const h = await (await fetch(`${launcher.base}/health`)).json(); return h.active_calls === 0; }, 10000);
  await page.close();
}));
