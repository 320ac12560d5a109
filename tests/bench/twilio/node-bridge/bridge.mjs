// A plain Node.js Twilio Media Streams <-> OpenAI Realtime passthrough bridge: the baseline that
// twilio-bench --node-bridge measures clawvoice-launcher against.
//
// Modelled closely on Twilio's published sample (twilio-samples/speech-assistant-openai-realtime-api-node,
// index.js): the same structure and the same work per message — one event loop, fastify +
// @fastify/websocket for Twilio, a `ws` client per call to the Realtime API, JSON.parse of every
// frame, μ-law passed through (each Twilio payload string becomes input_audio_buffer.append as is,
// each audio delta's base64 becomes a Twilio `media` message as is), a mark after every delta, and
// `clear` + conversation.item.truncate when the caller starts speaking. Audio is NOT paced: deltas
// go to Twilio as fast as the model sends them, as in the sample; Twilio's buffer plays them.
//
// Where it differs from the sample, and why (see README.md):
//   - the GA Realtime protocol (the beta one the sample was written for is shut down): no
//     OpenAI-Beta header, session.update with session.type "realtime" and audio.{input,output}.format
//     audio/pcmu, events named response.output_audio.delta;
//   - TwiML: no <Say>/<Pause> before <Connect> (our Twilio emulator only accepts <Connect><Stream>
//     first, as the bridge under test must answer), one <Parameter>, ws:// for a loopback host;
//   - call start: session.update is sent as soon as the Realtime socket opens (the sample waits
//     100 ms, so its first appends are taken as 24 kHz PCM), and caller frames that arrive before
//     it is open are held and sent on open (the sample drops them). Both only touch the first
//     moments of a call; without them the benchmark's inbound-delay column, which counts the audio
//     the model received against the audio the caller sent, would be off by that lost audio.
//
// Environment: PORT (0: any free port; the port is printed as `listening on PORT`), HOST (bind
// address, default 127.0.0.1), REALTIME_URL (default wss://api.openai.com/v1/realtime),
// OPENAI_API_KEY, PUBLIC_HOST (host[:port] Twilio reaches us at; default the webhook's Host header),
// PERMESSAGE_DEFLATE (0: do not offer WebSocket compression to the Realtime server; default: offer
// it, ws's default and so the sample's. clawvoice's client does not compress, and a server that
// accepts — our simulator does — inflates every append: twilio-bench sets 0 to compare like with like).
import Fastify from 'fastify';
import WebSocket from 'ws';
import fastifyFormBody from '@fastify/formbody';
import fastifyWs from '@fastify/websocket';

const { OPENAI_API_KEY, PUBLIC_HOST } = process.env;
const REALTIME_URL = process.env.REALTIME_URL || 'wss://api.openai.com/v1/realtime';
const PORT = process.env.PORT !== undefined ? Number(process.env.PORT) : 5050;
const HOST = process.env.HOST || '127.0.0.1';
const PERMESSAGE_DEFLATE = process.env.PERMESSAGE_DEFLATE !== '0';

if (!OPENAI_API_KEY) {
    console.error('Missing OpenAI API key: set OPENAI_API_KEY.');
    process.exit(1);
}

const fastify = Fastify();
fastify.register(fastifyFormBody);
fastify.register(fastifyWs);

const SYSTEM_MESSAGE = 'You are a helpful and bubbly AI assistant who loves to chat about anything the user is interested about and is prepared to offer them facts.';
const VOICE = 'alloy';
const MODEL = 'gpt-realtime';

// Event types logged to the console, as in the sample (a handful per call, none per audio frame).
const LOG_EVENT_TYPES = [
    'error',
    'response.content.done',
    'rate_limits.updated',
    'response.done',
    'input_audio_buffer.committed',
    'input_audio_buffer.speech_stopped',
    'input_audio_buffer.speech_started',
    'session.created'
];

const SHOW_TIMING_MATH = false;

const xmlEscape = (s) => String(s).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]));

fastify.get('/', async (request, reply) => {
    reply.send({ message: 'Twilio Media Stream Server is running!' });
});

// Twilio's voice webhook: answer with <Connect><Stream>. Twilio only streams to wss://; a loopback
// host (tests, no TLS) gets ws://.
fastify.all('/incoming-call', async (request, reply) => {
    const host = PUBLIC_HOST || request.headers.host;
    const scheme = /^(127\.0\.0\.1|localhost)(:\d+)?$/.test(host) ? 'ws' : 'wss';
    const from = (request.body && request.body.From) || '';
    const twimlResponse = `<?xml version="1.0" encoding="UTF-8"?>
                          <Response>
                              <Connect>
                                  <Stream url="${scheme}://${host}/media-stream">
                                      <Parameter name="from" value="${xmlEscape(from)}" />
                                  </Stream>
                              </Connect>
                          </Response>`;

    reply.type('text/xml').send(twimlResponse);
});

fastify.register(async (fastify) => {
    fastify.get('/media-stream', { websocket: true }, (connection, req) => {
        console.log('Client connected');

        // Connection-specific state
        let streamSid = null;
        let latestMediaTimestamp = 0;
        let lastAssistantItem = null;
        let markQueue = [];
        let responseStartTimestampTwilio = null;
        let pendingAppends = [];   // caller audio that came before the Realtime socket opened

        const openAiWs = new WebSocket(`${REALTIME_URL}?model=${MODEL}`, {
            headers: {
                Authorization: `Bearer ${OPENAI_API_KEY}`
            },
            perMessageDeflate: PERMESSAGE_DEFLATE
        });

        const initializeSession = () => {
            const sessionUpdate = {
                type: 'session.update',
                session: {
                    type: 'realtime',
                    model: MODEL,
                    output_modalities: ['audio'],
                    audio: {
                        input: { format: { type: 'audio/pcmu' }, turn_detection: { type: 'server_vad' } },
                        output: { format: { type: 'audio/pcmu' }, voice: VOICE }
                    },
                    instructions: SYSTEM_MESSAGE
                }
            };

            console.log('Sending session update:', JSON.stringify(sessionUpdate));
            openAiWs.send(JSON.stringify(sessionUpdate));
        };

        // The caller started speaking: clear Twilio's buffer and truncate what was not heard.
        const handleSpeechStartedEvent = () => {
            if (markQueue.length > 0 && responseStartTimestampTwilio != null) {
                const elapsedTime = latestMediaTimestamp - responseStartTimestampTwilio;
                if (SHOW_TIMING_MATH) console.log(`Calculating elapsed time for truncation: ${latestMediaTimestamp} - ${responseStartTimestampTwilio} = ${elapsedTime}ms`);

                if (lastAssistantItem) {
                    const truncateEvent = {
                        type: 'conversation.item.truncate',
                        item_id: lastAssistantItem,
                        content_index: 0,
                        audio_end_ms: elapsedTime
                    };
                    if (SHOW_TIMING_MATH) console.log('Sending truncation event:', JSON.stringify(truncateEvent));
                    openAiWs.send(JSON.stringify(truncateEvent));
                }

                connection.send(JSON.stringify({
                    event: 'clear',
                    streamSid: streamSid
                }));

                markQueue = [];
                lastAssistantItem = null;
                responseStartTimestampTwilio = null;
            }
        };

        // A mark after each delta tells us when Twilio has played it.
        const sendMark = (connection, streamSid) => {
            if (streamSid) {
                const markEvent = {
                    event: 'mark',
                    streamSid: streamSid,
                    mark: { name: 'responsePart' }
                };
                connection.send(JSON.stringify(markEvent));
                markQueue.push('responsePart');
            }
        };

        openAiWs.on('open', () => {
            console.log('Connected to the OpenAI Realtime API');
            initializeSession();
            for (const append of pendingAppends) openAiWs.send(append);
            pendingAppends = null;
        });

        openAiWs.on('message', (data) => {
            try {
                const response = JSON.parse(data);

                if (LOG_EVENT_TYPES.includes(response.type)) {
                    console.log(`Received event: ${response.type}`, response);
                }

                if (response.type === 'response.output_audio.delta' && response.delta) {
                    const audioDelta = {
                        event: 'media',
                        streamSid: streamSid,
                        media: { payload: response.delta }
                    };
                    connection.send(JSON.stringify(audioDelta));

                    // The first delta of a response starts the elapsed-time counter.
                    if (!responseStartTimestampTwilio) {
                        responseStartTimestampTwilio = latestMediaTimestamp;
                        if (SHOW_TIMING_MATH) console.log(`Setting start timestamp for new response: ${responseStartTimestampTwilio}ms`);
                    }

                    if (response.item_id) {
                        lastAssistantItem = response.item_id;
                    }

                    sendMark(connection, streamSid);
                }

                if (response.type === 'input_audio_buffer.speech_started') {
                    handleSpeechStartedEvent();
                }
            } catch (error) {
                console.error('Error processing OpenAI message:', error, 'Raw message:', data);
            }
        });

        connection.on('message', (message) => {
            try {
                const data = JSON.parse(message);

                switch (data.event) {
                    case 'media':
                        latestMediaTimestamp = data.media.timestamp;
                        if (SHOW_TIMING_MATH) console.log(`Received media message with timestamp: ${latestMediaTimestamp}ms`);
                        {
                            const audioAppend = {
                                type: 'input_audio_buffer.append',
                                audio: data.media.payload
                            };
                            if (openAiWs.readyState === WebSocket.OPEN) {
                                openAiWs.send(JSON.stringify(audioAppend));
                            } else if (pendingAppends) {
                                pendingAppends.push(JSON.stringify(audioAppend));
                            }
                        }
                        break;
                    case 'start':
                        streamSid = data.start.streamSid;
                        console.log('Incoming stream has started', streamSid);

                        responseStartTimestampTwilio = null;
                        latestMediaTimestamp = 0;
                        break;
                    case 'mark':
                        if (markQueue.length > 0) {
                            markQueue.shift();
                        }
                        break;
                    default:
                        console.log('Received non-media event:', data.event);
                        break;
                }
            } catch (error) {
                console.error('Error parsing message:', error, 'Message:', message);
            }
        });

        connection.on('close', () => {
            if (openAiWs.readyState === WebSocket.OPEN) openAiWs.close();
            console.log('Client disconnected.');
        });

        openAiWs.on('close', () => {
            console.log('Disconnected from the OpenAI Realtime API');
        });

        openAiWs.on('error', (error) => {
            console.error('Error in the OpenAI WebSocket:', error);
        });
    });
});

fastify.listen({ port: PORT, host: HOST }, (err) => {
    if (err) {
        console.error(err);
        process.exit(1);
    }
    console.log(`listening on ${fastify.server.address().port}`);
});
