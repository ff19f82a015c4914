/**
 * Slack when it is configured, a local file when it is not: the default configuration's `slack`
 * connector. A message goes to the real Slack connector when its credential (the node's
 * `authentication`, else `slack_token` → SLACK_TOKEN) is set; otherwise it is appended as a JSON
 * line to `.gantry/notifications.log`, so a first run on a laptop neither fails nor pretends.
 */
import { GantryError, type Connector, type JsonObject } from '@gantry/engine';
import { appendJsonLine } from '../runtime/files.js';
import { notificationsFile } from '../runtime/paths.js';

const ACTIONS = new Set(['send_notification', 'post_message']);

export function slackOrFile(slack: Connector | undefined, credential = 'slack_token'): Connector {
  return {
    service: 'slack',
    async call(action, params, ctx) {
      const name = ctx.authentication ?? credential;
      if (slack !== undefined && ctx.credential(name) !== undefined) return slack.call(action, params, ctx);
      if (!ACTIONS.has(action)) throw new GantryError('CONNECTOR_FAILED', `slack: no action "${action}" (it has ${[...ACTIONS].join(', ')})`);
      const { channel, text, message, severity, ...details } = params;
      const run = ctx.run;
      const line = typeof text === 'string' ? text : typeof message === 'string' ? message : run ? `${run.flow}: ${run.node} — run ${run.id}` : '';
      const file = notificationsFile();
      const entry: JsonObject = {
        at: new Date().toISOString(),
        channel: channel ?? null,
        severity: severity ?? 'normal',
        text: line,
        ...(run ? { run: { ...run } } : {}),
        delivered_to: `this file: no Slack credential "${name}" is set (${name.toUpperCase()})`,
        details,
      };
      appendJsonLine(file, entry);
      return { ok: true, channel: channel ?? null, delivered_to: file };
    },
  };
}

/** The connectors with `slack` replaced by {@link slackOrFile} around the real one. */
export function withLocalNotifications(connectors: readonly Connector[]): Connector[] {
  const slack = connectors.find((c) => c.service === 'slack');
  return [...connectors.filter((c) => c.service !== 'slack'), slackOrFile(slack)];
}
