// A structural check of an OpenAPI 3.0 document: the rules of the specification that a document
// generated from JSON schemas can break (issue 19: `"required": []`, operations without
// responses). Not a full validator — no such package is a dependency — but each rule is one the
// specification states (OpenAPI 3.0.3, sections named beside them). Returns the problems found.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SCHEMA_TYPES = ['string', 'number', 'integer', 'boolean', 'array', 'object'];
/** JSON Schema keywords that OpenAPI 3.0's Schema Object does not take (§4.7.24). */
const NOT_IN_OPENAPI_30 = ['$schema', '$id', 'const', 'examples', 'if', 'then', 'else', 'patternProperties', 'dependencies', 'contains', 'propertyNames'];

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function resolve(document: JsonObject, ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: Json | undefined = document;
  for (const part of ref.slice(2).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))) node = isObject(node) ? node[part] : undefined;
  return node;
}

function checkSchema(schema: Json | undefined, where: string, problems: string[]): void {
  if (!isObject(schema)) return void problems.push(`${where}: a schema is an object`);
  if ('$ref' in schema) return;
  for (const keyword of NOT_IN_OPENAPI_30) if (keyword in schema) problems.push(`${where}: '${keyword}' is not a keyword of OpenAPI 3.0 schemas`);
  if ('type' in schema && !(typeof schema.type === 'string' && SCHEMA_TYPES.includes(schema.type))) problems.push(`${where}: type is one of ${SCHEMA_TYPES.join(', ')} (one, not a list)`);
  if ('required' in schema) {
    const required = schema.required;
    // §4.7.24.1: required is taken from JSON Schema Validation, where the array "MUST have at least one element".
    if (!Array.isArray(required) || required.length === 0 || !required.every((r) => typeof r === 'string') || new Set(required).size !== required.length) {
      problems.push(`${where}: required is a non-empty list of distinct names`);
    } else if (isObject(schema.properties)) {
      for (const name of required as string[]) if (!(name in schema.properties)) problems.push(`${where}: required names '${name}', which is not a property`);
    }
  }
  if (isObject(schema.properties)) for (const [name, property] of Object.entries(schema.properties)) checkSchema(property, `${where}.properties.${name}`, problems);
  if ('items' in schema) checkSchema(schema.items, `${where}.items`, problems);
  if (schema.type === 'array' && !('items' in schema)) problems.push(`${where}: an array schema has items`);
  if (isObject(schema.additionalProperties)) checkSchema(schema.additionalProperties, `${where}.additionalProperties`, problems);
  for (const combinator of ['allOf', 'anyOf', 'oneOf']) {
    const list = schema[combinator];
    if (list !== undefined) (Array.isArray(list) ? list : [list]).forEach((s, i) => checkSchema(s, `${where}.${combinator}[${i}]`, problems));
  }
}

function checkResponse(document: JsonObject, response: Json, where: string, problems: string[]): void {
  let resolved = response;
  if (isObject(response) && typeof response.$ref === 'string') {
    resolved = resolve(document, response.$ref) ?? null;
    if (resolved === null) return void problems.push(`${where}: $ref ${response.$ref} resolves to nothing`);
  }
  if (!isObject(resolved) || typeof resolved.description !== 'string') return void problems.push(`${where}: a response has a description (§4.7.17)`);
  if (isObject(resolved.content)) for (const [type, media] of Object.entries(resolved.content)) if (isObject(media) && 'schema' in media) checkSchema(media.schema, `${where}.content.${type}.schema`, problems);
}

export function checkOpenApi30(document: Json): string[] {
  const problems: string[] = [];
  if (!isObject(document)) return ['the document is an object'];
  if (typeof document.openapi !== 'string' || !/^3\.0\.\d+$/.test(document.openapi)) problems.push('openapi is "3.0.x"');
  if (!isObject(document.info) || typeof document.info.title !== 'string' || typeof document.info.version !== 'string') problems.push('info has a title and a version (§4.7.2)');
  if (!isObject(document.paths)) return [...problems, 'paths is an object (§4.7.8)'];
  const schemes = isObject(document.components) && isObject(document.components.securitySchemes) ? document.components.securitySchemes : {};
  const checkSecurity = (security: Json | undefined, where: string) => {
    if (security === undefined) return;
    if (!Array.isArray(security)) return void problems.push(`${where}: security is a list`);
    for (const requirement of security) {
      if (!isObject(requirement)) problems.push(`${where}: a security requirement is an object`);
      else for (const name of Object.keys(requirement)) if (!(name in schemes)) problems.push(`${where}: security names '${name}', which components.securitySchemes does not declare (§4.7.30)`);
    }
  };
  checkSecurity(document.security, 'security');
  // Every $ref anywhere resolves.
  const walk = (node: Json, where: string): void => {
    if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`));
    else if (isObject(node)) {
      if (typeof node.$ref === 'string' && resolve(document, node.$ref) === undefined) problems.push(`${where}: $ref ${node.$ref} resolves to nothing`);
      for (const [key, value] of Object.entries(node)) walk(value, `${where}.${key}`);
    }
  };
  walk(document, '#');
  if (isObject(document.components) && isObject(document.components.schemas)) for (const [name, schema] of Object.entries(document.components.schemas)) checkSchema(schema, `components.schemas.${name}`, problems);
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries(document.paths)) {
    if (!path.startsWith('/')) problems.push(`${path}: a path starts with '/' (§4.7.8)`);
    if (!isObject(item)) continue;
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const [method, operation] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      if (!METHODS.includes(method) || !isObject(operation)) continue;
      if (typeof operation.operationId === 'string') {
        if (operationIds.has(operation.operationId)) problems.push(`${where}: operationId ${operation.operationId} is used twice`);
        operationIds.add(operation.operationId);
      }
      // §4.7.16: responses holds at least one response code.
      if (!isObject(operation.responses) || Object.keys(operation.responses).length === 0) problems.push(`${where}: responses names at least one response`);
      else {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (!/^([1-5](\d\d|XX)|default)$/.test(status)) problems.push(`${where}: '${status}' is not a status code, a range or default`);
          checkResponse(document, response, `${where} ${status}`, problems);
        }
      }
      checkSecurity(operation.security, where);
      const parameters = Array.isArray(operation.parameters) ? operation.parameters : [];
      const seen = new Set<string>();
      for (const parameter of parameters) {
        if (!isObject(parameter) || typeof parameter.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(String(parameter.in))) {
          problems.push(`${where}: a parameter has a name and an 'in' of query, header, path or cookie (§4.7.12)`);
          continue;
        }
        const key = `${String(parameter.in)}:${parameter.name}`;
        if (seen.has(key)) problems.push(`${where}: parameter ${key} is listed twice`);
        seen.add(key);
        if (parameter.in === 'path' && parameter.required !== true) problems.push(`${where}: path parameter ${parameter.name} is required: true`);
        if (parameter.in === 'path' && !templated.includes(parameter.name)) problems.push(`${where}: path parameter ${parameter.name} is not in the path`);
        if ('schema' in parameter) checkSchema(parameter.schema, `${where} parameter ${parameter.name}`, problems);
      }
      for (const name of templated) if (!seen.has(`path:${name}`)) problems.push(`${where}: {${name}} has no path parameter`);
      if (isObject(operation.requestBody)) {
        const content = operation.requestBody.content;
        if (!isObject(content) || Object.keys(content).length === 0) problems.push(`${where}: a request body has content (§4.7.13)`);
        else for (const [type, media] of Object.entries(content)) if (isObject(media) && 'schema' in media) checkSchema(media.schema, `${where} requestBody ${type}`, problems);
      }
    }
  }
  return problems;
}
