import { PLAIN_COMMANDS, RIME_BUFFER_BOUNDARIES, commandOf } from '../../lib/protocol/plain';

describe('protocol/plain', () => {
  it('a frame is a command when, surrounding whitespace aside, it is exactly one', () => {
    expect(commandOf('<EOS>')).toBe('eos');
    expect(commandOf(' <FLUSH>\n')).toBe('flush');
    expect(commandOf('<CLEAR>')).toBe('clear');
    for (const text of ['<eos>', 'Say <EOS>', '<EOS> now', '<EOS><EOS>', '', ' ']) expect(commandOf(text)).toBeUndefined();
  });

  it("Rime's commands and the characters its buffering ends at, as the seed page gives them", () => {
    expect(PLAIN_COMMANDS).toEqual({ eos: '<EOS>', flush: '<FLUSH>', clear: '<CLEAR>' });
    expect([...RIME_BUFFER_BOUNDARIES]).toEqual(['.', ',', '?', '!']);
  });
});
