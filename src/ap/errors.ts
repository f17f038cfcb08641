/** Access point failures that are neither a controller's nor the system's. */
import { SagError } from '../errors.js';

/** A received configuration failed validation; nothing of it was applied. */
export class ConfigRefusedError extends SagError {
  constructor(message: string) {
    super('ERR_SAG_AP_CONFIG_REFUSED', `configuration refused: ${message}`);
  }
}

/** One or more CCN spaces failed to apply; the others were applied. */
export class SpaceApplyError extends SagError {
  readonly failures: ReadonlyMap<string, Error>;
  constructor(failures: ReadonlyMap<string, Error>) {
    super(
      'ERR_SAG_AP_SPACE_FAILED',
      [...failures].map(([ccnId, error]) => `${ccnId}: ${error.message}`).join('; '),
    );
    this.failures = failures;
  }
}
