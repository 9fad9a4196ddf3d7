import { Controller, Get, Header, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiError } from '../openapi/api-error';
import { METRICS_TOKEN_SECURITY } from '../openapi/openapi.constants';
import { MetricsTokenGuard } from './metrics-token.guard';
import { METRICS_CONTENT_TYPE, MetricsService } from './metrics.service';

/** The Prometheus scrape target: outside the admin prefix, behind a bearer token or open to this machine only. */
@ApiTags('metrics')
@Controller()
@UseGuards(MetricsTokenGuard)
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ operationId: 'scrapeMetrics', summary: 'Prometheus metrics' })
  @ApiSecurity({}) // without a token: loopback only, or public when configured
  @ApiBearerAuth(METRICS_TOKEN_SECURITY)
  @ApiProduces(METRICS_CONTENT_TYPE)
  @ApiOkResponse({ schema: { type: 'string' }, description: 'The Prometheus text format' })
  @ApiError(401, 'A metrics token is configured, and the request does not carry it')
  @ApiError(403, 'No metrics token is configured, metrics are not public, and the request does not come from this machine')
  scrape(): Promise<string> {
    return this.metrics.render();
  }
}
