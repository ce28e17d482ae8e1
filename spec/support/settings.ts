import * as E from 'fp-ts/Either';
import { type RimeOptions, type RimeQueryOptions, parseRimeOptions } from '../../lib/options';
import type { Transport } from '../../lib/transport/transport';
import { type RimeTtsConfig, type TtsSettings, decodeSettings } from '../../lib/tts/config';

/** Connection options as the codecs make them: the defaults, `cove` in pcm, and `overrides`. */
export function rimeOptions(overrides: Partial<RimeOptions> = {}): RimeOptions {
  return parseRimeOptions({ speaker: 'cove', audioFormat: 'pcm', ...overrides });
}

/** The query part of {@link rimeOptions}: what a server reads from an upgrade. */
export function queryOptions(overrides: Partial<RimeQueryOptions> = {}): RimeQueryOptions {
  const { url: _url, allowUnlistedSpeaker: _unlisted, protocol: _protocol, apiKey: _apiKey, region: _region, ...query } = rimeOptions(overrides);
  return query;
}

/** The operator's settings as `rimeTts` decodes them, with `transport` and no retries unless `config` says. */
export function ttsSettings(transport: Transport, config: Partial<RimeTtsConfig> & { readonly spare?: boolean } = {}): TtsSettings {
  const { spare, ...rest } = config;
  const decoded = decodeSettings({ speaker: 'cove', audioFormat: 'pcm', segment: 'never', apiKey: 'test-key', url: 'ws://127.0.0.1:9/ws', retry: 0, prewarm: false, transport, ...rest });
  if (E.isLeft(decoded)) throw decoded.left;
  return spare === undefined ? decoded.right : { ...decoded.right, spare };
}
