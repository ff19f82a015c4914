/**
 * The rules of DESIGN §3.5 as pure functions: who may decide, and when enough have.
 */

/**
 * principal → roles, and the names the principal goes by elsewhere (a GitHub login): a run's
 * initiator is one of those names. Where none are configured, a principal's name is its only role.
 */
export type PrincipalDirectory = Readonly<Record<string, { readonly roles: readonly string[]; readonly aliases?: readonly string[] }>> | undefined;

/** Whether the principal is the person named `name` (its own name or one of its aliases). */
export function isPerson(principal: string, name: string | undefined, directory: PrincipalDirectory): boolean {
  return name !== undefined && (principal === name || directory?.[principal]?.aliases?.includes(name) === true);
}

export function rolesOf(principal: string, directory: PrincipalDirectory): readonly string[] {
  if (directory === undefined || Object.keys(directory).length === 0) return [principal];
  return directory[principal]?.roles ?? [];
}

/** The listed approver roles this principal holds. */
export function eligibleRoles(principal: string, approvers: readonly string[], directory: PrincipalDirectory): string[] {
  const roles = rolesOf(principal, directory);
  return approvers.filter((role) => roles.includes(role));
}

export type ApprovalState = 'pending' | 'approved' | 'rejected';

/**
 * Approved once `required` distinct listed roles are each covered by a distinct approving
 * principal (a matching, so one person holding two roles cannot approve twice); rejected by
 * any one rejection.
 */
export function approvalState(
  approvers: readonly string[],
  required: number,
  decisions: readonly { readonly principal: string; readonly decision: 'approve' | 'reject' }[],
  directory: PrincipalDirectory,
): ApprovalState {
  if (decisions.some((d) => d.decision === 'reject')) return 'rejected';
  const approving = [...new Set(decisions.filter((d) => d.decision === 'approve').map((d) => d.principal))];
  const roleOwner = new Map<string, string>();
  const assign = (principal: string, seen: Set<string>): boolean => {
    for (const role of eligibleRoles(principal, approvers, directory)) {
      if (seen.has(role)) continue;
      seen.add(role);
      const owner = roleOwner.get(role);
      if (owner === undefined || assign(owner, seen)) {
        roleOwner.set(role, principal);
        return true;
      }
    }
    return false;
  };
  let covered = 0;
  for (const principal of approving) if (assign(principal, new Set())) covered++;
  return covered >= required ? 'approved' : 'pending';
}
