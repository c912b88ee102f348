import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const PRIVATE_KEY_FILE = "private.pem";
export const PUBLIC_KEY_FILE = "public.pem";

/**
 * Makes the vendor's Ed25519 key pair in `dir`: `private.pem` (PKCS #8, owner only) signs
 * license files and check answers; `public.pem` (SPKI) ships with the product. An existing
 * key is never replaced: every license issued with it would stop verifying.
 */
export function generateVendorKeys(dir: string): { privateFile: string; publicFile: string } {
  const privateFile = join(dir, PRIVATE_KEY_FILE);
  const publicFile = join(dir, PUBLIC_KEY_FILE);
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) throw new KeyError(`${file} exists: a key is never overwritten (every license issued with it would stop verifying)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(privateFile, privateKey.export({ type: "pkcs8", format: "pem" }), { flag: "wx", mode: 0o600 });
  writeFileSync(publicFile, publicKey.export({ type: "spki", format: "pem" }), { flag: "wx", mode: 0o644 });
  return { privateFile, publicFile };
}

/** The vendor's private key from `dir/private.pem`; `loose` is set when others may read the file. */
export function loadVendorKey(dir: string): { privateKey: KeyObject; publicKey: KeyObject; file: string; loose: boolean } {
  const file = join(dir, PRIVATE_KEY_FILE);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new KeyError(`${file}: cannot read the vendor's private key (${(error as Error).message}); make one with keygen`);
  }
  if (privateKey.asymmetricKeyType !== "ed25519") throw new KeyError(`${file}: an Ed25519 key is needed, found ${privateKey.asymmetricKeyType ?? "another kind"}`);
  return { privateKey, publicKey: createPublicKey(privateKey), file, loose: (statSync(file).mode & 0o077) !== 0 };
}

export class KeyError extends Error {
  override name = "KeyError";
}
