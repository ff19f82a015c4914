/**
 * The rules of DESIGN §3.5 as pure functions: who may decide, and when enough have.
 *
 * Principal names and aliases compare as GitHub compares logins, ignoring case: `Alice-GH` is
 * `alice-gh`. Every comparison of a person's name goes through {@link foldName}; roles are labels
 * of the flow and compare exactly.
 */

/**
 * principal → roles, and the names the principal goes by elsewhere (a GitHub login): a run's
 * initiator is one of those names. Where none are configured, a principal's name is its only role.
 */
export type PrincipalDirectory = Readonly<Record<string, { readonly roles: readonly string[]; readonly aliases?: readonly string[] }>> | undefined;

/**
 * A name as it is compared: case folded (upper then lower case, so that `ß`/`SS` and the like
 * meet too). Folding more than GitHub does only ever makes two names one person, which can
 * forbid a self-approval but never allow one.
 */
export function foldName(name: string): string {
  return name.toUpperCase().toLowerCase();
}

function hasEntries(directory: PrincipalDirectory): directory is NonNullable<PrincipalDirectory> {
  return directory !== undefined && Object.keys(directory).length > 0;
}

/**
 * The directory's own spelling of a principal named in any case (`ALICE` → `alice`), or
 * undefined when it has no such principal (or no directory is configured).
 */
export function principalNamed(name: string, directory: PrincipalDirectory): string | undefined {
  if (directory === undefined) return undefined;
  // A scan, not a lookup: directory[name] would find "constructor" on every object, and
  // decisions are rare enough that a few comparisons per principal cost nothing.
  const folded = foldName(name);
  for (const key of Object.keys(directory)) if (foldName(key) === folded) return key;
  return undefined;
}

/** Whether the principal is the person named `name` (its own name or one of its aliases, in any case). */
export function isPerson(principal: string, name: string | undefined, directory: PrincipalDirectory): boolean {
  if (name === undefined) return false;
  const folded = foldName(name);
  if (foldName(principal) === folded) return true;
  const key = principalNamed(principal, directory);
  return key !== undefined && directory![key]!.aliases?.some((alias) => foldName(alias) === folded) === true;
}

/** The listed approver roles this principal holds. */
export function eligibleRoles(principal: string, approvers: readonly string[], directory: PrincipalDirectory): string[] {
  // Without a directory a principal's name is its only role: the approvers are names, compared as names.
  if (!hasEntries(directory)) return approvers.filter((role) => foldName(role) === foldName(principal));
  const key = principalNamed(principal, directory);
  const roles = key === undefined ? [] : directory[key]!.roles;
  return approvers.filter((role) => roles.includes(role));
}

/** Two names in a directory that would make two principals one person. */
export interface PrincipalNameClash {
  /** The later of the two: `["alice"]` (a principal's name) or `["bob", "aliases", 0]`. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Principal names or aliases that are equal ignoring case but belong to different principals:
 * one clash per later name, naming the earlier one; none when every name means one principal.
 * An alias repeating its own principal's name (in any case) is not a clash.
 */
export function principalNameClashes(directory: PrincipalDirectory): PrincipalNameClash[] {
  if (directory === undefined) return [];
  const owner = new Map<string, { principal: string; as: string }>();
  const clashes: PrincipalNameClash[] = [];
  const claim = (name: string, principal: string, as: string, path: (string | number)[]) => {
    const folded = foldName(name);
    const first = owner.get(folded);
    if (first === undefined) owner.set(folded, { principal, as });
    else if (first.principal !== principal) {
      clashes.push({ path, message: `${as} is ${first.as} ignoring case; names and aliases compare as GitHub logins do, so each must name one principal` });
    }
  };
  const entries = Object.entries(directory);
  // Principal names first, so that an alias is reported against the principal it would shadow.
  for (const [key] of entries) claim(key, key, `principal "${key}"`, [key]);
  for (const [key, entry] of entries) {
    (entry?.aliases ?? []).forEach((alias, i) => claim(alias, key, `alias "${alias}" of principal "${key}"`, [key, 'aliases', i]));
  }
  return clashes;
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
  // One person approving twice under two spellings counts once.
  const approving = new Map<string, string>();
  for (const d of decisions) {
    if (d.decision !== 'approve') continue;
    const key = foldName(d.principal);
    if (!approving.has(key)) approving.set(key, d.principal);
  }
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
  for (const principal of approving.values()) if (assign(principal, new Set())) covered++;
  return covered >= required ? 'approved' : 'pending';
}
