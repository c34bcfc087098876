/**
 * Loaded by path (PAYSTREAM_DATA_CONVERTER.failureConverterPath) into clients, workers and the workflow
 * sandbox: a failure's message and stack trace travel as an encoded payload, so the payload codec
 * encrypts them like everything else (a decline reason or an address in an error stays out of the
 * history in clear). Imports nothing but Temporal's common package: it is bundled into workflows.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
