// Principal names and aliases compare as GitHub logins do, ignoring case: in who may decide, in
// self-approval against the run's initiator, in duplicate decisions, and in the configuration.
import { describe, expect, it } from 'vitest';
import { validateConfigText } from './config.js';
import { isGantryError } from './errors.js';
import { approvalState, eligibleRoles, isPerson, principalNameClashes, type PrincipalDirectory } from './approvals.js';
import { createEngine } from './run/engine.js';

const DIRECTORY: PrincipalDirectory = {
  alice: { roles: ['tech-lead'], aliases: ['alice-gh'] },
  Bob: { roles: ['product-manager'] },
  carol: { roles: ['tech-lead', 'product-manager'] },
};

describe('principal names ignore case', () => {
  it('knows a principal by its name or an alias in any case', () => {
    expect(isPerson('alice', 'Alice-GH', DIRECTORY)).toBe(true);
    expect(isPerson('ALICE', 'ALICE-gh', DIRECTORY)).toBe(true);
    expect(isPerson('alice', 'ALICE', DIRECTORY)).toBe(true);
    expect(isPerson('bob', 'BOB', undefined)).toBe(true);
    expect(isPerson('carol', 'alice-gh', DIRECTORY)).toBe(false);
    expect(isPerson('alice', undefined, DIRECTORY)).toBe(false);
  });

  it('finds the roles of a principal named in another case; roles themselves compare exactly', () => {
    expect(eligibleRoles('ALICE', ['tech-lead'], DIRECTORY)).toEqual(['tech-lead']);
    expect(eligibleRoles('bob', ['product-manager'], DIRECTORY)).toEqual(['product-manager']);
    expect(eligibleRoles('alice', ['Tech-Lead'], DIRECTORY)).toEqual([]);
    // Without a directory the approvers are names.
    expect(eligibleRoles('Alice', ['alice', 'bob'], undefined)).toEqual(['alice']);
    // Inherited keys of objects are no principals.
    expect(eligibleRoles('constructor', ['tech-lead'], DIRECTORY)).toEqual([]);
  });

  it('counts one person approving under two spellings once', () => {
    const twice = [
      { principal: 'carol', decision: 'approve' as const },
      { principal: 'CAROL', decision: 'approve' as const },
    ];
    expect(approvalState(['tech-lead', 'product-manager'], 2, twice, DIRECTORY)).toBe('pending');
    expect(approvalState(['alice', 'bob'], 2, [{ principal: 'alice', decision: 'approve' }, { principal: 'Alice', decision: 'approve' }], undefined)).toBe('pending');
  });

  it('finds principals and aliases that would make two principals one person', () => {
    expect(principalNameClashes(DIRECTORY)).toEqual([]);
    // An alias repeating its own principal's name is harmless.
    expect(principalNameClashes({ alice: { roles: [], aliases: ['ALICE', 'alice-gh', 'Alice-GH'] } })).toEqual([]);
    const clashes = principalNameClashes({
      alice: { roles: [] },
      Alice: { roles: [] },
      bob: { roles: [], aliases: ['ALICE-gh'] },
      carol: { roles: [], aliases: ['alice-GH', 'BOB'] },
    });
    expect(clashes.map((c) => [c.path, c.message])).toEqual([
      [['Alice'], expect.stringMatching(/^principal "Alice" is principal "alice" ignoring case/)],
      [['carol', 'aliases', 0], expect.stringMatching(/^alias "alice-GH" of principal "carol" is alias "ALICE-gh" of principal "bob" ignoring case/)],
      [['carol', 'aliases', 1], expect.stringMatching(/^alias "BOB" of principal "carol" is principal "bob" ignoring case/)],
    ]);
  });

  it('refuses such a configuration (BAD_VALUE at the later name) and such engine options (CONFIG_INVALID)', () => {
    const text = JSON.stringify({ principals: { alice: { roles: ['a'] }, bob: { roles: ['b'], aliases: ['Alice'] } } }, null, 2);
    const result = validateConfigText(text);
    expect(result.ok).toBe(false);
    expect(result.diagnostics).toEqual([expect.objectContaining({ code: 'BAD_VALUE', pointer: '/principals/bob/aliases/0', line: 13, column: 9, message: expect.stringContaining('alias "Alice" of principal "bob" is principal "alice"') })]);
    let error: unknown;
    try {
      createEngine({ principals: { alice: { roles: [] }, ALICE: { roles: [] } } });
    } catch (caught) {
      error = caught;
    }
    expect(isGantryError(error, 'CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('createEngine: principals: principal "ALICE" is principal "alice" ignoring case');
  });
});
