import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GantryError } from '@gantry/engine';
import { HttpError } from './http.js';
import { ENGINE_ERROR_STATUS, HTTP_ERRORS, toHttpError } from './http-errors.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('HTTP error codes', () => {
  it('are each documented in the README with their status', () => {
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) expect(README, code).toContain(`| \`${code}\` | ${status} |`);
    for (const [code, status] of Object.entries(ENGINE_ERROR_STATUS)) {
      if (['STORE_CONFLICT', 'STORE_LOCKED'].includes(code)) continue;
      expect(README, code).toMatch(new RegExp(`\`${code}\`(?: and \`\\w+\`)? ${status}`));
    }
  });

  it('map engine errors to their statuses, and anything else to a 500 that tells nothing of the inside', () => {
    expect(toHttpError(new GantryError('APPROVAL_EXPIRED', 'too late'))).toMatchObject({ status: 410, code: 'APPROVAL_EXPIRED', message: 'too late' });
    expect(toHttpError(new GantryError('AGENT_NOT_FOUND', 'no agent'))).toMatchObject({ status: 500, code: 'AGENT_NOT_FOUND' });
    const internal = toHttpError(new TypeError('secret stack detail'));
    expect(internal).toBeInstanceOf(HttpError);
    expect(internal).toMatchObject({ status: 500, code: 'INTERNAL' });
    expect(internal.message).not.toContain('secret');
  });
});
