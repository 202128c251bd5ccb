import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';

export function createOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  return registry;
}

export function buildOpenApiDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Edulure API',
      version: '1.0.0',
      description:
        'REST API of Edulure. Errors are always {"error":{"code","message","details?"}} with codes invalid_input, ' +
        'unauthenticated, forbidden, not_found, conflict, rate_limited, payload_too_large, unavailable, internal.',
    },
    servers: [{ url: '/' }],
  });
}

type OpenApiDocument = ReturnType<typeof buildOpenApiDocument>;

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A self-contained reference page (no scripts, no CDN): every operation with its request and response schemas. */
export function renderDocsPage(doc: OpenApiDocument): string {
  const sections: string[] = [];
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, Record<string, unknown>>)) {
      const operation = op as {
        summary?: string;
        tags?: string[];
        security?: unknown[];
        requestBody?: { content?: Record<string, { schema?: unknown }> };
        responses?: Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>;
        parameters?: unknown[];
      };
      const body = operation.requestBody?.content?.['application/json']?.schema;
      const responses = Object.entries(operation.responses ?? {})
        .map(([status, r]) => {
          const schema = r.content?.['application/json']?.schema;
          return `<li><strong>${escapeHtml(status)}</strong> ${escapeHtml(r.description ?? '')}${
            schema ? `<pre>${escapeHtml(JSON.stringify(schema, null, 2))}</pre>` : ''
          }</li>`;
        })
        .join('');
      sections.push(`<section id="${escapeHtml(method + path)}">
  <h2><span class="m">${escapeHtml(method.toUpperCase())}</span> <code>${escapeHtml(path)}</code></h2>
  <p>${escapeHtml(operation.summary ?? '')}${operation.security?.length ? ' <em>(requires a bearer access token)</em>' : ''}</p>
  ${operation.parameters?.length ? `<h3>Parameters</h3><pre>${escapeHtml(JSON.stringify(operation.parameters, null, 2))}</pre>` : ''}
  ${body ? `<h3>Request body</h3><pre>${escapeHtml(JSON.stringify(body, null, 2))}</pre>` : ''}
  <h3>Responses</h3><ul>${responses}</ul>
</section>`);
    }
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Edulure API reference</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#111}
section{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;min-width:4.5rem;font-weight:700;color:#0b5}
pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:13px}h2{font-size:1.1rem}h3{font-size:.95rem;margin:.5rem 0 .2rem}</style>
</head><body><main><h1>Edulure API reference</h1>
<p>${escapeHtml(doc.info.description ?? '')}</p><p>Machine-readable: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>
${sections.join('\n')}</main></body></html>`;
}
