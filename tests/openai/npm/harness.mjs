// Starts what the compat tests need as child processes on 127.0.0.1 and stops them by pid:
// clawvoice-sim (its fake OpenClaw gateway, optionally slow) and clawvoice-launcher with the
// openai_compat route pointing at it. Every launcher output line is kept, so tests can read the
// audit log and check that no token was ever written.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const SIM_BIN = process.env.CLAWVOICE_SIM_BIN;
const LAUNCHER_BIN = process.env.CLAWVOICE_LAUNCHER_BIN;

function waitForLine(child, lines, pattern, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: no "${pattern}" within ${timeoutMs} ms`)), timeoutMs);
    const check = (line) => {
      const m = line.match(pattern);
      if (m) {
        clearTimeout(timer);
        resolve(m);
        return true;
      }
      return false;
    };
    for (const line of lines) if (check(line)) return;
    const onLine = (line) => { if (check(line)) child.off('line', onLine); };
    child.on('line', onLine);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}) before "${pattern}"`)); });
  });
}

function start(bin, args, what) {
  if (!bin) throw new Error(`${what}: binary not given (CLAWVOICE_SIM_BIN / CLAWVOICE_LAUNCHER_BIN)`);
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line);
      child.emit('line', line);
    });
  }
  return { child, lines };
}

async function stop(proc) {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  process.kill(proc.child.pid, 'SIGTERM');
  const timer = setTimeout(() => { try { process.kill(proc.child.pid, 'SIGKILL'); } catch {} }, 5000);
  await exited;
  clearTimeout(timer);
}

export const TOKENS = ['compat-token-current-0123456789', 'compat-token-next-9876543210'];
export const AGENT_TOKEN = 'agent-token-compat-tests';

// { agentDelayMs, filler, fillerAfterMs, ratePerMinute, agentReply }
export async function startStack(options = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'clawvoice-compat-'));
  const simArgs = ['--listen', '127.0.0.1:0', '--api-key', 'sk-sim-compat', '--agent-token', AGENT_TOKEN,
                   '--agent-delay-ms', String(options.agentDelayMs ?? 0)];
  if (options.agentReply) simArgs.push('--agent-reply', options.agentReply);
  const sim = start(SIM_BIN, simArgs, 'clawvoice-sim');
  let launcher;
  try {
    const [, gateway] = await waitForLine(sim.child, sim.lines, /OpenClaw gateway on (http:\/\/\S+)/, 10000, 'clawvoice-sim');
    const [, realtime] = await waitForLine(sim.child, sim.lines, /listening on (ws:\/\/\S+)/, 1000, 'clawvoice-sim');
    const compat = {
      tokens: TOKENS,
      session_key: 'agent:main:main',
      rate_limit_per_minute: options.ratePerMinute ?? 600,
    };
    if (options.filler !== undefined) compat.filler = options.filler;
    if (options.fillerAfterMs !== undefined) compat.filler_after_ms = options.fillerAfterMs;
    const config = {
      server: { listen: '127.0.0.1:0' },
      log: { level: 'info' },
      realtime: { backend: 'openai', url: realtime, api_key: 'sk-sim-compat' },
      openclaw: { backend: 'gateway', url: gateway, token: AGENT_TOKEN },
      routes: { openai_compat: compat },
    };
    const path = join(dir, 'config.json');
    writeFileSync(path, JSON.stringify(config, null, 2));
    launcher = start(LAUNCHER_BIN, ['--config', path, '--listen', '127.0.0.1:0'], 'clawvoice-launcher');
    const [, listen] = await waitForLine(launcher.child, launcher.lines, /"event":"launcher\.started".*"listen":"([^"]+)"/,
                                         15000, 'clawvoice-launcher');
    return {
      baseURL: `http://${listen}/v1`,
      gateway,
      launcherLines: launcher.lines,
      async stop() {
        await stop(launcher);
        await stop(sim);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await stop(launcher);
    await stop(sim);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

export function auditLines(lines) {
  return lines.filter((l) => l.includes('"event":"openai_compat.request"')).map((l) => JSON.parse(l));
}
