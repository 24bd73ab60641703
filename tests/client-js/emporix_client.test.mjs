// Issue 7, "an Emporix client library pointed at it obtains a token and manages tokens with no
// code change". Emporix publishes no client library of its own: code that talks to its API uses
// a stock OAuth2 client for `POST /oauth/token` (client credentials, Emporix's token path) and an
// OpenAPI client driven by the AI Service document, calling operations by the document's
// operationIds. This test is that code, unmodified but for the host: simple-oauth2 obtains the
// access token (HTTP Basic, the library's default, and form fields, as Emporix's guide shows),
// swagger-client loads the document the service serves and manages tokens, an MCP server and an
// agent with Emporix's operationIds.
//
// Run by CTest (tests/CMakeLists.txt) with TS_BINARY set. TS_CLIENT_SPECS=a.yml:b.yml makes
// swagger-client use those documents instead (their `servers` replaced by the service's
// address), e.g. Emporix's own AI Service documents.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { ClientCredentials } from 'simple-oauth2';
import yaml from 'js-yaml';
import SwaggerClient from 'swagger-client';

const binary = process.env.TS_BINARY;
const tenant = 'emporix-client';
const secretValue = 'sk-client-js-' + Math.random().toString(36).slice(2);

let dir;
let server;
let stderr = '';
let host;
let client;  // { id, secret } from `token-service client add`

function clientAdd(args) {
  const r = spawnSync(binary, ['client', 'add', '--tenant', tenant, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const entry = r.stdout.split('\n').find((line) => line.startsWith('{'));
  const secret = r.stdout.split('\n').find((line) => line.startsWith('client_secret: '));
  assert.ok(entry && secret, r.stdout);
  return { entry, id: JSON.parse(entry).client_id, secret: secret.slice('client_secret: '.length) };
}

async function waitForPort(file, child) {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error('token-service exited:\n' + stderr);
    try {
      const text = readFileSync(file, 'utf8');
      if (text.endsWith('\n')) return Number(text.trim());
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no port file after 30 s:\n' + stderr);
}

before(async () => {
  assert.ok(binary, 'TS_BINARY is not set');
  dir = mkdtempSync(join(tmpdir(), 'ts-client-js-'));
  client = clientAdd(['--id', 'emporix-agent', '--scope', 'ai.agent_read ai.agent_manage']);
  const reader = clientAdd(['--id', 'emporix-reader', '--scope', 'ai.agent_read']);
  const clientsFile = join(dir, 'clients.json');
  writeFileSync(clientsFile, `[${client.entry},\n${reader.entry}]\n`, { mode: 0o600 });
  chmodSync(clientsFile, 0o600);
  const portFile = join(dir, 'port');
  server = spawn(binary, ['serve', '--dev', '--listen', '127.0.0.1:0', '--data-dir', join(dir, 'data'),
    '--port-file', portFile, '--oauth-clients-file', clientsFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr.setEncoding('utf8');
  server.stderr.on('data', (chunk) => { stderr += chunk; });
  host = `http://127.0.0.1:${await waitForPort(portFile, server)}`;
  client.reader = reader;
});

after(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  // Neither the client secrets nor the token's value were ever written by the service.
  assert.ok(!stderr.includes(client.secret), 'client secret in the service output');
  assert.ok(!stderr.includes(secretValue), 'token value in the service output');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The configuration Emporix code has, with only the host changed.
function oauthClient({ id, secret }, options = {}) {
  return new ClientCredentials({ client: { id, secret }, auth: { tokenHost: host }, options });
}

// One swagger-client per OpenAPI document: the one the service serves, or the documents named
// by TS_CLIENT_SPECS (':'-separated, e.g. Emporix's token, MCP server and agent documents) with
// their `servers` replaced by the service's address.
async function apiClient(accessToken) {
  const authorizations = { OAuth2: { token: { access_token: accessToken } } };
  if (!process.env.TS_CLIENT_SPECS) {
    return [await SwaggerClient({ url: `${host}/ai-service/openapi.yaml`, authorizations })];
  }
  const clients = [];
  for (const file of process.env.TS_CLIENT_SPECS.split(':')) {
    const spec = yaml.load(readFileSync(file, 'utf8'));
    spec.servers = [{ url: host }];
    clients.push(await SwaggerClient({ spec, authorizations }));
  }
  return clients;
}

// `api.apis.<tag>.<operationId>`: swagger-client groups operations by tag and spells
// Emporix's operationIds with `_` for `-` (PUT-ai-upsert-token is `apis.Token.PUT_ai_upsert_token`),
// as it would for Emporix's own document. It rejects on a status >= 400; the test wants the
// status either way.
async function call(api, operationId, parameters, requestBody) {
  const tag = operationId.includes('-token') ? 'Token'
    : operationId.includes('-mcp-server') ? 'MCP Server' : 'Agent';
  const name = operationId.replaceAll('-', '_');
  const operation = api.map((one) => one.apis[tag]?.[name]).find((found) => found);
  assert.ok(operation, `no operation ${operationId} under the tag ${tag}`);
  try {
    return await operation({ tenant, ...parameters }, requestBody === undefined ? {} : { requestBody });
  } catch (err) {
    if (err.response) return err.response;
    throw err;
  }
}

test('simple-oauth2 obtains a token with HTTP Basic and with form fields', async () => {
  for (const options of [{}, { authorizationMethod: 'body' }]) {
    const accessToken = await oauthClient(client, options).getToken({ scope: 'ai.agent_read ai.agent_manage' });
    assert.equal(accessToken.token.token_type, 'Bearer');
    assert.equal(typeof accessToken.token.access_token, 'string');
    assert.ok(accessToken.token.expires_in > 0);
    assert.equal(accessToken.token.scope, 'ai.agent_read ai.agent_manage');
    assert.equal(accessToken.expired(), false);
  }
});

test('a wrong secret is refused with invalid_client', async () => {
  await assert.rejects(oauthClient({ id: client.id, secret: 'not-the-secret' }).getToken(), (err) => {
    assert.equal(err.output.statusCode, 401);
    assert.equal(err.data.payload.error, 'invalid_client');
    return true;
  });
});

test('swagger-client manages tokens, an MCP server and an agent with Emporix operationIds', async () => {
  const { token } = await oauthClient(client).getToken();
  const api = await apiClient(token.access_token);

  let r = await call(api, 'PUT-ai-upsert-token', { tokenId: 'openai-key' },
    { name: 'OpenAI key', value: secretValue });
  assert.equal(r.status, 201, r.text);

  r = await call(api, 'GET-ai-retrieve-token', { tokenId: 'openai-key' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.id, 'openai-key');
  assert.equal(r.body.name, 'OpenAI key');
  assert.equal(r.body.metadata.version, 1);
  assert.ok(!('value' in r.body));
  assert.ok(!r.text.includes(secretValue));

  r = await call(api, 'PATCH-ai-update-token', { tokenId: 'openai-key' },
    [{ op: 'REPLACE', path: '/name', value: 'OpenAI production key' }]);
  assert.equal(r.status, 204, r.text);

  r = await call(api, 'GET-ai-list-tokens', { q: 'name:~OpenAI', 'X-Total-Count': true, sort: 'name' });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.body.map((t) => [t.id, t.name, t.metadata.version]),
    [['openai-key', 'OpenAI production key', 2]]);
  assert.equal(r.headers['x-total-count'], '1');

  r = await call(api, 'POST-ai-search-tokens', { pageSize: 10 }, { q: 'id:openai-key' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.length, 1);

  r = await call(api, 'PUT-ai-upsert-mcp-server', { mcpServerId: 'crm' },
    { name: 'CRM', enabled: true, transport: 'streamable_http',
      config: { url: 'https://mcp.example.com/crm', authorizationHeaderName: 'Authorization',
        authorizationHeaderToken: { id: 'openai-key' } } });
  assert.equal(r.status, 201, r.text);

  r = await call(api, 'PUT-ai-agent', { agentId: 'helper' },
    { name: { en: 'Helper' }, enabled: true, userPrompt: 'You answer questions.',
      llmConfig: { provider: 'openai', model: 'gpt-4.1-mini', temperature: 0.3,
        token: { id: 'openai-key' } },
      mcpServers: [{ type: 'custom', mcpServer: { id: 'crm' } }] });
  assert.equal(r.status, 201, r.text);

  r = await call(api, 'GET-ai-retrieve-agent', { agentId: 'helper', expand: 'mcpServers' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.llmConfig.token.id, 'openai-key');
  assert.equal(r.body.mcpServers[0].mcpServer.name, 'CRM');
  assert.ok(!r.text.includes(secretValue));

  // The token is in use: deleting it is refused, naming every referrer.
  r = await call(api, 'DELETE-ai-delete-token', { tokenId: 'openai-key' });
  assert.equal(r.status, 400, r.text);
  assert.deepEqual(r.body.details.map((d) => d.field).sort(),
    ['agent/helper/llmConfig.token.id', 'mcpServer/crm/config.authorizationHeaderToken.id']);
  r = await call(api, 'DELETE-ai-delete-agent', { agentId: 'helper' });
  assert.equal(r.status, 204, r.text);
  r = await call(api, 'DELETE-ai-delete-mcp-server', { mcpServerId: 'crm' });
  assert.equal(r.status, 204, r.text);
  r = await call(api, 'DELETE-ai-delete-token', { tokenId: 'openai-key' });
  assert.equal(r.status, 204, r.text);
  r = await call(api, 'GET-ai-retrieve-token', { tokenId: 'openai-key' });
  assert.equal(r.status, 404, r.text);
});

test('a read-only client reads but cannot write', async () => {
  const { token } = await oauthClient(client.reader).getToken();
  assert.equal(token.scope, 'ai.agent_read');
  const api = await apiClient(token.access_token);
  let r = await call(api, 'GET-ai-list-tokens', {});
  assert.equal(r.status, 200, r.text);
  r = await call(api, 'PUT-ai-upsert-token', { tokenId: 'nope' }, { name: 'n', value: 'v' });
  assert.equal(r.status, 403, r.text);
});
