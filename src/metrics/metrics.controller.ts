import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { MetricsTokenGuard } from './metrics-token.guard';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';

/** The Prometheus scrape target: outside the admin prefix, behind an optional bearer token. */
@Controller()
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
