import { jsonWire } from '../protocol/json';
import { plainWire } from '../protocol/plain';
import type { Wire } from '../protocol/wire';

/** The protocols the local server speaks, by the path each is served on (Rime's paths). */
export const ROUTES: ReadonlyMap<string, Wire> = new Map([plainWire, jsonWire].map((wire) => [wire.path, wire]));

/** What a path that serves no protocol is told: which ones do. */
export const routesHint = (): string => [...ROUTES.keys()].join(' or ');
