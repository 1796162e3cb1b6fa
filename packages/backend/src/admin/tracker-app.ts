import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { errors as joseErrors, jwtVerify } from 'jose';
import {
  APP_TOKEN_MAX_TTL_S,
  decodePairingCode,
  encodePairingCode,
  PairRequestSchema,
  sameBaseUrl,
  type PairingCodeView,
  type PairResponse,
} from '@exalate/contract';
import type { NodeConfig } from '../config.js';
import { parse } from '../http/parse-request.js';
import type { Database } from '../db/database.js';
import { putNodeSetting } from '../db/put-node-setting.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { SealedSecret, SecretBox } from '../secrets/secret-box.js';
import type { AdminAuthenticator } from './authenticator.js';

/**
 * The Exalate app inside the node's tracker (the Jira Data Center app, the ServiceNow application),
 * paired with the node:
 *   pairing code (shown to the node's operator, one at a time, 30 minutes, once)
 *     → pair (the app sends it with its tracker's base URL; the node answers the key)
 *     → Jira: admin tokens (HS256, iss = the tracker's base URL, aud = the node URL, ≤ 5 minutes,
 *        one call each: a used `jti` is refused until the token would have expired anyway). The
 *        Jira page calls the node itself, so each call needs a token of its own.
 *     → ServiceNow: the instance's key. The page never calls the node: the application's Scripted
 *        REST API forwards each call server to server with `Authorization: Bearer <key>` and
 *        `X-Exalate-Instance: <instance URL>` (the instance checked the admin's role first).
 * The key never passes a browser: the app gets it server to server and keeps it in its settings.
 * Pairing again (a new code) replaces the key; tokens signed with the old one stop working.
 */
/** The header a ServiceNow instance's forwarded call names itself by (its base URL). */
export const INSTANCE_HEADER = 'x-exalate-instance';
const PAIRING_KEY = 'tracker_app_pairing';
const PAIRED_KEY = 'tracker_app';
export const PAIRING_CODE_TTL_MS = 30 * 60_000;

interface Paired {
  issuer: string;
  key: Uint8Array;
  pairedAt: string;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export class TrackerApp {
  private paired: Paired | null = null;

  constructor(private readonly o: { config: NodeConfig; db: Database; secrets: SecretBox; logger: Logger; nodeUrl: string; now?: () => number }) {}

  /** Whether this node's tracker has an Exalate app to pair with (Jira Data Center, ServiceNow). */
  get supported(): boolean {
    return this.kind !== null;
  }

  private get kind(): 'jira' | 'servicenow' | null {
    const kind = this.o.config.tracker.kind;
    return kind === 'jira-datacenter' ? 'jira' : kind === 'servicenow' ? 'servicenow' : null;
  }

  /** Where the tracker's admin enters the pairing code. */
  private get whereToPair(): string {
    return this.kind === 'servicenow' ? 'in ServiceNow under All → Exalate → Settings' : 'in Jira under Settings → Apps → Exalate → General settings';
  }

  /** Whether the app's page calls the node from the browser (Jira) or the instance forwards its calls (ServiceNow). */
  get callsFromBrowser(): boolean {
    return this.kind === 'jira';
  }

  /** The origin the app's page runs on, once paired: the only one the admin API answers cross-origin. */
  get origin(): string | null {
    return this.paired ? new URL(this.paired.issuer).origin : null;
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  async load(): Promise<void> {
    const rows = await this.o.db.query<{ value: { issuer: string; sealed: SealedSecret; pairedAt: string } }>(
      `select value from node_settings where key = $1`,
      [PAIRED_KEY],
    );
    const row = rows[0];
    if (!row) return;
    const key = this.o.secrets.open(row.value.sealed);
    if (key === null) {
      this.o.logger.error({ node: this.o.config.id }, "the tracker app's key cannot be opened with this node's secret key: pair the app again");
      return;
    }
    this.paired = { issuer: row.value.issuer, key: Buffer.from(key, 'base64url'), pairedAt: row.value.pairedAt };
  }

  private refuseUnsupported(): void {
    if (!this.supported)
      throw new AppError('NOT_FOUND', 'This node does not serve a Jira Data Center or a ServiceNow instance, so there is no Exalate app to pair with.');
  }

  /** A new one-time pairing code for the operator to hand to the tracker's admin (the last one stops working). */
  async issuePairingCode(): Promise<PairingCodeView> {
    this.refuseUnsupported();
    const id = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(this.now() + PAIRING_CODE_TTL_MS).toISOString();
    await putNodeSetting(this.o.db, PAIRING_KEY, { id, secretHash: sha256(secret).toString('base64url'), expiresAt });
    this.o.logger.info({ node: this.o.config.id, pairingId: id }, 'a pairing code for the tracker app was issued');
    return { pairingCode: encodePairingCode({ nodeUrl: this.o.nodeUrl, id, secret }), expiresAt };
  }

  /** The app's pairing call: a valid, unused code from its own tracker gets the key. */
  async pair(body: unknown): Promise<PairResponse> {
    this.refuseUnsupported();
    const req = parse(PairRequestSchema, body);
    const code = decodePairingCode(req.pairingCode);
    const invalid = () =>
      new AppError(
        'PAIRING_CODE_INVALID',
        'This is not a pairing code of this node. Copy the code again from the node (it starts with EXPAIR1.) and paste all of it.',
        { pairingCode: 'Not a pairing code of this node.' },
      );
    if (!code || !sameBaseUrl(code.nodeUrl, this.o.nodeUrl)) throw invalid();
    if (!sameBaseUrl(req.trackerBaseUrl, this.o.config.tracker.url)) {
      const product = this.kind === 'servicenow' ? 'ServiceNow instance' : 'Jira';
      throw new AppError(
        'PAIRING_WRONG_TRACKER',
        `This node serves the ${product} at ${this.o.config.tracker.url}, not ${req.trackerBaseUrl}. Pair this ${product} with its own node, or set the node's tracker URL to this ${product}'s base URL.`,
      );
    }
    const key = randomBytes(32).toString('base64url');
    const pairedAt = new Date(this.now()).toISOString();
    const issuer = this.o.config.tracker.url.replace(/\/+$/, '');
    // One transaction: the code is spent exactly once, even when two calls race.
    await this.o.db.transaction(async (tx) => {
      const rows = await tx.query<{ value: { id: string; secretHash: string; expiresAt: string } }>(
        `select value from node_settings where key = $1 for update`,
        [PAIRING_KEY],
      );
      const pending = rows[0]?.value;
      if (!pending || pending.id !== code.id) {
        throw new AppError(
          'PAIRING_CODE_USED',
          "This pairing code was used already, or a newer one replaced it. Ask the node's operator for a new pairing code.",
        );
      }
      const given = sha256(code.secret);
      const expected = Buffer.from(pending.secretHash, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
      if (new Date(pending.expiresAt).getTime() <= this.now()) {
        throw new AppError(
          'PAIRING_CODE_EXPIRED',
          `This pairing code expired at ${pending.expiresAt}. Ask the node's operator for a new one (a code lasts 30 minutes).`,
        );
      }
      await tx.query(`delete from node_settings where key = $1`, [PAIRING_KEY]);
      await putNodeSetting(tx, PAIRED_KEY, { issuer, sealed: this.o.secrets.seal(key), pairedAt });
    });
    this.paired = { issuer, key: Buffer.from(key, 'base64url'), pairedAt };
    this.o.logger.info({ node: this.o.config.id, pairingId: code.id, tracker: issuer }, 'the tracker app was paired');
    return { key, issuer, audience: this.o.nodeUrl };
  }

  /** Admits a call that carries a token the paired app minted for one of its admins, or the paired instance's forwarded call. */
  authenticator(): AdminAuthenticator {
    if (this.kind === 'servicenow') return (req) => this.admitInstance(req);
    return async (req: Request) => {
      const header = req.headers.authorization ?? '';
      if (!this.supported || !header.startsWith('Bearer ')) return false;
      const token = header.slice(7);
      // The node's admin token is not a JWT; leave it to the other authenticators.
      if (token.split('.').length !== 3) return false;
      const paired = this.paired;
      if (!paired)
        throw new AppError(
          'UNAUTHENTICATED',
          `The Exalate app in Jira is not paired with this node yet. Ask the node's operator for a pairing code and enter it ${this.whereToPair}.`,
        );
      let claims;
      try {
        ({ payload: claims } = await jwtVerify(token, paired.key, {
          algorithms: ['HS256'],
          issuer: paired.issuer,
          audience: this.o.nodeUrl,
          requiredClaims: ['exp', 'iat', 'jti', 'sub'],
          clockTolerance: 30,
          currentDate: new Date(this.now()),
        }));
      } catch (error) {
        throw new AppError('UNAUTHENTICATED', tokenProblem(error));
      }
      if (claims.exp! - claims.iat! > APP_TOKEN_MAX_TTL_S)
        throw new AppError(
          'UNAUTHENTICATED',
          `The Jira sign-in token lives longer than ${APP_TOKEN_MAX_TTL_S / 60} minutes; this node takes no such token. Update the Exalate app in Jira.`,
        );
      const jti = String(claims.jti);
      if (jti.length > 200) throw new AppError('UNAUTHENTICATED', "The Jira sign-in token's id is too long.");
      const used = await this.o.db.query(`insert into app_token_uses (jti, expires_at) values ($1, to_timestamp($2)) on conflict do nothing returning jti`, [
        jti,
        claims.exp! + 30,
      ]);
      if (!used.length)
        throw new AppError('UNAUTHENTICATED', 'This Jira sign-in token was used already: each admits one call. Reload the Exalate page in Jira.');
      // Forget the ids of tokens that can no longer be used (now and then: about once in 50 calls).
      if (Math.random() < 0.02) await this.o.db.query(`delete from app_token_uses where expires_at < now()`);
      return true;
    };
  }

  /**
   * A call the ServiceNow application forwarded: it names its instance, and carries the key this
   * node gave that instance at pairing. Compared in constant time; the node keeps no other copy.
   */
  private admitInstance(req: Request): boolean {
    const instance = req.headers[INSTANCE_HEADER];
    // Without the header the call is not the instance's: the node's admin token may still admit it.
    if (typeof instance !== 'string') return false;
    const paired = this.paired;
    if (!paired)
      throw new AppError(
        'UNAUTHENTICATED',
        `The Exalate application in ServiceNow is not paired with this node yet. Ask the node's operator for a pairing code and enter it ${this.whereToPair}.`,
      );
    if (!sameBaseUrl(instance, paired.issuer))
      throw new AppError(
        'UNAUTHENTICATED',
        `This node is paired with the ServiceNow instance at ${paired.issuer}, not ${instance.slice(0, 200)}. Pair this instance with its own node.`,
      );
    const header = req.headers.authorization ?? '';
    const given = sha256(header.startsWith('Bearer ') ? header.slice(7) : '');
    if (!timingSafeEqual(given, sha256(Buffer.from(paired.key).toString('base64url')))) {
      throw new AppError(
        'UNAUTHENTICATED',
        `The instance's key is not the one this node gave it at pairing (the node was paired again, or its data was reset). Ask the node's operator for a new pairing code and enter it ${this.whereToPair}.`,
      );
    }
    return true;
  }
}

function tokenProblem(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'The Jira sign-in token has expired. Reload the Exalate page in Jira.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed)
    return 'The Jira sign-in token is not signed with the key this node paired with. If the app was paired with another node (or paired again), pair it with this node: ask its operator for a pairing code.';
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'The Jira sign-in token comes from another Jira than the one this node serves.';
    if (error.claim === 'aud') return 'The Jira sign-in token is meant for another Exalate node. Check the node URL in Jira under Exalate → General settings.';
    if (error.claim === 'nbf' || error.claim === 'iat') return 'The Jira sign-in token is not valid yet. Check the clocks of Jira and of the node.';
    return `The Jira sign-in token was refused: ${error.message}.`;
  }
  return 'The Authorization header does not hold a valid Jira sign-in token. Open Exalate from Jira: Settings → Apps → Exalate.';
}
