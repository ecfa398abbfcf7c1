import type { ModuleRef } from '@nestjs/core';
import { TwoFactorFlows } from '../two-factor/two-factor.flows.js';

const found = new WeakMap<ModuleRef, TwoFactorFlows>();

/**
 * The very instance the JSON routes use (the users module's), looked up once the application is
 * up: one set of flows and one backup-code hasher, whichever surface (API, pages, console) asks.
 */
export function usersModuleFlows(modules: ModuleRef): TwoFactorFlows {
  let flows = found.get(modules);
  if (!flows) {
    flows = modules.get(TwoFactorFlows, { strict: false });
    if (!flows) throw new Error('the users module (TwoFactorFlows) is not part of this application');
    found.set(modules, flows);
  }
  return flows;
}
