import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Connector, ConnectorContext, JsonObject } from '@gantry/engine';
import { slackOrFile, withLocalNotifications } from './slack-fallback.js';

const state = mkdtempSync(join(tmpdir(), 'gantry-notify-'));
process.env.GANTRY_LOCAL_STATE = join(state, 'local');
afterAll(() => rmSync(state, { recursive: true, force: true }));

const ctx = (credentials: Record<string, string>): ConnectorContext => ({
  signal: new AbortController().signal,
  run: { id: 'r1', flow: 'Deploy', node: 'notification' },
  idempotencyKey: 'r1:notification',
  log: undefined as never, // not used by this connector
  credential: (name) => credentials[name],
});

describe('Slack, or a local file', () => {
  const sent: JsonObject[] = [];
  const slack: Connector = { service: 'slack', call: async (_action, params) => (sent.push(params), { ok: true, ts: '1' }) };

  it('without a Slack credential, the message is a JSON line in .gantry/notifications.log', async () => {
    const answer = await slackOrFile(slack).call('send_notification', { channel: '#engineering', service_name: 'shop' }, ctx({}));
    expect(answer).toEqual({ ok: true, channel: '#engineering', delivered_to: join(state, 'notifications.log') });
    const line = JSON.parse(readFileSync(join(state, 'notifications.log'), 'utf8')) as JsonObject;
    expect(line).toMatchObject({ channel: '#engineering', text: 'Deploy: notification — run r1', details: { service_name: 'shop' } });
    expect(sent).toEqual([]);
  });

  it('with one, it goes to Slack', async () => {
    await withLocalNotifications([slack]).find((c) => c.service === 'slack')!.call('send_notification', { channel: '#x', text: 'hi' }, ctx({ slack_token: 'xoxb-1' }));
    expect(sent).toEqual([{ channel: '#x', text: 'hi' }]);
  });
});
