/** `sag up` against Debian's wireguard-go: the suite, plus refusals of wrong keys with clear logs. */
import test from 'ava';
import { buildInterop, IP_A, IP_B, latestHandshake } from '../support/interop.js';
import { interopSkipReason, interopSuite, ping } from '../support/interop-suite.js';
import { waitFor } from '../support/time.js';

interopSuite('sag-up', 'wireguard-go');

const skip = interopSkipReason();
const serial = skip ? test.skip : test.serial;

serial('sag-up vs wireguard-go: a wrong public key gives no session and a clear log line', async (t) => {
  const i = await buildInterop({ aMode: 'sag-up', bImpl: 'wireguard-go', wrongKey: true });
  t.teardown(() => i.cleanup());
  t.false(ping(i.nsB, IP_A, 2), 'no tunnel');
  t.true(
    await waitFor(() => /rejected: handshake message has an invalid mac1/.test(i.logA()), 5000),
    i.logA(),
  );
  t.is(latestHandshake(i.wgB('show', i.ifB, 'latest-handshakes')), 0);
});

serial(
  'sag-up vs wireguard-go: a pre-shared key mismatch gives no session and a clear log line',
  async (t) => {
    const i = await buildInterop({ aMode: 'sag-up', bImpl: 'wireguard-go', psk: 'mismatch' });
    t.teardown(() => i.cleanup());
    t.false(ping(i.nsA, IP_B, 2), 'no tunnel');
    t.true(await waitFor(() => /rejected: response failed to authenticate/.test(i.logA()), 5000), i.logA());
  },
);

serial('sag-up vs wireguard-go: matching pre-shared keys work', async (t) => {
  const i = await buildInterop({ aMode: 'sag-up', bImpl: 'wireguard-go', psk: 'same' });
  t.teardown(() => i.cleanup());
  t.true(ping(i.nsA, IP_B));
});
