/** `wg-quick up` with sag-wg as its userspace implementation, against Debian's wireguard-go. */
import { interopSuite } from '../support/interop-suite.js';

interopSuite('wg-quick', 'wireguard-go', { psk: 'same' });
