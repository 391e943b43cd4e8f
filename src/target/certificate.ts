
/** A PEM private key and the certificate that goes with it. */
export interface TargetCertificate {
  key: string
  cert: string
}

const VALID_MS = 30 * 24 * 60 * 60 * 1000

let cached: Promise<TargetCertificate> | undefined

/**
 * The bundled target's TLS certificate: self-signed, for `localhost`,
 * `127.0.0.1` and `::1` (every address the target may listen on), valid for
 * 30 days. Made in memory the first time it is asked for, so no key ships
 * with the package, then shared by every TLS target of the process. An EC
 * P-256 key is made in milliseconds, where RSA would take tens of them.
 * No authority signed it: a client trusts it with `http: { insecure: true }`,
 * or by taking `cert` as its CA.
 */
export function targetCertificate(): Promise<TargetCertificate> {
  // Imported when first asked for: the certificate library costs about 150 ms to load, which a process with only plain targets skips.
  cached ??= import('selfsigned').then(({ generate }) => generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + VALID_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  })).then((pems) => ({ key: pems.private, cert: pems.cert }))
  return cached
}
