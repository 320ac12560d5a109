// The launcher's OpenAI-compatible endpoint, driven by the official `openai` npm client the way
// ElevenLabs' custom-LLM integration and other OpenAI clients use it, plus raw requests for errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startStack, TOKENS, auditLines } from './harness.mjs';

let fast;   // an agent that answers at once
let slow;   // an agent that thinks for 3 s

before(async () => {
  [fast, slow] = await Promise.all([
    startStack({ agentReply: 'Your **next meeting** is at 3 pm. Details: https://example.com/cal/1.' }),
    startStack({ agentDelayMs: 3000, agentReply: 'It is sunny today.', fillerAfterMs: 800 }),
  ]);
});

after(async () => {
  await Promise.all([fast?.stop(), slow?.stop()]);
  for (const stack of [fast, slow]) {
    for (const line of stack?.launcherLines ?? []) {
      for (const token of TOKENS) assert.ok(!line.includes(token), `a bearer token reached the log: ${line}`);
    }
  }
});

const client = (stack, token = TOKENS[0]) => new OpenAI({ apiKey: token, baseURL: stack.baseURL, maxRetries: 0, timeout: 15000 });

const conversation = [
  { role: 'system', content: 'You are ElevenLabs agent Ada. Be brief.' },
  { role: 'user', content: 'Hi there.' },
  { role: 'assistant', content: 'Hello! How can I help?' },
  { role: 'user', content: 'When is my next meeting?' },
];

test('non-streaming: one chat.completion with the answer cleaned for speech', async () => {
  const completion = await client(fast).chat.completions.create({ model: 'openclaw', messages: conversation });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices.length, 1);
  assert.equal(completion.choices[0].message.role, 'assistant');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  const text = completion.choices[0].message.content;
  assert.match(text, /Your next meeting is at 3 pm\./);
  assert.ok(!text.includes('**'), text);
  assert.ok(!text.includes('https://'), text);
  assert.match(text, /a link on example\.com/);
});

test('streaming: the role first, content chunks, stop, then [DONE]', async () => {
  const stream = await client(fast).chat.completions.create({ model: 'openclaw', messages: conversation, stream: true });
  let text = '';
  let chunks = 0;
  let sawRole = false;
  let finish = null;
  for await (const chunk of stream) {
    chunks++;
    assert.equal(chunk.object, 'chat.completion.chunk');
    const choice = chunk.choices[0];
    if (choice.delta.role === 'assistant') sawRole = true;
    text += choice.delta.content ?? '';
    if (choice.finish_reason) finish = choice.finish_reason;
  }
  assert.ok(sawRole, 'the first chunk names the assistant role');
  assert.ok(chunks >= 3, `${chunks} chunks`);
  assert.equal(finish, 'stop');
  assert.match(text, /Your next meeting is at 3 pm\./);
  assert.ok(!text.includes('**'), text);
  assert.ok(!text.includes('One moment'), 'no filler when the agent answers at once');
});

test('the rotated-in token works too, and /v1/models lists the model', async () => {
  const models = await client(fast, TOKENS[1]).models.list();
  const ids = [];
  for await (const m of models) ids.push(m.id);
  assert.deepEqual(ids, ['openclaw']);
  const completion = await client(fast, TOKENS[1]).chat.completions.create({ model: 'openclaw', messages: conversation });
  assert.match(completion.choices[0].message.content, /3 pm/);
});

test('a slow agent: a filler streams within 2 s, then the real answer', async () => {
  const started = performance.now();
  const stream = await client(slow).chat.completions.create({
    model: 'openclaw', stream: true, messages: [{ role: 'user', content: 'How is the weather?' }],
  });
  let firstContentMs = null;
  let text = '';
  for await (const chunk of stream) {
    const content = chunk.choices[0]?.delta?.content ?? '';
    if (content && firstContentMs === null) firstContentMs = performance.now() - started;
    text += content;
  }
  assert.ok(firstContentMs !== null && firstContentMs < 2000, `first content after ${firstContentMs} ms`);
  assert.ok(firstContentMs >= 700, `the filler waits for filler_after_ms (${firstContentMs} ms)`);
  assert.match(text, /^One moment, let me check on that\. /);
  assert.match(text, /It is sunny today\.$/);
  const audit = auditLines(slow.launcherLines).filter((a) => a.status === 200);
  assert.ok(audit.some((a) => a.filler === true && a.first_content_ms < 2000), JSON.stringify(audit));
});

test('raw: a wrong or missing token is 401 in OpenAI\'s error shape', async () => {
  for (const auth of ['Bearer not-a-valid-token-000000', null]) {
    const headers = { 'Content-Type': 'application/json' };
    if (auth) headers.Authorization = auth;
    const res = await fetch(`${fast.baseURL}/chat/completions`, {
      method: 'POST', headers, body: JSON.stringify({ model: 'openclaw', messages: conversation }),
    });
    assert.equal(res.status, 401);
    const body = await res.json();
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.code, 'invalid_api_key');
    assert.equal(typeof body.error.message, 'string');
    assert.ok('param' in body.error);
    assert.ok(!JSON.stringify(body).includes('not-a-valid-token'));
  }
  await assert.rejects(client(fast, 'not-a-valid-token-000000').chat.completions.create({ model: 'openclaw', messages: conversation }),
                       (e) => e instanceof OpenAI.AuthenticationError && e.status === 401);
});

test('raw: malformed requests are 400 with the parameter named', async () => {
  const post = (body) => fetch(`${fast.baseURL}/chat/completions`, {
    method: 'POST', headers: { Authorization: `Bearer ${TOKENS[0]}`, 'Content-Type': 'application/json' }, body,
  });
  let res = await post('{"messages": ');
  assert.equal(res.status, 400);
  res = await post(JSON.stringify({ model: 'openclaw', messages: [] }));
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error.param, 'messages');
  res = await post(JSON.stringify({ model: 'openclaw', messages: [{ role: 'system', content: 'only a prompt' }] }));
  assert.equal(res.status, 400);
  const get = await fetch(`${fast.baseURL}/chat/completions`, { headers: { Authorization: `Bearer ${TOKENS[0]}` } });
  assert.equal(get.status, 405);
});

test('raw: too many requests is 429 with Retry-After (per token), the other token unaffected', async () => {
  const limited = await startStack({ ratePerMinute: 3 });
  try {
    const statuses = [];
    let retryAfter = null;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${TOKENS[0]}` } });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get('retry-after');
        const body = await res.json();
        assert.equal(body.error.code, 'rate_limit_exceeded');
      } else {
        await res.arrayBuffer();
      }
    }
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.ok(Number(retryAfter) >= 1, `Retry-After ${retryAfter}`);
    const other = await fetch(`${limited.baseURL}/models`, { headers: { Authorization: `Bearer ${TOKENS[1]}` } });
    assert.equal(other.status, 200);
    await assert.rejects(client(limited).models.list(), (e) => e instanceof OpenAI.RateLimitError && e.status === 429);
  } finally {
    await limited.stop();
  }
});

test('every request is audited, by token index and never by value', async () => {
  const audit = auditLines(fast.launcherLines);
  assert.ok(audit.length >= 6, `${audit.length} audit lines`);
  assert.ok(audit.some((a) => a.token === '#0' && a.status === 200 && a.stream === true));
  assert.ok(audit.some((a) => a.token === '#1' && a.status === 200));
  assert.ok(audit.some((a) => a.token === 'none' && a.status === 401));
});
