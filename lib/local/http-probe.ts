/**
 * The HTTP probe of the local plane: the Lambda's HttpProbe, signing nothing (the local endpoints do
 * not check SigV4). The local composition root hands it to the local ProbePort
 * (lib/adapters/local/probe.ts), which stands beside the AWS adapters and imports none of them.
 */
import { HttpProbe } from '../adapters/aws/http-probe.ts';
import type { HttpProbeConfig } from '../adapters/local/probe.ts';

/** Nothing is ever signed, but the signer wants a source. */
const NO_CREDENTIALS = async () => ({ accessKeyId: 'local', secretAccessKey: 'local' });

export function unsignedHttpProbe(config: HttpProbeConfig): HttpProbe {
  return new HttpProbe({ ...config, signedPaths: [], credentials: NO_CREDENTIALS });
}
