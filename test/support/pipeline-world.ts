import type { AgentTask, JsonObject } from '@gantry/engine';
import { moduleAgent, type ModuleAgent } from '@gantry/executors';

/**
 * A small simulated deployment world for the shipped flows: every agent they name, answering
 * with the fields their gates read. `faults` turns parts of it bad; `calls` records every task.
 */
export interface WorldFaults {
  /** Green's error rate (percent) once it serves at least this share of the traffic. */
  readonly greenErrorsFrom?: number;
  readonly coverage?: number;
  readonly criticalVulnerabilities?: number;
  readonly unhealthyStaging?: boolean;
}

export function pipelineWorld(faults: WorldFaults = {}) {
  const calls: { agent: string; task: string; inputs: JsonObject; key: string }[] = [];
  let greenWeight = 0;
  const record = (inputs: JsonObject, task: AgentTask) => {
    calls.push({ agent: task.agent, task: task.task, inputs, key: task.task_id });
  };
  const agent = (tasks: Record<string, (inputs: JsonObject) => JsonObject>): ModuleAgent =>
    Object.fromEntries(
      Object.entries(tasks).map(([name, fn]) => [
        name,
        (inputs: JsonObject, task: AgentTask) => {
          record(inputs, task);
          return fn(inputs);
        },
      ]),
    );
  const agents = {
    'infrastructure-devops-manager': agent({
      build_application: () => ({ success: true, artifact: 'app.tar.gz' }),
      build_containers: () => ({ success: true, images: ['registry.local/app:abc12345', 'registry.local/worker:abc12345'] }),
      build_and_test: () => ({ success: true, images: ['registry.local/app:abc12345'] }),
      prepare_blue_green_deployment: () => ({ blue_deployment_id: 'blue-1', blue_environment: 'blue', green_environment: 'green' }),
      update_traffic_split: (inputs) => {
        greenWeight = Number(inputs.green_weight);
        return { success: true, blue_weight: 100 - greenWeight, green_weight: greenWeight };
      },
      emergency_rollback: () => {
        greenWeight = 0;
        return { success: true, blue_weight: 100, green_weight: 0 };
      },
    }),
    'testing-qa-validator': agent({
      run_unit_tests: () => ({ tests: { passed: 120, failed: 0 }, coverage: { percent: faults.coverage ?? 86 }, reports: ['junit.xml'] }),
      run_integration_tests: () => ({ passed: true, success: true, tests: { passed: 12, failed: 0 } }),
      run_smoke_tests: () => ({ passed: !faults.unhealthyStaging }),
      integration_tests: () => ({ passed: true }),
      test_validation: () => ({ test_coverage: faults.coverage ?? 86 }),
    }),
    'container-vulnerability-scanner-trivy': agent({
      vulnerability_scan: () => ({ vulnerabilities: { critical: faults.criticalVulnerabilities ?? 0, high: 1 }, passed: !faults.criticalVulnerabilities, report: 'trivy.json' }),
    }),
    'deployment-automation-master': agent({
      pre_deployment_checks: () => ({
        ready: true,
        checks: Object.fromEntries(['database_connectivity', 'external_services', 'resource_availability', 'previous_deployment_status'].map((c) => [c, { status: 'ok' }])),
      }),
      deploy_application: () => ({ success: true, deployment_id: 'stg-7', endpoints: ['http://staging.local'] }),
      verify_deployment_health: () => ({ healthy: !faults.unhealthyStaging }),
      rollback_deployment: () => ({ rolled_back: true }),
      validate_staging_results: () => ({ passed: true, images: ['registry.local/app:abc12345'] }),
      deploy_green_environment: () => ({ success: true, deployment_id: 'green-1', endpoints: ['http://green.local'] }),
      validate_green_environment: () => ({ passed: true }),
      cleanup_green_environment: () => ({ cleaned: 'green' }),
      cleanup_blue_environment: () => ({ cleaned: 'blue' }),
      deploy_staging: () => ({ deployment_id: 'stg-7' }),
      blue_green_deployment: () => ({ deployment_id: 'green-1' }),
    }),
    'automated-incident-responder': agent({
      check_deployment_metrics: () => {
        const bad = faults.greenErrorsFrom !== undefined && greenWeight >= faults.greenErrorsFrom;
        return { error_rate_percent: bad ? 7.5 : 0.2, p95_latency_ms: bad ? 900 : 140 };
      },
      configure_alerting_rules: () => ({ rules: [{ alert: 'HighErrorRate' }] }),
    }),
    'observability-dashboard-manager-grafana': agent({
      create_dashboards: () => ({ dashboards: ['app-overview', 'app-detailed'] }),
      setup_log_aggregation: () => ({ sources: ['application_logs'] }),
      setup_monitoring: () => ({ dashboards: ['app-overview'] }),
    }),
    'metrics-collector-prometheus': agent({
      configure_metrics_collection: () => ({ targets: ['app:9090'] }),
      setup_synthetic_monitoring: () => ({ monitors: ['GET /health'] }),
    }),
    'senior-backend-developer': agent({ code_review: () => ({ code_quality_score: 8.4 }) }),
    'semgrep-security-analyzer': agent({ security_scan: () => ({ security_vulnerabilities: 0 }), comprehensive_security_scan: () => ({ security_score: 9 }) }),
  };
  return {
    calls,
    agents: Object.fromEntries(Object.entries(agents).map(([name, impl]) => [name, moduleAgent(impl)])),
    get greenWeight() {
      return greenWeight;
    },
  };
}
