import { createHash } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';

/** Passes a stream through while hashing it: the sha256 is known when the stream has ended. */
export function hashing(source: Readable): { stream: PassThrough; sha256: Promise<string>; size: () => number } {
  const hash = createHash('sha256');
  const stream = new PassThrough();
  let size = 0;
  const sha256 = new Promise<string>((resolve, reject) => {
    source.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
    });
    source.on('end', () => resolve(hash.digest('hex')));
    source.on('error', (error) => {
      stream.destroy(error);
      reject(error);
    });
  });
  // A caller that only reads the stream must not see an unhandled rejection.
  sha256.catch(() => undefined);
  source.pipe(stream);
  return { stream, sha256, size: () => size };
}
