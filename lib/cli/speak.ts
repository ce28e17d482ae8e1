import { constants, createReadStream } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as E from 'fp-ts/Either';
import { type Observable, ReplaySubject, Subject, concat, defer, of, takeUntil, tap } from 'rxjs';
import { audioClock } from '../audio/clock';
import { streamingWavHeader, textFromReadable, writeAudio, writeAudioFile } from '../audio/sinks';
import { RimeError, type RimeErrorKind } from '../errors';
import { type AudioFormat, DEFAULT_RIME_URL, decodeRimeOptions, rimeClientFields, rimeQueryFields } from '../options';
import { type RimeServer, createRimeServer } from '../server/createRimeServer';
import { MP3_MISSING, mp3Available } from '../server/encode/mp3';
import { DEFAULT_RETRY_COUNT, type RetryConfig } from '../tts/retry';
import { rimeTtsFields } from '../tts/config';
import { rimeTts } from '../tts/rimeTts';
import { type OwnFlags, fieldsFromFlags, flagHelp, flagOptions, textFlag } from './flags';
import type { CliIo } from './io';
import { messageOf, parseErrorMessage } from './io';

/** The flags of `speak` itself; the rest are options of the library, from their field tables. */
const outputFlags: OwnFlags = {
  output: { short: 'o', value: 'FILE|-', doc: 'where the audio goes; the format follows the name: .mp3 .wav .ulaw/.mulaw .pcm/.raw' },
  format: { value: 'F', doc: 'mp3, wav, mulaw or pcm (required with -o -)' },
};
const serverFlags: OwnFlags = {
  voice: {
    value: 'test|espeak',
    doc: 'speak with the embedded server and this voice, even with RIME_API_KEY set (default without the key: espeak)',
  },
};
const otherFlags: OwnFlags = {
  input: { short: 'i', value: 'FILE', doc: 'read the text from FILE' },
  quiet: { short: 'q', doc: 'no progress, no summary' },
  help: { short: 'h', doc: 'this help' },
};

/** The library's options `speak` has flags for: the voice's, and how it connects. */
const { url, region, protocol, allowUnlistedSpeaker } = rimeClientFields;
const voiceFields = { ...rimeQueryFields, allowUnlistedSpeaker };
const connectionFields = { protocol, region, url, ...rimeTtsFields };
/** Where `speak` decides otherwise than the library, as its help says it. */
const speakDefaults = {
  speaker: 'cove',
  segment: 'never, a flush after each segment',
  url: `Rime's for the protocol, ${DEFAULT_RIME_URL} or /ws3; with no RIME_API_KEY, the embedded local server`,
  retry: String(DEFAULT_RETRY_COUNT),
};

export const speakUsage = `Usage: rime-rx speak [text...] -o FILE [options]

Speaks text into an audio file (or stdout). Text comes from the arguments, from --input FILE, or from stdin,
streamed as it arrives (my-llm | rime-rx speak -o reply.mp3 speaks while the LLM is still writing).
With RIME_API_KEY set it uses Rime; without it, an embedded local server with real speech (espeak), no network.

Output:
${flagHelp({}, {}, outputFlags)}Voice (rime-rx voices lists the catalog's, by model and language):
${flagHelp(voiceFields, speakDefaults)}Connection:
${flagHelp(connectionFields, speakDefaults, serverFlags)}Other:
${flagHelp({}, {}, otherFlags)}
Exit codes: 0 done (also when the reader of -o - stopped reading, as with | head), 2 usage, invalid options or
no text, 3 authentication, 4 rate limit, 5 connection or server failure, 1 anything else, 130 interrupted (Ctrl-C;
the file holds what arrived and plays), 143 terminated (SIGTERM; the same).
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

const speakOptions = flagOptions([voiceFields, connectionFields], { ...outputFlags, ...serverFlags, ...otherFlags });

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

const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;

/** The exit code for each signal that stops the speech: the file is finished (its header patched) first. */
const stoppingSignals = { SIGINT: 130, SIGTERM: 143 } as const;
type StoppingSignal = keyof typeof stoppingSignals;

/** At most this often the progress line is redrawn. */
const PROGRESS_EVERY_MS = 100;

/** `rime-rx speak`: resolves with the exit code. */
export async function speak(args: readonly string[], io: CliIo): Promise<number> {
  let server: RimeServer | undefined;
  let progressShown = false;
  // Listening from the start, and to every signal until the end: a Ctrl-C during start-up still ends in a playable
  // (if empty) file, and a second Ctrl-C or a SIGTERM while the file is being finished cannot cut that short.
  const interrupted = new ReplaySubject<StoppingSignal>(1);
  const listeners = (Object.keys(stoppingSignals) as StoppingSignal[]).map((signal) => {
    const listener = () => interrupted.next(signal);
    io.signals.on(signal, listener);
    return () => io.signals.off(signal, listener);
  });
  try {
    const { values, positionals } = parse(args);
    const output = textFlag(values, 'output');
    const voiceFlag = textFlag(values, 'voice');
    const quiet = values['quiet'] === true;
    if (values['help'] === true) {
      io.out.write(speakUsage);
      return 0;
    }
    if (output === undefined) throw new UsageError('where should the audio go? give -o FILE (or -o - with --format)');
    const format = outputFormat(output, textFlag(values, 'format'));
    const connection = fieldsFromFlags(connectionFields, values);
    if (voiceFlag !== undefined && connection['url'] !== undefined) {
      throw new UsageError('--voice picks the embedded server\'s voice and --url another server: give one of them');
    }
    if (output !== '-') await checkWritable(output);
    const { retry, ...connectionOptions } = connection;
    const decoded = decodeRimeOptions({
      speaker: speakDefaults.speaker,
      ...fieldsFromFlags(voiceFields, values),
      ...connectionOptions,
      audioFormat: format === 'wav' ? 'pcm' : format,
    });
    if (E.isLeft(decoded)) throw decoded.left;
    const options = decoded.right;

    const { text, totalCharacters } = await textSource(positionals, textFlag(values, 'input'), io);
    const environmentKey = io.env['RIME_API_KEY']?.trim();
    const keySet = environmentKey !== undefined && environmentKey !== '';
    let url = options.url;
    let apiKey = keySet ? environmentKey : 'local';
    // An explicit --voice is honoured even with the key set: it asks for the embedded server.
    if (voiceFlag !== undefined || (!keySet && connection['url'] === undefined)) {
      const voiceName = voiceFlag ?? 'espeak';
      const voice = voiceName === 'test' ? 'test' : voiceName === 'espeak' ? 'espeak' : undefined;
      if (voice === undefined) throw new UsageError(`--voice must be test or espeak, got "${voiceName}"`);
      if (format === 'mp3' && !mp3Available()) throw new UsageError(`${MP3_MISSING} (or write .wav, .ulaw or .pcm)`);
      server = await createRimeServer({ voice, log: () => {} });
      url = server.urls[options.protocol];
      apiKey = 'local';
      const why = keySet ? `--voice ${voice} given: speaking with the embedded local server, not Rime` : 'RIME_API_KEY is not set: speaking with the embedded local server';
      if (!quiet) io.err.write(`rime-rx: ${why} (${voice} voice, no network)\n`);
    }

    const clock = audioClock(options.audioFormat, options.samplingRate);
    const started = Date.now();
    let firstAudioMs: number | undefined;
    let written = 0;
    let characters = 0;
    let anyText = false;
    const progress = io.errIsTTY === true && !quiet;
    let drawnAt = 0;
    const status = () => {
      const read = `${characters.toLocaleString('en-US')}${totalCharacters === undefined ? '' : ` of ${totalCharacters.toLocaleString('en-US')}`} characters read`;
      const first = firstAudioMs === undefined ? 'no audio yet' : `first audio after ${firstAudioMs} ms`;
      return `${read}, ${clock.seconds.toFixed(1)} s of audio (${kilobytes(written)}) in ${((Date.now() - started) / 1000).toFixed(1)} s, ${first}`;
    };
    let stoppedBy: StoppingSignal | undefined;
    // The sink says when it is full and the socket stops being read: a slow pipe never fills memory.
    const backpressure = new Subject<boolean>();
    const retries = retry === undefined ? {} : { retry: retry as RetryConfig /* validated by rimeTts */ };
    const audio: Observable<Uint8Array> = text.pipe(
      tap((piece) => {
        characters += piece.length;
        anyText ||= piece.trim() !== '';
      }),
      rimeTts({ ...options, url, apiKey, backpressure, ...retries }),
      takeUntil(interrupted.pipe(tap((signal) => (stoppedBy ??= signal)))),
      tap((chunk) => {
        firstAudioMs ??= Date.now() - started;
        written += chunk.length;
        clock.add(chunk);
        if (progress && Date.now() - drawnAt >= PROGRESS_EVERY_MS) {
          drawnAt = Date.now();
          progressShown = true;
          io.err.write(`\rrime-rx: ${status()}   `);
        }
      }),
    );
    let readerLeft = false;
    if (output === '-') {
      const withHeader = format === 'wav' ? concat(of(streamingWavHeader(options.samplingRate)), audio) : audio;
      // A reader that stops reading (`| head -c 1000`) is a normal end: nothing more is made for it.
      await writeAudio(withHeader, io.out, { end: false, backpressure }).catch((error: unknown) => {
        if (!isClosedPipe(error)) throw error;
        readerLeft = true;
      });
    } else {
      await writeAudioFile(audio, output, { backpressure, ...(format === 'wav' ? { wav: { samplingRate: options.samplingRate } } : {}) });
    }
    if (progressShown) io.err.write('\n');
    progressShown = false;
    if (!anyText && stoppedBy === undefined && !readerLeft) {
      if (output !== '-') await rm(output, { force: true });
      throw new UsageError('no text to speak: the input was empty');
    }
    if (!quiet) {
      const where = output === '-' ? 'stdout' : output;
      const how = stoppedBy === 'SIGINT' ? 'interrupted; ' : stoppedBy === 'SIGTERM' ? 'terminated; ' : readerLeft ? 'the reader left; ' : '';
      io.err.write(`rime-rx: ${how}wrote ${where}: ${status()}\n`);
    }
    return stoppedBy === undefined ? 0 : stoppingSignals[stoppedBy];
  } catch (error) {
    if (progressShown) io.err.write('\n');
    if (error instanceof RimeError) {
      const issues = error.kind === 'invalid-options' && error.issues !== undefined ? `invalid options: ${error.issues.join('; ')}` : error.message;
      const voicesHint = error.issues?.some((issue) => issue.startsWith('speaker ')) === true ? ' (rime-rx voices --model ID --lang CODE lists the voices)' : '';
      io.err.write(`rime-rx: ${issues}${voicesHint}\n`);
      return exitCodes[error.kind];
    }
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
    const usage = error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS');
    io.err.write(`rime-rx: ${usage ? parseErrorMessage(error, speakOptions) : messageOf(error)}${usage ? ' (try rime-rx speak --help)' : ''}\n`);
    return usage ? 2 : 1;
  } finally {
    listeners.forEach((stopListening) => stopListening());
    await server?.close();
  }
}

/** An error from writing to a pipe whose reader has gone. */
function isClosedPipe(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === 'EPIPE' || code === 'ERR_STREAM_DESTROYED' || messageOf(error) === 'the destination closed before the audio ended';
}

/** Finds a missing or read-only output folder before anything connects. */
async function checkWritable(output: string): Promise<void> {
  const folder = dirname(output);
  await access(folder, constants.W_OK).catch((error: unknown) => {
    const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : messageOf(error);
    throw new UsageError(`cannot write ${output}: ${code === 'ENOENT' ? `the folder ${folder} does not exist` : code}`);
  });
}


/**
 * The text to speak: the arguments, a file (checked now, read when speech starts), or stdin as it arrives; and how
 * many characters it has, when that is known before it is read.
 */
async function textSource(
  positionals: readonly string[],
  input: string | undefined,
  io: CliIo,
): Promise<{ readonly text: Observable<string>; readonly totalCharacters?: number }> {
  if (positionals.length > 0 && input !== undefined) throw new UsageError('give the text as arguments or with --input, not both');
  if (positionals.length > 0) {
    const text = positionals.join(' ');
    if (text.trim() === '') throw new UsageError('no text to speak: the arguments are empty');
    return { text: of(text), totalCharacters: text.length };
  }
  if (input !== undefined) {
    await access(input, constants.R_OK).catch((error: unknown) => {
      throw new UsageError(`cannot read ${input}: ${typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : messageOf(error)}`);
    });
    return { text: defer(() => textFromReadable(createReadStream(input))) };
  }
  if (io.stdin === undefined || (io.stdin as Readable & { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('no text: give it as arguments, with --input FILE, or on stdin');
  }
  return { text: textFromReadable(io.stdin) };
}
