import { Logger } from '@nestjs/common';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openApiJson } from '../../src/openapi/write-openapi';

Logger.overrideLogger(false);

describe('the generated OpenAPI document', () => {
  it('passes redocly lint with the recommended rules without an error', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: await openApiJson(), absoluteRef: 'openapi.json', config });
    const errors = problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    assert.deepEqual(errors, []);
  });
});
