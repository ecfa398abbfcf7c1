/** The host's own business data: invoices per organisation, approved in memory (a demo has no database). */
export interface Invoice {
  readonly id: string;
  readonly supplier: string;
  readonly amount: string;
  readonly approved: boolean;
}

const INVOICES: readonly Omit<Invoice, 'approved'>[] = [
  { id: 'INV-1042', supplier: 'Kauri Office Supplies', amount: '$1,240.00' },
  { id: 'INV-1043', supplier: 'Tasman Couriers', amount: '$318.50' },
  { id: 'INV-1044', supplier: 'Pohutukawa Catering', amount: '$2,075.00' },
];

export class ApprovalBook {
  private readonly approved = new Map<string, Set<string>>();

  list(orgId: string): Invoice[] {
    const done = this.approved.get(orgId) ?? new Set<string>();
    return INVOICES.map((invoice) => ({ ...invoice, approved: done.has(invoice.id) }));
  }

  find(orgId: string, id: string): Invoice | undefined {
    return this.list(orgId).find((invoice) => invoice.id === id);
  }

  approve(orgId: string, id: string): boolean {
    if (!this.find(orgId, id)) return false;
    const done = this.approved.get(orgId) ?? new Set<string>();
    done.add(id);
    this.approved.set(orgId, done);
    return true;
  }
}
