import type { ClientCommand } from '../protocol/messages';
import type { RimeQueryOptions } from '../options';
import type { Fault } from './faults';

/**
 * What the local server observed, for tests and logs. Never carries an API key: only whether one was accepted.
 */
export type ServerEvent =
  | { readonly type: 'refused'; readonly status: number; readonly body: string }
  | { readonly type: 'open'; readonly connection: number; readonly options: RimeQueryOptions }
  | { readonly type: 'text'; readonly connection: number; readonly text: string }
  | { readonly type: 'command'; readonly connection: number; readonly command: ClientCommand }
  | { readonly type: 'synthesis'; readonly connection: number; readonly text: string }
  /** A frame the protocol could not read, answered with an error message (the JSON protocol). */
  | { readonly type: 'rejected'; readonly connection: number; readonly message: string }
  | { readonly type: 'audio'; readonly connection: number; readonly bytes: number }
  | { readonly type: 'fault'; readonly connection: number; readonly fault: Fault }
  | {
      readonly type: 'close';
      readonly connection: number;
      readonly code: number;
      readonly reason: string;
      /** Who ended it: the server (command, limit, fault, shutdown) or the client. */
      readonly by: 'server' | 'client';
    };
