// The browser-direct mode end to end (docs/openai.md, "Browser straight to OpenAI"): the real
// launcher with its embedded simulator, the voice page in headless Debian Chromium switched to
// "Direct to OpenAI". The page gets a client secret from POST /api/token, calls the simulator's
// POST /v1/realtime/calls itself (WebRTC: its own webrtcbin answers, data channel `oai-events`), runs
// the tool call through POST /api/send and speaks the result WS /ws pushes. No media through the
// launcher. Run by run-e2e.sh (meson suite 'browser'); every process is killed by pid in after().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLauncher, launchChromium, waitFor, withDiagnosis, DATA_DIR } from './support.mjs';
import { decodePng, shareOfColour } from './png.mjs';

const CONTROL = 'control-token-direct-tests-01234';
const WEBHOOK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OUT_DIR = process.env.CLAWVOICE_TEST_OUTPUT_DIR || tmpdir();
let work, launcher, browser;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'clawvoice-direct-'));
  // A pause after the question lets the simulator's VAD end the turn, as a person would.
  const wav = join(work, 'question-pause.wav');
  execFileSync('sox', [join(DATA_DIR, 'question.wav'), '-b', '16', wav, 'pad', '0', '2']);
  launcher = await startLauncher({
    server: { control_token: CONTROL },
    realtime: { backend: 'simulator' },
    routes: {
      browser: { enabled: true, ice_addresses: ['127.0.0.1'] },   // serves the page
      // /api/token, /api/send, /ws; caller transcripts on, so the page shows what the voice heard
      openai: { enabled: true, webhook_secret: WEBHOOK_SECRET, transcription_model: 'gpt-4o-mini-transcribe' },
    },
  });
  browser = await launchChromium(wav);
});

after(async () => {
  if (browser) await browser.close();
  if (launcher) await launcher.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (launcher) assert.ok(!launcher.lines.some((l) => l.includes(CONTROL) || l.includes(WEBHOOK_SECRET)), 'a secret was logged');
});

const stats = (page) => page.evaluate(() => ({ ...window.clawvoice.stats }));

test('direct mode: live over WebRTC to the simulator, the tool call reaches the agent, its answer is spoken', { timeout: 75000 }, withDiagnosis(() => launcher, async () => {
  const page = await browser.context.newPage();
  const failures = [];
  page.on('pageerror', (e) => failures.push(e.message));
  await page.goto(`${launcher.base}/#token=${CONTROL}`);
  await page.selectOption('#mode', 'direct');
  assert.equal(await page.locator('#token-field').isVisible(), true);
  const t0 = Date.now();
  await page.click('#connect');
  await waitFor('live', async () => {
    const s = await stats(page);
    if (s.state === 'failed') throw new Error(`the call failed: ${s.reason}`);
    return s.state === 'live';
  }, 20000);
  const liveMs = Date.now() - t0;
  const s0 = await stats(page);
  assert.equal(s0.mode, 'direct');
  assert.match(s0.callId || '', /^rtc_[0-9a-f]+$/, 'the Location header gave the call id');
  // The launcher minted the key and saw no call of its own: the media went to the voice directly.
  assert.equal(launcher.event('openai.token_minted').length, 1);

  // The simulator heard speech: its transcript of a user turn is "(N.N seconds of speech)".
  await page.locator('#transcript li.user:not(.partial)', { hasText: 'seconds of speech' }).first().waitFor({ timeout: 20000 });
  // The tool call went to /api/send and on to the agent; WS /ws pushed the answer back.
  await page.locator('#tasks li .status.done').first().waitFor({ timeout: 20000 });
  const started = launcher.event('openai.task_started');
  assert.ok(started.length >= 1, 'no task started at the launcher');
  assert.equal(started[0].session_id, s0.sessionId);
  assert.ok(launcher.event('openai.task_finished').some((e) => e.status === 'done'));
  // The pushed answer was injected (function_call_output + response.create) and the voice speaks it.
  await page.locator('#transcript li.assistant:not(.partial)', { hasText: 'Here is the answer' }).first().waitFor({ timeout: 20000 });
  await waitFor('reply audio in the page', async () => { const s = await stats(page); return s.remotePeak > 0.05 && s.remoteAudibleMs > 500; }, 15000);
  const s1 = await stats(page);
  assert.ok(s1.resultsInjected >= 1 && s1.tasksSent >= 1, JSON.stringify(s1));
  assert.ok(s1.micPeak > 0.01, 'the fake microphone was silent');

  const shot = join(OUT_DIR, 'browser-direct-live.png');
  await page.screenshot({ path: shot, fullPage: true });
  const image = decodePng(readFileSync(shot));
  assert.ok(image.width >= 800 && image.height >= 400, `screenshot ${image.width}x${image.height}`);
  const badge = decodePng(await page.locator('#state').screenshot());
  assert.ok(shareOfColour(badge, [0x1a, 0x9c, 0x5b]) > 0.5, 'the live badge is not green');
  const done = decodePng(await page.locator('#tasks li .status.done').first().screenshot());
  assert.ok(shareOfColour(done, [0x1a, 0x9c, 0x5b]) > 0.4, 'the done task is not green');
  assert.match(await page.locator('body').innerText(), /LIVE/i);

  await page.click('#connect');   // Disconnect
  assert.equal((await stats(page)).state, 'ended');
  assert.deepEqual(failures, []);
  console.log(`# direct: live after ${liveMs} ms; audible ${Math.round(s1.remoteAudibleMs)} ms, peak ${s1.remotePeak.toFixed(3)}; ` +
              `${s1.oaiEvents} events on oai-events, ${s1.tasksSent} task(s), ${s1.resultsInjected} result(s) injected`);
  await page.close();
}));

test('direct mode: the calls endpoint refuses a bad key and a bad offer, with CORS for the page', { timeout: 20000 }, withDiagnosis(() => launcher, async () => {
  const page = await browser.context.newPage();
  await page.goto(`${launcher.base}/`);
  const got = await page.evaluate(async (bearer) => {
    const minted = await (await fetch('api/token', { method: 'POST', headers: { Authorization: `Bearer ${bearer}` } })).json();
    const post = async (key, body) => {
      const r = await fetch(minted.calls_url, { method: 'POST', body, headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/sdp' } });
      return { status: r.status, body: await r.json().catch(() => null) };
    };
    return {
      minted: { calls_url: minted.calls_url, token: minted.token.slice(0, 3) },
      badKey: await post('ek_0123456789abcdef', 'v=0\r\n'),
      badOffer: await post(minted.token, 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n'),
      noKey: await fetch('api/token', { method: 'POST' }).then((r) => r.status),
    };
  }, CONTROL);
  assert.match(got.minted.calls_url, /^http:\/\/127\.0\.0\.1:\d+\/v1\/realtime\/calls$/);
  assert.equal(got.minted.token, 'ek_');
  assert.equal(got.badKey.status, 401);
  assert.equal(got.badKey.body.error.code, 'invalid_api_key');
  assert.equal(got.badOffer.status, 400);
  assert.equal(got.badOffer.body.error.code, 'invalid_offer');
  assert.equal(got.noKey, 401);
  await page.close();
}));
