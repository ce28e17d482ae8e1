// Worker thread for the espeak voice (espeak.ts). Plain JavaScript ES module because the espeak-ng package is
// ESM-only and a worker cannot load TypeScript; it is copied next to the compiled espeak.js by `npm run build`.
//
// Protocol. Out: { type: 'ready', samplingRate } once, or { type: 'failed', missing, message } and nothing else.
// In: { id, voice, rate, input } jobs, handled one at a time in arrival order (espeak is synchronous, so the
// message queue is the job queue). Out per job: { type: 'chunk', id, samples, words } per clause (words: espeak's
// word events in it, { position, length, ms }: where the word is in the input, 1-based, and where its audio starts,
// in ms from the job's start), then { type: 'done', id } or { type: 'error', id, message }.
import { parentPort } from 'node:worker_threads';

let espeak;
try {
  const { default: createEspeakModule } = await import('@echogarden/espeak-ng-emscripten');
  espeak = new (await createEspeakModule()).eSpeakNGWorker();
} catch (error) {
  const missing = error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('espeak-ng-emscripten');
  parentPort.postMessage({ type: 'failed', missing, message: String(error?.message ?? error) });
}

if (espeak) {
  parentPort.on('message', ({ id, voice, rate, input }) => {
    // espeak hands out 100 ms buffers; gathering them up to each clause end ('end' event) keeps messages few and
    // chunk boundaries at natural pauses, where the main thread's stateless resampling cannot be heard.
    let clause = [];
    let words = [];
    const postClause = () => {
      const length = clause.reduce((sum, samples) => sum + samples.length, 0);
      if (length === 0) return;
      const samples = new Int16Array(length);
      let offset = 0;
      for (const part of clause) {
        samples.set(part, offset);
        offset += part.length;
      }
      clause = [];
      parentPort.postMessage({ type: 'chunk', id, samples, words }, [samples.buffer]);
      words = [];
    };
    try {
      espeak.set_voice(voice);
      espeak.set_rate(rate);
      espeak.synthesize(input, (samples, events) => {
        clause.push(samples);
        for (const event of events) {
          if (event.type === 'word') words.push({ position: event.text_position, length: event.word_length, ms: event.audio_position });
        }
        if (events.some((event) => event.type === 'end')) postClause();
        return 0; // 0 = keep going
      });
      postClause();
      parentPort.postMessage({ type: 'done', id });
    } catch (error) {
      parentPort.postMessage({ type: 'error', id, message: String(error?.message ?? error) });
    }
  });
  parentPort.postMessage({ type: 'ready', samplingRate: espeak.get_samplerate() });
}
