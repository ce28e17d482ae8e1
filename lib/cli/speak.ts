import { constants, createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { extname } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/Either';
import { type Observable, ReplaySubject, Subject, concat, defer, of, takeUntil, tap } from 'rxjs';
import { Mp3Duration } from '../audio/mp3Frames';
import { streamingWavHeader, textFromReadable, writeAudio, writeAudioFile } from '../audio/sinks';
import { numberFromText } from '../codecs';
import { nearest } from '../nearest';
import { RimeError, type RimeErrorKind } from '../errors';
import { type AudioFormat, decodeRimeOptions } from '../options';
import { type RimeServer, createRimeServer } from '../server/createRimeServer';
import type { RetryConfig } from '../tts/retry';
import { rimeTts } from '../tts/rimeTts';
import type { CliIo } from './io';
import { messageOf } from './io';

export const speakUsage = `Usage: rime-rx speak [text...] -o FILE [options]

Speaks text into an audio file (or stdout). Text comes from the arguments, from --input FILE, or from stdin,
streamed as it arrives (my-llm | rime-rx speak -o reply.mp3 speaks while the LLM is still writing).
With RIME_API_KEY set it uses Rime; without it, an embedded local server with real speech (espeak), no network.

Output:
  -o, --output FILE|-             where the audio goes; the format follows the name: .mp3 .wav .ulaw/.mulaw .pcm/.raw
      --format F                  mp3, wav, mulaw or pcm (required with -o -)
Voice:
      --speaker NAME              default cove
      --model ID                  default mistv3
      --lang CODE                 eng, spa, fra, ger, ... (default eng)
      --sampling-rate HZ          4000 to 44100 (default 22050)
      --speed X                   speedAlpha: above 1 is faster (default 1)
      --segment MODE              bySentence, immediate or never (default: never, a flush after each segment)
      --pause-between-brackets    <200> is a 200 ms pause
      --phonemize-between-brackets  {h'El.o} is spoken from phonemes
      --inline-speed-alpha LIST   e.g. "0.5, 3"
      --no-text-normalization
      --time-scale-factor X       0.4 to 2.5
      --allow-unlisted-speaker    accept a speaker the bundled catalog does not list
Connection:
      --url URL                   Rime endpoint (default wss://users-ws.rime.ai/ws; with no RIME_API_KEY, a local server)
      --voice test|espeak         the embedded server's voice (default espeak)
      --retries N                 retries after a failed connection (default 3)
Other:
  -i, --input FILE                read the text from FILE
  -q, --quiet                     no progress, no summary
  -h, --help                      this help

Exit codes: 0 done, 2 usage or invalid options, 3 authentication, 4 rate limit, 5 connection or server failure,
1 anything else, 130 interrupted (Ctrl-C; the file holds what arrived and plays).
`;

const formatsByExtension: Readonly<Record<string, OutputFormat>> = {
  '.mp3': 'mp3',
  '.wav': 'wav',
  '.ulaw': 'mulaw',
  '.mulaw': 'mulaw',
  '.ul': 'mulaw',
  '.pcm': 'pcm',
  '.raw': 'pcm',
};
type OutputFormat = AudioFormat | 'wav';
const outputFormats: readonly string[] = ['mp3', 'wav', 'mulaw', 'pcm'];

const exitCodes: Readonly<Record<RimeErrorKind, number>> = {
  'invalid-options': 2,
  unauthorized: 3,
  forbidden: 3,
  'rate-limited': 4,
  connection: 5,
  timeout: 5,
  server: 5,
  protocol: 1,
};

class UsageError extends Error {}

const speakOptions = {
  output: { type: 'string', short: 'o' },
  format: { type: 'string' },
  speaker: { type: 'string', default: 'cove' },
  model: { type: 'string' },
  lang: { type: 'string' },
  'sampling-rate': { type: 'string' },
  speed: { type: 'string' },
  segment: { type: 'string' },
  'pause-between-brackets': { type: 'boolean' },
  'phonemize-between-brackets': { type: 'boolean' },
  'inline-speed-alpha': { type: 'string' },
  'no-text-normalization': { type: 'boolean' },
  'time-scale-factor': { type: 'string' },
  'allow-unlisted-speaker': { type: 'boolean' },
  url: { type: 'string' },
  voice: { type: 'string', default: 'espeak' },
  input: { type: 'string', short: 'i' },
  retries: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse(args: readonly string[]) {
  return parseArgs({ args: [...args], allowPositionals: true, strict: true, options: speakOptions });
}

/** The output format: from `--format`, else from the file name; they must agree. */
function outputFormat(output: string, format: string | undefined): OutputFormat {
  if (format !== undefined && !outputFormats.includes(format)) {
    throw new UsageError(`--format must be one of ${outputFormats.join(', ')}, got "${format}"`);
  }
  const fromName = output === '-' ? undefined : formatsByExtension[extname(output).toLowerCase()];
  if (format !== undefined && fromName !== undefined && format !== fromName) {
    throw new UsageError(`${output} names ${fromName} audio but --format says ${format}`);
  }
  const chosen = (format as OutputFormat | undefined) ?? fromName;
  if (chosen === undefined) {
    throw new UsageError(
      output === '-' ? 'writing to stdout (-o -) needs --format' : `cannot tell the format of ${output}: name it .mp3, .wav, .ulaw or .pcm, or give --format`,
    );
  }
  return chosen;
}

/** Seconds of audio in what has been written so far. */
function audioClock(format: AudioFormat, samplingRate: number): { add(chunk: Uint8Array): void; readonly seconds: number } {
  if (format === 'mp3') return new Mp3Duration();
  const bytesPerSecond = samplingRate * (format === 'pcm' ? 2 : 1);
  let bytes = 0;
  return {
    add: (chunk) => void (bytes += chunk.length),
    get seconds() {
      return bytes / bytesPerSecond;
    },
  };
}

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;

/** `rime-rx speak`: resolves with the exit code. */
export async function speak(args: readonly string[], io: CliIo): Promise<number> {
  let server: RimeServer | undefined;
  let progressShown = false;
  // Listening from the start: a Ctrl-C during start-up still ends in a playable (if empty) file and exit 130.
  const interrupted = new ReplaySubject<void>(1);
  const onInterrupt = () => interrupted.next();
  io.signals.once('SIGINT', onInterrupt);
  try {
    const { values, positionals } = parse(args);
    if (values.help === true) {
      io.out.write(speakUsage);
      return 0;
    }
    if (values.output === undefined) throw new UsageError('where should the audio go? give -o FILE (or -o - with --format)');
    const format = outputFormat(values.output, values.format);
    const decoded = decodeRimeOptions(
      Object.fromEntries(
        Object.entries({
          speaker: values.speaker,
          modelId: values.model,
          audioFormat: format === 'wav' ? 'pcm' : format,
          lang: values.lang,
          samplingRate: values['sampling-rate'] === undefined ? undefined : numberFromText(values['sampling-rate']),
          speedAlpha: values.speed === undefined ? undefined : numberFromText(values.speed),
          segment: values.segment,
          pauseBetweenBrackets: values['pause-between-brackets'],
          phonemizeBetweenBrackets: values['phonemize-between-brackets'],
          inlineSpeedAlpha: values['inline-speed-alpha'],
          noTextNormalization: values['no-text-normalization'],
          timeScaleFactor: values['time-scale-factor'] === undefined ? undefined : numberFromText(values['time-scale-factor']),
          allowUnlistedSpeaker: values['allow-unlisted-speaker'],
          url: values.url,
        }).filter(([, value]) => value !== undefined),
      ),
    );
    if (E.isLeft(decoded)) throw decoded.left;
    const options = decoded.right;

    const text = await textSource(positionals, values.input, io);
    const environmentKey = io.env['RIME_API_KEY']?.trim();
    let url = options.url;
    let apiKey = environmentKey;
    if (environmentKey === undefined || environmentKey === '') {
      apiKey = 'local';
      if (values.url === undefined) {
        const voice = values.voice === 'test' ? 'test' : values.voice === 'espeak' ? 'espeak' : undefined;
        if (voice === undefined) throw new UsageError(`--voice must be test or espeak, got "${values.voice}"`);
        server = await createRimeServer({ voice, log: () => {} });
        url = server.url;
        if (values.quiet !== true) io.err.write(`rime-rx: RIME_API_KEY is not set: speaking with the embedded local server (${voice} voice, no network)\n`);
      }
    }

    const clock = audioClock(options.audioFormat, options.samplingRate);
    const started = Date.now();
    let firstAudioMs: number | undefined;
    let written = 0;
    const progress = io.errIsTTY === true && values.quiet !== true;
    let wasInterrupted = false;
    // The sink says when it is full and the socket stops being read: a slow pipe never fills memory.
    const backpressure = new Subject<boolean>();
    const audio: Observable<Uint8Array> = text.pipe(
      rimeTts({ ...options, url, apiKey: apiKey ?? 'local', backpressure, ...(values.retries === undefined ? {} : { retry: numberFromText(values.retries) as RetryConfig /* validated by rimeTts */ }) }),
      takeUntil(interrupted.pipe(tap(() => (wasInterrupted = true)))),
      tap((chunk) => {
        firstAudioMs ??= Date.now() - started;
        written += chunk.length;
        clock.add(chunk);
        if (progress) {
          progressShown = true;
          io.err.write(`\rrime-rx: first audio after ${firstAudioMs} ms, ${clock.seconds.toFixed(1)} s of audio, ${kilobytes(written)}   `);
        }
      }),
    );
    if (values.output === '-') {
      const withHeader = format === 'wav' ? concat(of(streamingWavHeader(options.samplingRate)), audio) : audio;
      await writeAudio(withHeader, io.out, { end: false, backpressure });
    } else {
      await writeAudioFile(audio, values.output, { backpressure, ...(format === 'wav' ? { wav: { samplingRate: options.samplingRate } } : {}) });
    }
    if (progressShown) io.err.write('\n');
    progressShown = false;
    if (values.quiet !== true) {
      const where = values.output === '-' ? 'stdout' : values.output;
      const first = firstAudioMs === undefined ? 'no audio' : `first audio after ${firstAudioMs} ms`;
      io.err.write(
        `rime-rx: ${wasInterrupted ? 'interrupted; ' : ''}wrote ${where}: ${clock.seconds.toFixed(1)} s of audio, ${kilobytes(written)}, ${first}\n`,
      );
    }
    return wasInterrupted ? 130 : 0;
  } catch (error) {
    if (progressShown) io.err.write('\n');
    if (error instanceof RimeError) {
      const issues = error.kind === 'invalid-options' && error.issues !== undefined ? `invalid options: ${error.issues.join('; ')}` : error.message;
      io.err.write(`rime-rx: ${issues}\n`);
      return exitCodes[error.kind];
    }
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const usage = error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS');
    io.err.write(`rime-rx: ${usage ? usageMessage(error, code) : messageOf(error)}${usage ? ' (try rime-rx speak --help)' : ''}\n`);
    return usage ? 2 : 1;
  } finally {
    io.signals.off('SIGINT', onInterrupt);
    await server?.close();
  }
}

/** parseArgs's own words, shortened, with the nearest flag for an unknown one. */
function usageMessage(error: unknown, code: string): string {
  const message = messageOf(error);
  if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return message;
  const flag = /'(-{1,2}[^']+)'/.exec(message)?.[1] ?? '';
  const known = Object.keys(speakOptions).map((name) => `--${name}`);
  const guess = nearest(flag, known, 1)[0];
  return `unknown option ${flag}${guess === undefined ? '' : `; did you mean ${guess}?`}`;
}

/** The text to speak: the arguments, a file (checked now, read when speech starts), or stdin as it arrives. */
async function textSource(positionals: readonly string[], input: string | undefined, io: CliIo): Promise<Observable<string>> {
  if (positionals.length > 0 && input !== undefined) throw new UsageError('give the text as arguments or with --input, not both');
  if (positionals.length > 0) return of(positionals.join(' '));
  if (input !== undefined) {
    await access(input, constants.R_OK).catch((error: unknown) => {
      throw new UsageError(`cannot read ${input}: ${typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : messageOf(error)}`);
    });
    return defer(() => textFromReadable(createReadStream(input)));
  }
  if (io.stdin === undefined || (io.stdin as Readable & { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('no text: give it as arguments, with --input FILE, or on stdin');
  }
  return textFromReadable(io.stdin);
}
