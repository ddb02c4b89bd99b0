export { IgluValidator, type IgluValidatorOptions, type Superseded, type ValidationIssue, type ValidationReport } from './validator.js';
export { DEFAULT_MAX_JSON_DEPTH, exceedsMaxJsonDepth } from './json-depth.js';
export { MAX_JSON_DEPTH } from './json.js';
export { IgluResolver, type IgluResolverOptions, type RepositoryAttempt, type ResolvedSchema, type Resolution } from './resolver.js';
export { loadResolverConfig, registryFromEnvironment, type RegistryConfig, type ResolverConfig } from './resolver-config.js';
export { createIgluAjv, type IgluAjv } from './ajv.js';
export { parseIgluUri, toIgluUri, isSchemaVer, parseSchemaVer, type SchemaKey } from './schema-key.js';
export { PACKAGE_SCHEMAS } from './package-root.js';
export * from '../schema-uris.js';
export { lintRepository, BIGQUERY_LINTERS, LINTERS, SKIPPABLE_LINTERS, type LintIssue, type LintLevel, type LintReport } from './lint.js';
export { parseJsonExact, numberTextAt } from './exact-json.js';
export { readSchemaFiles, type SchemaFile, type SchemaFileIssue } from './schema-files.js';
export {
  verifyRepository,
  type EditedSchema,
  type PublishedSchema,
  type SchemaChange,
  type VerifyOptions,
  type VerifyReport,
  type VersionReport,
} from './evolution/verify.js';
export { EVOLUTION_TARGETS, type EvolutionTarget } from './evolution/targets.js';
export type { Bump } from './evolution/advice.js';
export { createValidationPlugin, InvalidEventError, type EventIssue, type InvalidEvent, type OnInvalid, type ValidationPlugin, type ValidationPluginOptions } from './validation-plugin.js';
