/**
 * Turns 16-bit mono PCM into the bytes of an audio format, incrementally: `encode` returns what can be sent now
 * (possibly nothing), `end` flushes the rest at the end of an utterance.
 */
export interface Encoder {
  encode(samples: Int16Array): Uint8Array;
  end(): Uint8Array;
}
