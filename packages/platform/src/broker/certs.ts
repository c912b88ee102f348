import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import forge from "node-forge";

export interface CertificateFiles {
  dir: string;
  caPath: string;
  certPath: string;
  keyPath: string;
  ca: string;
  cert: string;
  key: string;
}

/**
 * A private CA and a server certificate for the MQTT TLS listener, made once and kept in
 * `dir` (`ca.pem`, `server.pem`, `server-key.pem`). Devices trust `ca.pem`. The CA's own
 * key is thrown away after signing: nothing else is ever issued by it.
 */
export async function ensureCertificates(dir: string, hostnames: string[] = ["localhost"]): Promise<CertificateFiles> {
  const caPath = join(dir, "ca.pem");
  const certPath = join(dir, "server.pem");
  const keyPath = join(dir, "server-key.pem");
  if (!(existsSync(caPath) && existsSync(certPath) && existsSync(keyPath))) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const made = makeCertificates(hostnames);
    await writeFile(caPath, made.ca);
    await writeFile(certPath, made.cert);
    await writeFile(keyPath, made.key, { mode: 0o600 });
    await chmod(keyPath, 0o600);
  }
  const [ca, cert, key] = await Promise.all([readFile(caPath, "utf8"), readFile(certPath, "utf8"), readFile(keyPath, "utf8")]);
  return { dir, caPath, certPath, keyPath, ca, cert, key };
}

function makeCertificates(hostnames: string[]): { ca: string; cert: string; key: string } {
  const { pki, md } = forge;
  const now = new Date();
  const years = (n: number) => new Date(now.getTime() + n * 365 * 24 * 3600 * 1000);

  const caKeys = pki.rsa.generateKeyPair(2048);
  const caCert = pki.createCertificate();
  caCert.publicKey = caKeys.publicKey;
  caCert.serialNumber = serial();
  caCert.validity.notBefore = new Date(now.getTime() - 3600 * 1000);
  caCert.validity.notAfter = years(20);
  const caName = [{ name: "commonName", value: "MCS-IoT private CA" }, { name: "organizationName", value: "MCS-IoT" }];
  caCert.setSubject(caName);
  caCert.setIssuer(caName);
  caCert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  caCert.sign(caKeys.privateKey, md.sha256.create());

  const keys = pki.rsa.generateKeyPair(2048);
  const cert = pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(now.getTime() - 3600 * 1000);
  cert.validity.notAfter = years(10);
  cert.setSubject([{ name: "commonName", value: hostnames[0] ?? "localhost" }, { name: "organizationName", value: "MCS-IoT" }]);
  cert.setIssuer(caName);
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [
        ...hostnames.map((value) => ({ type: 2, value })),
        { type: 7, ip: "127.0.0.1" },
        { type: 7, ip: "::1" },
      ],
    },
    { name: "authorityKeyIdentifier", keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKeys.privateKey, md.sha256.create());

  return { ca: pki.certificateToPem(caCert), cert: pki.certificateToPem(cert), key: pki.privateKeyToPem(keys.privateKey) };
}

function serial(): string {
  // Positive 16-byte serial: a leading 0 nibble keeps the DER integer positive.
  return "0" + forge.util.bytesToHex(forge.random.getBytesSync(16)).slice(1);
}
