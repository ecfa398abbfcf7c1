import type { ComplianceReport } from './compliance.report.js';
import { csvRecord } from './csv.format.js';

const COLUMNS = ['record', 'orgId', 'userId', 'memberSeconds', 'withoutTwoFactorSeconds', 'twoFactorEnabledAtEnd', 'at', 'cadence', 'from', 'to', 'actorId', 'actorRoles', 'reason', 'exemptSeconds', 'until'] as const;

/** One table for spreadsheets: a row per member, per reminder and per mode change, told apart by `record`. */
export function complianceCsv(report: ComplianceReport): string {
  const rows = [csvRecord(COLUMNS)];
  for (const member of report.members) {
    rows.push(csvRecord(['member', report.orgId, member.userId, member.memberSeconds, member.withoutTwoFactorSeconds, member.twoFactorEnabledAtEnd, null, null, report.from, report.to, null, null, null, member.exemptSeconds, null]));
    for (const reminder of member.reminders) {
      rows.push(csvRecord(['reminder', report.orgId, member.userId, null, null, null, reminder.sentAt, reminder.cadence, null, null, null, null, null, null, null]));
    }
  }
  for (const change of report.modeChanges) {
    rows.push(csvRecord(['mode_change', report.orgId, null, null, null, null, change.at, null, change.from, change.to, change.actor.id, change.actor.roles.join(' '), change.reason, null, null]));
  }
  for (const exemption of report.exemptions) {
    const record = exemption.change === 'exempted' ? 'exemption' : 'exemption_end';
    rows.push(csvRecord([record, report.orgId, exemption.userId, null, null, null, exemption.at, null, null, null, exemption.actor.id, exemption.actor.roles.join(' '), exemption.reason, null, exemption.until]));
  }
  for (const change of report.policyChanges) {
    const value = change.change === 'grace_changed' ? change.graceDays : change.hardFrom;
    rows.push(csvRecord([change.change, report.orgId, null, null, null, null, change.at, null, null, value, change.actor.id, change.actor.roles.join(' '), change.reason]));
  }
  return rows.join('');
}
