/** gantry.config.json as validated by schemas/config.schema.json (DESIGN §6), in the file's spelling. */

/** One agent of gantry.config.json: its transport and that transport's settings (DESIGN §5). */
export interface AgentConfig {
  transport: 'module' | 'http' | 'command' | 'flow' | 'llm';
  /** module */
  module?: string;
  export?: string;
  /** http */
  url?: string;
  poll_interval_ms?: number;
  /** llm */
  base_url?: string;
  model?: string;
  /** llm: what the agent is, added to its system prompt. */
  role?: string;
  /** http, llm: a credential name, sent as a bearer token; command: given to the program in its environment. */
  authentication?: string;
  /** command */
  command?: string;
  args?: string[];
  /** command: the variables passed on to the program besides the minimal environment. */
  env?: string[];
  /** Any transport: task → the flow file that performs it (transport flow: every task). */
  flows?: Record<string, string>;
  timeout_ms?: number;
  concurrency?: number;
  circuit_breaker?: { failures?: number; reset_ms?: number };
  compensations?: Record<string, string>;
}

/** The outbound policy of every HTTP call (connectors, http and llm agents); defaults in the schema. */
export interface OutboundConfig {
  timeout_ms?: number;
  connect_timeout_ms?: number;
  max_response_bytes?: number;
  max_attempts?: number;
  retry_base_ms?: number;
  retry_max_ms?: number;
  max_retry_after_ms?: number;
  max_redirects?: number;
  allow_private_networks?: boolean;
  allow?: string[];
}

/** A credential (DESIGN §11): where its value is, and where it may be sent. */
export interface CredentialDeclaration {
  env: string;
  /** Origins such as `https://api.github.com`. @default those of the connectors and agents that name it */
  origins?: string[];
}

/** gantry.config.json (DESIGN §6), as validated by schemas/config.schema.json. */
export interface GantryConfig {
  agents?: Record<string, AgentConfig>;
  functions?: Record<string, { module: string; export?: string }>;
  connectors?: Record<string, { base_url?: string; timeout_ms?: number; credential?: string }>;
  outbound?: OutboundConfig;
  credentials?: Record<string, CredentialDeclaration>;
  principals?: Record<string, { roles: string[]; aliases?: string[]; token_sha256?: string }>;
  notifications?: { service: string; action: string; authentication?: string; params?: Record<string, unknown> };
  store?: {
    path?: string;
    /** Postgres, shared by several processes (DESIGN §9); the URL is read from the variable `url_env` names, never from the file. */
    postgres?: { url_env: string; lease_ms?: number; poll_ms?: number; pool_size?: number; connect_timeout_ms?: number; park_after_ms?: number };
  };
  server?: {
    port?: number;
    host?: string;
    /** The path a proxy serves Gantry under (`/gantry`), for the links the web UI makes. */
    base_path?: string;
    body_limit_bytes?: number;
    buffered_bytes_limit?: number;
    connection_limit?: number;
    json_depth_limit?: number;
    headers_timeout_ms?: number;
    request_timeout_ms?: number;
  };
  concurrency?: number;
  /** Size limits and expression caps (DESIGN §11); defaults in the schema. */
  limits?: LimitsConfig;
  crash_loop?: { limit?: number; survival_ms?: number };
  /** What each attempt keeps of what was logged during it (DESIGN §12); false keeps nothing. */
  logs?: boolean | { level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'; max_lines_per_attempt?: number; max_bytes_per_attempt?: number; max_bytes_per_run?: number; max_line_length?: number };
}

/** gantry.config.json `limits`, in the file's spelling. */
export interface LimitsConfig {
  node_output_bytes?: number;
  agent_reply_bytes?: number;
  connector_answer_bytes?: number;
  trigger_bytes?: number;
  expression?: {
    max_string?: number;
    max_array?: number;
    max_depth?: number;
    max_steps?: number;
    max_built?: number;
    max_value?: number;
    timeout_ms?: number;
  };
}
