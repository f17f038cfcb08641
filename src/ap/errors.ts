/** Access point failures that are neither a controller's nor the system's. */
import { SagError } from '../errors.js';

/** A received configuration failed validation; nothing of it was applied. */
export class ConfigRefusedError extends SagError {
  constructor(message: string) {
    super('ERR_SAG_AP_CONFIG_REFUSED', `configuration refused: ${message}`);
  }
}
