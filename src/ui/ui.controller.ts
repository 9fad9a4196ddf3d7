import { Controller, Get, Inject, NotFoundException, Param, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { UiAsset, UiAssets } from './ui-assets';
import { PG_BACKUP_UI_OPTIONS, UiOptions } from './ui.options';

/** Same origin only; no inline script or style, so an injected string can never run. */
export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The admin page: static files, public (they hold no data; every API call they make carries
 * the admin's token). `index.html` learns where the API is from a meta tag set here.
 * Not in the OpenAPI document: a page, not an API.
 */
@ApiExcludeController()
@Controller()
export class UiController {
  constructor(
    private readonly assets: UiAssets,
    @Inject(PG_BACKUP_UI_OPTIONS) private readonly options: UiOptions,
  ) {}

  @Get()
  index(@Req() request: Request, @Res({ passthrough: true }) response: Response): string {
    const page = this.asset(response, 'index.html');
    const { api, ui } = this.routes(request);
    return page.body
      .replace(/<meta name="pg-backup-api" content="[^"]*">/, `<meta name="pg-backup-api" content="${escapeAttribute(api)}">`)
      .replace(/<base href="[^"]*">/, `<base href="${escapeAttribute(ui)}">`);
  }

  @Get(':file')
  file(@Param('file') name: string, @Res({ passthrough: true }) response: Response): string {
    if (name === 'index.html') throw new NotFoundException();
    return this.asset(response, name).body;
  }

  private asset(response: Response, name: string): UiAsset {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException();
    response.set({
      'Content-Type': asset.contentType,
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': UI_CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
    });
    return asset;
  }

  /**
   * Where the API and the page are, as the browser sees them: whatever precedes the page's own
   * route (a host app's global prefix) precedes the API's too.
   */
  private routes(request: Request): { api: string; ui: string } {
    const path = (request.originalUrl.split('?')[0] ?? '').replace(/\/+$/, '');
    const suffix = `/${this.options.uiPath}`;
    const prefix = path.toLowerCase().endsWith(suffix.toLowerCase()) ? path.slice(0, -suffix.length) : '';
    return { api: `${prefix}/${this.options.apiPath}`, ui: `${prefix}${suffix}/` };
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/[&"<>']/g, (c) => `&#${c.charCodeAt(0)};`);
}
