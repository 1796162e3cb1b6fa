import { createHash, randomUUID } from 'node:crypto';
import { decodeInvitationCode, encodeInvitationCode, type InvitationBody } from '../src/index.js';

function body(overrides: Partial<InvitationBody> = {}): InvitationBody {
  return {
    connectionId: randomUUID(),
    secret: 'A'.repeat(43),
    name: 'jira_to_ado',
    description: 'Support escalations — ünïcödé',
    mode: 'SCRIPT',
    initiator: {
      shortName: 'jira',
      project: 'SUP',
      node: {
        product: 'exalate',
        nodeType: 'JIRA_CLOUD',
        instanceId: randomUUID(),
        trackerUrl: 'https://acme.atlassian.net',
        nodeUrl: 'https://exalate.acme.com/nodes/jira',
        protocol: { min: 1, max: 1 },
        modes: ['BASIC', 'VISUAL', 'SCRIPT'],
        pollOnly: false,
        version: '0.1.0',
      },
    },
    destination: { shortName: 'ado', url: 'https://exalate.partner.com/nodes/ado' },
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
    ...overrides,
  };
}

describe('invitation code', () => {
  it('round-trips, including non-ASCII text', () => {
    const b = body();
    const decoded = decodeInvitationCode(encodeInvitationCode(b));
    expect(decoded).toEqual({ ok: true, value: b });
  });

  it('ignores line breaks and spaces picked up when pasting', () => {
    const code = encodeInvitationCode(body());
    const wrapped = code.replace(/(.{60})/g, '$1\n  ');
    expect(decodeInvitationCode(wrapped).ok).toBe(true);
  });

  it('tells an empty code', () => {
    expect(decodeInvitationCode('  \n')).toMatchObject({ ok: false, error: { code: 'INVITATION_CODE_EMPTY' } });
  });

  it.each([10, 100, 1])('tells a code truncated by %i characters as damaged', (cut) => {
    const code = encodeInvitationCode(body());
    expect(decodeInvitationCode(code.slice(0, code.length - cut))).toMatchObject({
      ok: false,
      error: { code: 'INVITATION_CODE_DAMAGED' },
    });
  });

  it('tells a mistyped character inside the body as damaged (checksum)', () => {
    const b = body();
    const code = encodeInvitationCode(b);
    // Flip one character in the middle of the code, where the body lives.
    const i = Math.floor(code.length / 2);
    const mistyped = code.slice(0, i) + (code[i] === 'Q' ? 'R' : 'Q') + code.slice(i + 1);
    expect(decodeInvitationCode(mistyped)).toMatchObject({ ok: false, error: { code: 'INVITATION_CODE_DAMAGED' } });
  });

  it('tells text that is not an invitation code', () => {
    expect(decodeInvitationCode('hello world, here is my code')).toMatchObject({ error: { code: 'INVITATION_CODE_NOT_RECOGNIZED' } });
    const foreign = Buffer.from(JSON.stringify({ token: 'abc' })).toString('base64url');
    expect(decodeInvitationCode(foreign)).toMatchObject({ error: { code: 'INVITATION_CODE_NOT_RECOGNIZED' } });
  });

  it('refuses a newer format version with advice to upgrade', () => {
    const bodyJson = JSON.stringify(body());
    const doc = `{"format":"exalate.invitation","version":2,"body":${bodyJson},"checksum":"0"}`;
    const result = decodeInvitationCode(Buffer.from(doc).toString('base64url'));
    expect(result).toMatchObject({ ok: false, error: { code: 'INVITATION_CODE_UNSUPPORTED_VERSION' } });
    expect(result.ok ? '' : result.error.message).toMatch(/Upgrade/);
  });

  it('refuses a document with a valid checksum but a body no node would build', () => {
    const bodyJson = JSON.stringify({ connectionId: 'nope' });
    const checksum = createHash('sha256').update(bodyJson).digest('hex').slice(0, 16);
    const doc = `{"format":"exalate.invitation","version":1,"body":${bodyJson},"checksum":"${checksum}"}`;
    expect(decodeInvitationCode(Buffer.from(doc).toString('base64url'))).toMatchObject({
      error: { code: 'INVITATION_CODE_NOT_RECOGNIZED' },
    });
  });
});
