// Browser tests — what every test needs: the real launcher, a real coturn, headless Debian Chromium.
// Every process is started here, remembered by pid, and killed by pid (SIGTERM, then SIGKILL).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const LAUNCHER = process.env.CLAWVOICE_LAUNCHER_BIN;
export const DATA_DIR = process.env.CLAWVOICE_TEST_DATA_DIR;
export const CHROMIUM = process.env.CLAWVOICE_CHROMIUM || '/usr/bin/chromium';
export const TURNSERVER = process.env.CLAWVOICE_TURNSERVER || '/usr/bin/turnserver';

const started = new Set();   // child processes still running

/* Kills @child by pid: SIGTERM, then SIGKILL after @graceMs. Resolves with its exit code. */
export function killByPid(child, graceMs = 5000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} }, graceMs);
    child.once('exit', (code) => { clearTimeout(timer); started.delete(child); resolve(code); });
    try { process.kill(child.pid, 'SIGTERM'); } catch {}
  });
}

process.on('exit', () => { for (const c of started) try { process.kill(c.pid, 'SIGKILL'); } catch {} });

function track(child, lines) {
  started.add(child);
  child.once('exit', () => started.delete(child));
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      lines.push(...parts);
    });
  }
}

export async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/* A free UDP port on 127.0.0.1 (bound, read back, released). */
export function freeUdpPort() {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.on('error', reject);
    s.bind(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

/* The real clawvoice-launcher with @config (an object, written as its config file). */
export async function startLauncher(config) {
  const dir = mkdtempSync(join(tmpdir(), 'clawvoice-browser-test-'));
  const path = join(dir, 'config.jsonc');
  writeFileSync(path, JSON.stringify(config, null, 2));
  const lines = [];
  const child = spawn(LAUNCHER, ['--config', path, '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GST_REGISTRY_FORK: 'no' } });
  track(child, lines);
  const events = () => lines.filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l); } catch { return {}; } });
  const startedLine = await waitFor('launcher.started', () => {
    if (child.exitCode !== null) throw new Error(`the launcher exited (${child.exitCode}):\n${lines.join('\n')}`);
    return events().find((e) => e.event === 'launcher.started');
  }, 20000);
  const base = startedLine.public_url;
  return {
    child, lines, base, events,
    event: (name) => events().filter((e) => e.event === name),
    async call(id) {
      const res = await fetch(`${base}/calls/${id}`, { headers: { Authorization: `Bearer ${config.server.control_token}` } });
      return res.ok ? res.json() : null;
    },
    async stop() { await killByPid(child, 15000); rmSync(dir, { recursive: true, force: true }); },
    diagnose: () => diagnoseLauncher(child, base, lines),
  };
}

/* What a failed test needs to say about the launcher: alive or not, whether it still answers
   /health, its last log lines, and (when it no longer answers) every thread's stack from gdb, so
   a hang seen only on another machine can be read from the CI log. */
async function diagnoseLauncher(child, base, lines) {
  const out = [];
  if (child.exitCode !== null || child.signalCode !== null) {
    out.push(`the launcher exited (code ${child.exitCode}, signal ${child.signalCode})`);
  } else {
    let health = null;
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(3000) });
      health = await res.text();
    } catch (e) { health = null; out.push(`the launcher does not answer /health: ${e.message}`); }
    if (health !== null) out.push(`/health: ${health}`);
    else {
      try {
        out.push(execFileSync('gdb', ['-p', String(child.pid), '-batch', '-nx', '-ex', 'thread apply all bt'],
          { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'pipe'] }));
      } catch (e) { out.push(`no stacks (gdb: ${e.message})`); }
    }
  }
  out.push('launcher, last lines:', ...lines.slice(-120));
  return out.join('\n');
}

/* @fn, and on failure the launcher's state on stderr (meson shows a failed test's stderr). */
export function withDiagnosis(getLauncher, fn) {
  return async (...args) => {
    try {
      return await fn(...args);
    } catch (e) {
      const launcher = getLauncher();
      if (launcher) process.stderr.write(`\n--- ${e.message}\n${await launcher.diagnose()}\n---\n`);
      throw e;
    }
  };
}

/* coturn on 127.0.0.1 with the TURN REST shared secret, relaying only on loopback. */
export async function startCoturn(secret) {
  const port = await freeUdpPort();
  const lines = [];
  const child = spawn(TURNSERVER, ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1',
    `--listening-port=${port}`, '--min-port=49152', '--max-port=65000', '--use-auth-secret',
    `--static-auth-secret=${secret}`, '--realm=clawvoice.test', '--allow-loopback-peers', '--no-tls',
    '--no-dtls', '--no-cli', '--no-tcp-relay', '--log-file=stdout', '--simple-log', '--verbose'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, lines);
  await waitFor('coturn listening', () => {
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}):\n${lines.join('\n')}`);
    return lines.some((l) => /Total (UDP|General) servers|IPv4\. UDP listener opened on/.test(l));
  }, 10000);
  return { child, port, lines, stop: () => killByPid(child) };
}

/* Headless Debian Chromium with a fake microphone that plays @wav in a loop. */
export async function launchChromium(wav) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'clawvoice-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`, '--allow-loopback-in-peer-connection',
      '--autoplay-policy=no-user-gesture-required'],
    timeout: 30000,
  });
  const pid = context.browser()?.process?.()?.pid;
  return {
    context,
    async close() {
      await Promise.race([context.close(), new Promise((r) => setTimeout(r, 10000))]);
      if (pid) try { process.kill(pid, 'SIGKILL'); } catch {}
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export function readPng(path) { return readFileSync(path); }
