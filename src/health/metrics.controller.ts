import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { CurrentPrincipal } from '../http/current-principal.decorator.js';
import { Problem } from '../http/problem.js';
import { hasRole, type Principal } from '../kernel/principal.js';
import { MetricsRegistry } from './metrics.registry.js';

/**
 * Metrics on the public port need an operator token: route names, traffic and error rates tell an
 * outsider what is in use and when. A scraper without a token reads METRICS_PORT (loopback) instead.
 */
@ApiExcludeController()
@Controller()
export class MetricsController {
  constructor(private readonly metrics: MetricsRegistry) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(@CurrentPrincipal() principal: Principal): string {
    if (!hasRole(principal, 'operator')) throw new Problem(403, 'forbidden', 'Only operators may read metrics on this port.');
    return this.metrics.render();
  }
}
