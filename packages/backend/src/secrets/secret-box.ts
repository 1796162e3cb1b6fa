import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

/** A secret as stored: AES-256-GCM, with the fingerprint of the key that sealed it. */
export interface SealedSecret {
  v: 1;
  keyId: string;
  iv: string;
  tag: string;
  data: string;
}

/**
 * Seals secrets an admin enters in a frontend (a tracker token) before they reach the database,
 * so a database dump or backup does not hold them in the clear.
 */
export class SecretBox {
  readonly keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new ConfigError('The secret key must be 32 bytes.');
    this.keyId = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  seal(plain: string): SealedSecret {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return { v: 1, keyId: this.keyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), data: data.toString('base64') };
  }

  /** Null when it was sealed with another key (or tampered with). */
  open(sealed: SealedSecret): string | null {
    if (sealed.keyId !== this.keyId) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}

/**
 * The server's key: EXALATE_SECRET_KEY (32 bytes, base64) when set, which every process sharing a
 * PostgreSQL server must have; else a key file made once beside the data (mode 600); else, with
 * storage in memory, a key that lives as long as the process and its data.
 */
export function loadSecretKey(o: { secretKey: string | null | undefined; keyFile: string | null }): Buffer {
  if (o.secretKey) {
    const key = Buffer.from(o.secretKey, 'base64');
    if (key.length !== 32) throw new ConfigError('EXALATE_SECRET_KEY must be 32 random bytes in base64 (e.g. the output of: openssl rand -base64 32).');
    return key;
  }
  if (!o.keyFile) return randomBytes(32);
  if (existsSync(o.keyFile)) {
    const key = Buffer.from(readFileSync(o.keyFile, 'utf8').trim(), 'base64');
    if (key.length !== 32)
      throw new ConfigError(`${o.keyFile} does not hold a 32-byte key in base64. Restore it from a backup, or remove it and enter the stored tokens again.`);
    return key;
  }
  const key = randomBytes(32);
  mkdirSync(dirname(o.keyFile), { recursive: true });
  writeFileSync(o.keyFile, key.toString('base64') + '\n', { mode: 0o600 });
  return key;
}
