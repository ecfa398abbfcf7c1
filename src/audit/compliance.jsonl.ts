import type { ComplianceReport } from './compliance.report.js';

/** The report as JSON lines, one record per line told apart by `record`, like the CSV's rows. */
export function complianceJsonl(report: ComplianceReport): string {
  const { members, modeChanges, exemptions, policyChanges, ...period } = report;
  const lines: object[] = [
    { record: 'report', ...period },
    ...members.map((member) => ({ record: 'member', orgId: report.orgId, ...member })),
    ...modeChanges.map((change) => ({ record: 'mode_change', orgId: report.orgId, ...change })),
    ...exemptions.map((exemption) => ({ record: 'exemption', orgId: report.orgId, ...exemption })),
    ...policyChanges.map((change) => ({ record: 'policy_change', orgId: report.orgId, ...change })),
  ];
  return lines.map((line) => `${JSON.stringify(line)}\n`).join('');
}
