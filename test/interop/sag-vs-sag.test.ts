/** The same suite with sag on both ends: `sag up` against sag-wg configured by `wg`. */
import { interopSuite } from '../support/interop-suite.js';

interopSuite('sag-up', 'sag-wg');
