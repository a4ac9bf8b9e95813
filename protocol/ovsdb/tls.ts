/**
 * TLS for `ssl:` remotes as OVS does it (lib/stream-ssl.c, and the Python
 * IDL's SSLStream that Neutron's agent uses): the client presents its key
 * and certificate and requires the server's certificate to be signed by the
 * CA certificate; the host name is not compared with the certificate (OVS
 * authenticates a peer by its CA, not its name), and no SNI is sent.
 *
 * TLS failures are told apart from connection failures (code `TLS`, not
 * `CONNECT_FAILED`): a refused or unverifiable certificate, or a key file
 * that cannot be read, stays so until someone changes files, so retrying is
 * pointless; each message names the remote and the files concerned.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { OvsdbConnectionError, OvsdbErrorCode } from './errors.js';

/** Key material for `ssl:` remotes: file paths (as OVS's options) or PEM contents. */
export interface SslOptions {
  /** `--private-key`: PEM file path, or the PEM itself as a Buffer. */
  privateKey: string | Buffer;
  /** `--certificate`: PEM file path, or the PEM as a Buffer. */
  certificate: string | Buffer;
  /** `--ca-cert`: PEM file path, or the PEM as a Buffer. */
  caCert: string | Buffer;
}

/** OpenSSL's certificate verification results, as Node names them (our check of the server's certificate). */
const VERIFY_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_CRL', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'CERT_SIGNATURE_FAILURE', 'CRL_SIGNATURE_FAILURE', 'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED', 'CRL_NOT_YET_VALID', 'CRL_HAS_EXPIRED', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD', 'ERROR_IN_CRL_NEXT_UPDATE_FIELD', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_CHAIN_TOO_LONG', 'CERT_REVOKED', 'INVALID_CA',
  'PATH_LENGTH_EXCEEDED', 'INVALID_PURPOSE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
]);

/** TLS alerts by which a server says it does not accept our certificate. */
const REFUSED_ALERTS = /_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_[A-Z_]+|UNSUPPORTED_CERTIFICATE|DECRYPT_ERROR|ACCESS_DENIED)$/;

function fileName(v: string | Buffer): string {
  return typeof v === 'string' ? v : '(PEM given in memory)';
}

/** `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` → `tlsv1 alert unknown ca`, OpenSSL's own words without its file and line. */
function sslReason(code: string): string {
  return code.slice('ERR_SSL_'.length).toLowerCase().replace(/_/g, ' ');
}

function tlsError(remote: string, detail: string, cause: unknown): OvsdbConnectionError {
  return new OvsdbConnectionError(OvsdbErrorCode.TLS, `TLS with OVSDB at ${remote} failed: ${detail}`, remote, { cause });
}

/**
 * The `TLS` error a socket error of an `ssl:` session stands for, or
 * undefined when it is an ordinary connection failure (refused, reset,
 * unreachable), which the caller reports and retries as such.
 */
export function tlsFailure(err: Error & { code?: unknown }, remote: string, ssl: SslOptions): OvsdbConnectionError | undefined {
  const code = typeof err.code === 'string' ? err.code : '';
  if (VERIFY_CODES.has(code)) {
    return tlsError(remote, `the server's certificate does not verify against the CA certificate ${fileName(ssl.caCert)}: ${err.message} (${code})`, err);
  }
  if (REFUSED_ALERTS.test(code)) {
    return tlsError(remote, `the server refused our certificate ${fileName(ssl.certificate)} (key ${fileName(ssl.privateKey)}): ${sslReason(code)}`, err);
  }
  if (code.startsWith('ERR_SSL_')) return tlsError(remote, `${sslReason(code)} (is it a pssl: remote?)`, err);
  return undefined;
}

function pem(v: string | Buffer, what: string, remote: string): Buffer {
  if (Buffer.isBuffer(v)) return v;
  try {
    return readFileSync(v);
  } catch (err) {
    throw tlsError(remote, `cannot read the ${what} ${v}: ${(err as Error).message}`, err);
  }
}

/**
 * The options of `tls.connect` for a remote: the files read now (so a
 * renewed certificate is picked up at the next connection, as OVS does) and
 * loaded into a secure context, whose errors (a malformed PEM, a key that
 * does not match the certificate) name the files.
 */
export function tlsConnectOptions(tls: typeof import('node:tls'), host: string, port: number, ssl: SslOptions, remote: string): ConnectionOptions {
  const key = pem(ssl.privateKey, 'private key', remote);
  const cert = pem(ssl.certificate, 'certificate', remote);
  const ca = pem(ssl.caCert, 'CA certificate', remote);
  let secureContext;
  try {
    secureContext = tls.createSecureContext({ key, cert, ca });
  } catch (err) {
    throw tlsError(remote, `cannot load the private key ${fileName(ssl.privateKey)}, certificate ${fileName(ssl.certificate)} `
      + `and CA certificate ${fileName(ssl.caCert)}: ${(err as Error).message}`, err);
  }
  return {
    host,
    port,
    secureContext,
    rejectUnauthorized: true,
    // OVS authenticates the peer by its CA-signed certificate, not by host name, and sends no SNI.
    checkServerIdentity: () => undefined,
    servername: '',
  };
}
