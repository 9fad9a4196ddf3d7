import { Writable } from 'node:stream';

/**
 * Writes into a child's stdin, tolerating the child closing it early: pg_restore stops reading
 * once it has what it needs, and the pipe then fails with EPIPE or a premature close. Whether the
 * child got enough is its exit code's to say; only genuine upstream failures (reading, decrypting,
 * decompressing) fail the pipeline that ends here.
 */
export function childStdinSink(stdin: Writable): Writable {
  let closed = false;
  stdin.on('error', () => (closed = true));
  stdin.on('close', () => (closed = true));
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (closed || stdin.destroyed) return callback();
      if (stdin.write(chunk)) return callback();
      const resume = () => {
        stdin.off('drain', resume);
        stdin.off('close', resume);
        callback();
      };
      stdin.on('drain', resume);
      stdin.on('close', resume);
    },
    final(callback) {
      if (!closed && !stdin.destroyed) stdin.end();
      callback();
    },
    destroy(error, callback) {
      if (error) stdin.destroy();
      callback(error);
    },
  });
}
