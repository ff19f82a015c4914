import { credentialVariable, type GantryConfig } from '@gantry/engine';

/**
 * A credential's value: from the variable its declaration names. A credential the configuration
 * does not declare has none, whatever the environment holds (DESIGN §11).
 */
export function credentialResolver(config: GantryConfig, env: NodeJS.ProcessEnv): (name: string) => string | undefined {
  return (name) => {
    const variable = credentialVariable(config, name);
    return variable === undefined ? undefined : env[variable];
  };
}

/** Where each service is and the credential it sends by default (the executors' SERVICE_DEFAULTS). */
export type ServiceDefaults = Readonly<Record<string, { readonly baseUrl: string; readonly credential: string }>>;

/**
 * The origins each declared credential may be sent to: its declaration's `origins`, else the
 * origins of what the configuration sends it with — the connectors whose credential it is
 * (their `base_url`, or the service's own), the http and llm agents whose `authentication` it
 * is (their `url`, `base_url`), and the notifications' service. None for the others.
 */
export function credentialOrigins(config: GantryConfig, services: ServiceDefaults): (name: string) => readonly string[] {
  const sentTo = new Map<string, Set<string>>();
  const add = (name: string | undefined, url: string | undefined) => {
    if (name === undefined || url === undefined) return;
    let origins = sentTo.get(name);
    if (origins === undefined) sentTo.set(name, (origins = new Set()));
    origins.add(new URL(url).origin);
  };
  const serviceUrl = (service: string) => config.connectors?.[service]?.base_url ?? services[service]?.baseUrl;
  for (const service of new Set([...Object.keys(services), ...Object.keys(config.connectors ?? {})])) {
    add(config.connectors?.[service]?.credential ?? services[service]?.credential, serviceUrl(service));
  }
  for (const agent of Object.values(config.agents ?? {})) {
    add(agent.authentication, agent.transport === 'http' ? agent.url : agent.transport === 'llm' ? agent.base_url : undefined);
  }
  const notifications = config.notifications;
  if (notifications !== undefined) add(notifications.authentication, serviceUrl(notifications.service));
  return (name) => {
    const declared = config.credentials?.[name];
    if (declared === undefined || !Object.hasOwn(config.credentials!, name)) return [];
    return declared.origins?.map((o) => new URL(o).origin) ?? [...(sentTo.get(name) ?? [])];
  };
}
