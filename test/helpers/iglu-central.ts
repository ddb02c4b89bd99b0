/** Iglu Central's CI list (igluctl 0.10.1 lint --skip-checks …). */
export const IGLU_CENTRAL_SKIP_CHECKS = ['optionalNull', 'description', 'numericMinMax', 'stringLength', 'stringMaxLengthRange', 'rootObject'];
