import { randomUUID } from 'node:crypto';
import {
  AcceptInvitationRequestSchema,
  InitiateConnectionRequestSchema,
  MODES,
  MODE_LABELS,
  PROTOCOL_VERSION,
  commonProtocolVersion,
  decodeInvitationCode,
  defaultConnectionName,
  encodeInvitationCode,
  normalizeConnectionName,
  type AcceptInvitationRequest,
  type ConnectionView,
  type InitiateConnectionRequest,
  type InitiateConnectionResponse,
  type InvitationBody,
  type InvitationCodeResponse,
  type InvitationPreview,
  type NodeInfo,
  type PeerAcceptRequest,
  type PeerAcceptResponse,
  type PeerClaimRequest,
  type PeerClaimResponse,
  type PeerVerifyRequest,
  type PeerVerifyResponse,
  type ProbeDestinationResponse,
  type Project,
} from '@exalate/contract';
import { sameBaseUrl, type Result } from '@exalate/contract';
import type { Database } from '../db/database.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { AppError } from '../errors.js';
import { parse } from '../http/parse-request.js';
import type { Logger } from '../logger.js';
import { normalizeNodeUrl } from '../net/peer-http.js';
import type { AddressPolicy } from '../net/address-policy.js';
import type { PeerCallError, PeerClient, SigningIdentity } from '../peer/client.js';
import { deriveConnectionKey, keyConfirmation, newNonce, newSecret, proofOfSecret, safeEqual } from '../peer/handshake-crypto.js';
import { ConnectionCache, ConnectionRepository, toView, type ConnectionRow } from './repository.js';

export interface ConnectionServiceOptions {
  db: Database;
  peers: PeerClient;
  logger: Logger;
  addressPolicy: AddressPolicy;
  invitationTtlMs: number;
  /** This node as others see it. */
  nodeInfo: () => NodeInfo;
  /** Projects (or tables) an admin may pick for incoming sync. */
  listProjects: () => Promise<Project[]>;
  /** Wakes the long polls a private partner holds on this connection. */
  onConnectionChanged: (connectionId: string) => void;
  /** Seals the connections' secrets at rest. */
  secrets: SecretBox;
}

const NODE_INFO_PATH = /\/api\/v1\/node-info\/?$/;

/** How long an acceptance under way may be asked about: the initiator answers within a peer timeout. */
const ACCEPTANCE_TTL_MS = 2 * 60_000;

export class ConnectionService {
  private readonly repo: ConnectionRepository;

  constructor(private readonly o: ConnectionServiceOptions) {
    // Only this process writes an embedded database, so its connections can be kept in memory.
    this.repo = new ConnectionRepository(o.db, o.secrets, o.db.kind === 'pglite' ? new ConnectionCache() : null);
  }

  // ───────────────────────── admin: reading ─────────────────────────

  async list(): Promise<ConnectionView[]> {
    return (await this.repo.list()).map((r) => toView(r));
  }

  async get(id: string): Promise<ConnectionView> {
    return toView(await this.mustFindLive(id));
  }

  // ───────────────────────── admin: Initiate connection ─────────────────────────

  /** Step 1 of Initiate: is there a compatible node at this URL, and which modes can we use? */
  async probeDestination(input: string): Promise<ProbeDestinationResponse> {
    const normalized = normalizeNodeUrl(input.replace(NODE_INFO_PATH, ''), this.o.addressPolicy);
    if (!normalized.ok) {
      throw new AppError(normalized.problem.kind === 'invalid' ? 'DESTINATION_URL_INVALID' : 'DESTINATION_NOT_ALLOWED', normalized.problem.message, {
        destinationUrl: normalized.problem.message,
      });
    }
    let url = normalized.url;
    const me = this.o.nodeInfo();
    if (me.nodeUrl && url === me.nodeUrl) {
      throw new AppError('DESTINATION_IS_THIS_NODE', 'That is the address of this node. Enter the address of the partner node you want to connect to.');
    }
    let info = await this.o.peers.nodeInfo(url);
    if (!info.ok && (info.error.kind === 'bad-answer' || info.error.kind === 'rejected')) {
      // Perhaps the tracker's own address (the guide allows "the link of that instance"): its
      // Exalate app says where its node is.
      const found = await this.nodeOfTracker(url);
      if (found) ({ url, info } = found);
    }
    if (!info.ok) throw destinationError(url, info.error);
    const partner = info.value;
    if (partner.instanceId === me.instanceId) {
      throw new AppError('DESTINATION_IS_THIS_NODE', 'That address leads back to this node. Enter the address of the partner node you want to connect to.');
    }
    const version = commonProtocolVersion(me.protocol, partner.protocol);
    if (version === null) {
      throw new AppError(
        'DESTINATION_PROTOCOL_INCOMPATIBLE',
        `The node at ${url} speaks protocol versions ${partner.protocol.min}–${partner.protocol.max}; this node speaks ${me.protocol.min}–${me.protocol.max}. The side with the older Exalate version must upgrade before you can connect.`,
      );
    }
    if (partner.pollOnly) {
      throw new AppError(
        'DESTINATION_IS_PRIVATE',
        `The node at ${url} is private: it does not accept incoming connections. Choose "I don't have a URL" and send the invitation code to its admin instead.`,
      );
    }
    return {
      url,
      nodeType: partner.nodeType,
      trackerUrl: partner.trackerUrl,
      pollOnly: partner.pollOnly,
      protocolVersion: version,
      modes: MODES.filter((m) => me.modes.includes(m) && partner.modes.includes(m)),
    };
  }

  /**
   * The node a tracker's Exalate app publishes (JIRA_APP_NODE_PATH), with what that node says about
   * itself. Null when the URL has no such app; a Jira without it is told apart, to say what to enter.
   */
  private async nodeOfTracker(trackerUrl: string): Promise<{ url: string; info: Result<NodeInfo, PeerCallError> } | null> {
    const app = await this.o.peers.trackerAppNode(trackerUrl);
    if (!app.ok) {
      const jira = await this.o.peers.jiraServerInfo(trackerUrl);
      if (jira.ok) {
        throw new AppError(
          'DESTINATION_IS_TRACKER',
          `${trackerUrl} is a Jira${jira.value.version ? ` ${jira.value.version}` : ''} without the Exalate app (or the app has no node yet). Enter the partner's Exalate URL instead: their admin finds it in Jira under Settings → Apps → Exalate → General settings.`,
          { destinationUrl: 'A Jira without the Exalate app: enter its Exalate URL.' },
        );
      }
      return null;
    }
    const normalized = normalizeNodeUrl(app.value.nodeUrl, this.o.addressPolicy);
    if (!normalized.ok) {
      throw new AppError(
        'DESTINATION_NOT_ALLOWED',
        `The Exalate app at ${trackerUrl} names its node at ${app.value.nodeUrl}, which this node may not call: ${normalized.problem.message}`,
        { destinationUrl: normalized.problem.message },
      );
    }
    const info = await this.o.peers.nodeInfo(normalized.url);
    if (info.ok && !sameBaseUrl(info.value.trackerUrl, trackerUrl)) {
      throw new AppError(
        'DESTINATION_NOT_A_NODE',
        `The Exalate app at ${trackerUrl} names a node (${normalized.url}) that serves another tracker (${info.value.trackerUrl}). Ask the partner's admin for their Exalate URL.`,
        { destinationUrl: 'The app names a node of another tracker.' },
      );
    }
    return { url: normalized.url, info };
  }

  async initiate(input: InitiateConnectionRequest): Promise<InitiateConnectionResponse> {
    const req = parse(InitiateConnectionRequestSchema, input);
    const me = this.o.nodeInfo();
    if (!me.modes.includes(req.mode)) {
      throw new AppError(
        'MODE_NOT_SUPPORTED',
        `This node does not offer ${MODE_LABELS[req.mode]} mode. Choose one of: ${me.modes.map((m) => MODE_LABELS[m]).join(', ')}.`,
        { mode: 'Not offered by this node.' },
      );
    }
    let destinationUrl: string | null = null;
    if (req.destinationUrl !== null && req.destinationUrl.trim() !== '') {
      const probe = await this.probeDestination(req.destinationUrl);
      if (!probe.modes.includes(req.mode)) {
        throw new AppError(
          'MODE_NOT_SUPPORTED',
          `The partner node does not offer ${MODE_LABELS[req.mode]} mode. Choose one of: ${probe.modes.map((m) => MODE_LABELS[m]).join(', ')}.`,
          { mode: 'Not offered by the partner node.' },
        );
      }
      destinationUrl = probe.url;
    } else if (me.pollOnly) {
      throw new AppError(
        'BOTH_SIDES_PRIVATE',
        'This node is private, so the partner node must be reachable: enter its URL. Two private nodes cannot connect, because neither can reach the other.',
        { destinationUrl: 'Required, because this node is private.' },
      );
    }
    await this.assertProject(req.project);
    const name = req.name ?? defaultConnectionName(req.localShortName, req.remoteShortName);
    await this.assertNameFree(name);

    const now = new Date();
    const body: InvitationBody = {
      connectionId: randomUUID(),
      secret: newSecret(),
      name,
      description: req.description,
      mode: req.mode,
      initiator: { shortName: req.localShortName, project: req.project, node: me },
      destination: { shortName: req.remoteShortName, url: destinationUrl },
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.o.invitationTtlMs).toISOString(),
    };
    const invitationCode = encodeInvitationCode(body);
    const row = await this.insertOrNameTaken(
      () =>
        this.repo.insert({
          id: body.connectionId,
          name,
          description: req.description,
          mode: req.mode,
          role: 'INITIATOR',
          status: 'PENDING',
          pending_step: 'AWAITING_ACCEPTANCE',
          status_reason: null,
          local_short_name: req.localShortName,
          remote_short_name: req.remoteShortName,
          project: req.project,
          partner_instance_id: null,
          partner_node_type: null,
          partner_node_url: destinationUrl,
          partner_tracker_url: null,
          partner_poll_only: destinationUrl === null ? null : false,
          protocol_version: null,
          destination_url: destinationUrl,
          handshake: { kind: 'invitation', code: invitationCode },
          invitation_expires_at: new Date(body.expiresAt),
          invitation_used_at: null,
          invitation_revoked_at: null,
          connection_key: null,
          activated_at: null,
        }),
      name,
    );
    this.o.logger.info({ connectionId: row.id, name, mode: req.mode, private: destinationUrl === null }, 'connection initiated');
    return { connection: toView(row), invitationCode };
  }

  /** "Copy invitation code" again while the connection is Pending. */
  async invitationCode(id: string): Promise<InvitationCodeResponse> {
    const row = await this.mustFindLive(id);
    if (row.role !== 'INITIATOR' || row.status !== 'PENDING' || row.handshake?.kind !== 'invitation' || row.invitation_used_at) {
      throw new AppError(
        'CONNECTION_STATE_CONFLICT',
        'This connection has no open invitation: only a Pending connection you initiated has an invitation code to copy.',
      );
    }
    return { invitationCode: row.handshake.code, expiresAt: issuedInvitation(row.handshake.code).expiresAt };
  }

  async revokeInvitation(id: string): Promise<void> {
    const row = await this.mustFindLive(id);
    if (row.role !== 'INITIATOR' || row.status !== 'PENDING' || row.pending_step !== 'AWAITING_ACCEPTANCE') {
      throw new AppError(
        'CONNECTION_STATE_CONFLICT',
        'Only the invitation of a Pending connection you initiated can be revoked. To end an established connection, deactivate or delete it.',
      );
    }
    await this.repo.update(id, { deleted_at: new Date(), invitation_revoked_at: new Date(), handshake: null });
    this.o.logger.info({ connectionId: id }, 'invitation revoked');
  }

  // ───────────────────────── admin: Accept invitation ─────────────────────────

  async preview(code: string): Promise<InvitationPreview> {
    const body = this.decodeAndCheck(code);
    return {
      connectionId: body.connectionId,
      connectionName: body.name,
      description: body.description,
      mode: body.mode,
      localShortName: body.destination.shortName,
      remoteShortName: body.initiator.shortName,
      initiator: {
        nodeType: body.initiator.node.nodeType,
        trackerUrl: body.initiator.node.trackerUrl,
        nodeUrl: body.initiator.node.nodeUrl,
        private: body.initiator.node.pollOnly,
      },
      expiresAt: body.expiresAt,
      nameTaken: await this.repo.nameTaken(normalizeConnectionName(body.name)),
    };
  }

  async accept(input: AcceptInvitationRequest): Promise<ConnectionView> {
    const req = parse(AcceptInvitationRequestSchema, input);
    const body = this.decodeAndCheck(req.code);
    const existing = await this.repo.find(body.connectionId);
    if (existing) {
      throw new AppError(
        'INVITATION_ALREADY_USED',
        existing.deleted_at
          ? 'This node accepted this invitation before and the connection was later deleted. Ask the other side to initiate a new connection and send you its code.'
          : `This node has already accepted this invitation: it is the connection "${existing.name}".`,
      );
    }
    await this.assertProject(req.project);
    // The invitation's name comes from the other node: it is normalized here as a name typed here would be.
    const name = req.name ?? normalizeConnectionName(body.name);
    await this.assertNameFree(name);
    const me = this.o.nodeInfo();
    const initiator = body.initiator.node;
    const protocolVersion = commonProtocolVersion(me.protocol, initiator.protocol)!; // checked in decodeAndCheck
    const nonce = newNonce();
    const base = {
      id: body.connectionId,
      name,
      description: body.description,
      mode: body.mode,
      role: 'ACCEPTOR' as const,
      status_reason: null,
      local_short_name: body.destination.shortName,
      remote_short_name: body.initiator.shortName,
      project: req.project,
      partner_instance_id: initiator.instanceId,
      partner_node_type: initiator.nodeType,
      partner_node_url: initiator.nodeUrl,
      partner_tracker_url: initiator.trackerUrl,
      partner_poll_only: initiator.pollOnly,
      protocol_version: protocolVersion,
      destination_url: null,
      invitation_expires_at: null,
      invitation_used_at: new Date(),
      invitation_revoked_at: null,
    };

    if (initiator.pollOnly || initiator.nodeUrl === null) {
      // The initiator is private: it cannot be called. Keep what it needs to collect the acceptance.
      const row = await this.insertOrNameTaken(
        () =>
          this.repo.insert({
            ...base,
            status: 'PENDING',
            pending_step: 'AWAITING_INITIATOR',
            handshake: { kind: 'awaiting-initiator', secret: body.secret, nonce },
            connection_key: null,
            activated_at: null,
          }),
        name,
      );
      this.o.logger.info({ connectionId: row.id, name }, 'invitation accepted; waiting for the private initiator');
      return toView(row);
    }

    const request: PeerAcceptRequest = {
      protocolVersion,
      connectionId: body.connectionId,
      acceptor: { node: me },
      nonce,
      proof: proofOfSecret(body.secret, 'accept', body.connectionId, me.instanceId, nonce),
    };
    // While the initiator answers, it may ask this node (at the URL it invited) whether this
    // acceptance is ours: it is, by this nonce, until the answer is in.
    await this.repo.beginAcceptance(body.connectionId, nonce, ACCEPTANCE_TTL_MS);
    let answer;
    try {
      answer = await this.o.peers.accept(initiator.nodeUrl, request);
    } finally {
      await this.repo.endAcceptance(body.connectionId, nonce);
    }
    if (!answer.ok) throw initiatorError(initiator.nodeUrl, answer.error);
    const key = deriveConnectionKey(body.secret, body.connectionId, answer.value.nonce, nonce);
    if (
      !safeEqual(answer.value.confirm, keyConfirmation(key, 'initiator', body.connectionId)) ||
      answer.value.initiator.node.instanceId !== initiator.instanceId
    ) {
      throw new AppError(
        'PEER_REJECTED',
        `The node at ${initiator.nodeUrl} answered, but could not prove it issued this invitation. Ask the other side for a new invitation code.`,
      );
    }
    const now = new Date();
    const row = await this.insertOrNameTaken(
      () => this.repo.insert({ ...base, status: 'ACTIVE', pending_step: null, handshake: null, connection_key: key, activated_at: now }),
      name,
    );
    this.o.logger.info({ connectionId: row.id, name }, 'connection established');
    // The first signed request tells the initiator we hold the key, so it can forget the secret.
    void this.confirmKey(row);
    return toView(row);
  }

  // ───────────────────────── admin: status changes ─────────────────────────

  async deactivate(id: string): Promise<ConnectionView> {
    return this.transition(id, 'ACTIVE', 'DEACTIVATED', 'Only an Active connection can be deactivated.');
  }

  /** Where items from the partner are created from now on (a ServiceNow table, a project); items already synced stay where they are. */
  async setProject(id: string, project: string): Promise<ConnectionView> {
    const row = await this.mustFindLive(id);
    if (row.project === project) return toView(row);
    await this.assertProject(project);
    const updated = await this.repo.update(id, { project });
    this.o.onConnectionChanged(id);
    this.o.logger.info({ connectionId: id, project }, 'the project for incoming items changed');
    return toView(updated);
  }

  async activate(id: string): Promise<ConnectionView> {
    return this.transition(id, 'DEACTIVATED', 'ACTIVE', 'Only a Deactivated connection can be activated.');
  }

  async delete(id: string): Promise<void> {
    const row = await this.mustFindLive(id);
    if (row.status === 'PENDING' && row.role === 'INITIATOR') return this.revokeInvitation(id);
    if (!row.connection_key) {
      // An acceptance still waiting for its private initiator: nothing was established, nothing to keep.
      await this.repo.hardDelete(id);
    } else {
      // Keep a tombstone with the key, so the partner can still be told (and a private partner learns it on its next poll).
      await this.repo.update(id, { deleted_at: new Date(), handshake: null });
      this.o.onConnectionChanged(id);
      if (row.partner_node_url && !row.partner_poll_only && row.partner_instance_id) {
        const told = await this.o.peers.notify(row.partner_node_url, this.signingIdentity(row), { event: 'connection.deleted' });
        if (!told.ok) this.o.logger.warn({ connectionId: id, reason: told.error.kind }, 'could not tell the partner that the connection was deleted');
      }
    }
    this.o.logger.info({ connectionId: id }, 'connection deleted');
  }

  // ───────────────────────── peer: handshake ─────────────────────────

  /**
   * The acceptor calls us (the initiator) with proof that it was given our invitation. An
   * invitation made for a URL is accepted only by the node at that URL: a public one, and only
   * after it confirmed there, asked at that URL, that this acceptance is its own (anyone who holds
   * the code can send this request and claim that node's URL).
   */
  async handlePeerAccept(req: PeerAcceptRequest): Promise<PeerAcceptResponse> {
    const me = this.o.nodeInfo();
    await this.verifyAcceptor(req);
    return this.o.db.transaction(async (tx) => {
      const repo = this.repo.with(tx);
      const row = await repo.find(req.connectionId, { forUpdate: true });
      if (!row || row.role !== 'INITIATOR') throw unknownInvitation();
      if (row.invitation_revoked_at) throw revoked();
      if (row.deleted_at) throw unknownInvitation();
      if (row.handshake?.kind !== 'invitation') throw alreadyUsed();
      const body = issuedInvitation(row.handshake.code);
      if (!safeEqual(req.proof, proofOfSecret(body.secret, 'accept', req.connectionId, req.acceptor.node.instanceId, req.nonce))) throw unknownInvitation();
      // A retry by the same acceptor (its first answer was lost) may redo the handshake until it has proven the key.
      if (row.invitation_used_at && row.partner_instance_id !== req.acceptor.node.instanceId) throw alreadyUsed();
      if (!row.invitation_used_at && new Date(body.expiresAt) <= new Date()) throw expired(body.expiresAt);
      if (body.destination.url !== null && (req.acceptor.node.pollOnly || req.acceptor.node.nodeUrl !== body.destination.url)) {
        throw new AppError('INVITATION_NOT_FOR_THIS_NODE', `This invitation was created for the node at ${body.destination.url}. Accept it there.`);
      }
      const version = commonProtocolVersion(me.protocol, req.acceptor.node.protocol);
      if (version === null) throw incompatible(req.acceptor.node, me);
      const nonce = newNonce();
      const key = deriveConnectionKey(body.secret, req.connectionId, nonce, req.nonce);
      const partner = req.acceptor.node;
      const now = new Date();
      await repo.update(row.id, {
        status: 'ACTIVE',
        pending_step: null,
        partner_instance_id: partner.instanceId,
        partner_node_type: partner.nodeType,
        partner_node_url: partner.pollOnly ? null : partner.nodeUrl,
        partner_tracker_url: partner.trackerUrl,
        partner_poll_only: partner.pollOnly,
        protocol_version: version,
        invitation_used_at: row.invitation_used_at ?? now,
        connection_key: key,
        activated_at: now,
      });
      this.o.logger.info({ connectionId: row.id, partner: partner.instanceId }, 'invitation accepted by partner; connection established');
      return { initiator: { node: me }, nonce, confirm: keyConfirmation(key, 'initiator', req.connectionId) };
    });
  }

  /**
   * Before any state changes (and outside the transaction: this calls another node): the proof,
   * then, for an invitation made for a URL, the acceptor's claim to be the node at that URL.
   * Everything is checked again under the row's lock.
   */
  private async verifyAcceptor(req: PeerAcceptRequest): Promise<void> {
    const row = await this.repo.find(req.connectionId);
    if (!row || row.role !== 'INITIATOR' || row.deleted_at || row.handshake?.kind !== 'invitation') return;
    const body = issuedInvitation(row.handshake.code);
    // Without the secret this is no acceptance at all (and no reason to call anyone): the transaction refuses it.
    if (!safeEqual(req.proof, proofOfSecret(body.secret, 'accept', req.connectionId, req.acceptor.node.instanceId, req.nonce))) return;
    const invited = body.destination.url;
    if (invited === null) return;
    if (req.acceptor.node.pollOnly || req.acceptor.node.nodeUrl === null) {
      this.o.logger.warn(
        { connectionId: req.connectionId, code: 'INVITATION_NOT_FOR_THIS_NODE', reason: 'private-acceptor' },
        'acceptance refused: the invitation was made for a URL',
      );
      throw new AppError(
        'INVITATION_NOT_FOR_THIS_NODE',
        `This invitation was created for the node at ${invited}; a private node cannot accept it. Accept it on that node, or ask the other side to initiate with "I don't have a URL".`,
      );
    }
    if (req.acceptor.node.nodeUrl !== invited) return; // refused in the transaction, with its message
    const asked = await this.o.peers.verify(invited, { connectionId: req.connectionId, nonce: req.nonce });
    if (!asked.ok || !asked.value.accepting) {
      const why = asked.ok ? 'it is not accepting this invitation' : asked.error.kind === 'rejected' ? `it answered ${asked.error.code}` : asked.error.message;
      this.o.logger.warn(
        { connectionId: req.connectionId, code: 'ACCEPTOR_NOT_VERIFIED', reason: asked.ok ? 'not-accepting' : asked.error.kind },
        'acceptance refused: the node at the invited URL did not confirm it',
      );
      throw new AppError(
        'ACCEPTOR_NOT_VERIFIED',
        `This invitation was created for the node at ${invited}, and that node did not confirm that this acceptance is its own (${why}). Accept the invitation on that node's Exalate page; if you are its admin and see this, check that the node is reachable from the initiating node at that address.`,
      );
    }
  }

  /** The initiator asks us whether we are accepting its invitation with this nonce (see verifyAcceptor). */
  async handlePeerVerify(req: PeerVerifyRequest): Promise<PeerVerifyResponse> {
    return { accepting: await this.repo.isAccepting(req.connectionId, req.nonce) };
  }

  /** A private initiator asks us (the acceptor) whether its invitation was accepted here. */
  async handlePeerClaim(req: PeerClaimRequest): Promise<PeerClaimResponse> {
    const me = this.o.nodeInfo();
    const row = await this.repo.findLive(req.connectionId);
    if (!row || row.role !== 'ACCEPTOR' || row.partner_instance_id !== req.initiatorInstanceId) return { accepted: false };
    if (row.handshake?.kind !== 'awaiting-initiator') {
      throw new AppError('CONNECTION_STATE_CONFLICT', 'This connection was already completed.');
    }
    const { secret, nonce } = row.handshake;
    if (!safeEqual(req.proof, proofOfSecret(secret, 'claim', req.connectionId, req.initiatorInstanceId, req.nonce))) {
      throw new AppError('PEER_AUTH_FAILED', 'The claim does not prove knowledge of the invitation.');
    }
    const key = deriveConnectionKey(secret, req.connectionId, req.nonce, nonce);
    // Stays Pending until the initiator's first request signed with this key arrives.
    await this.repo.update(row.id, { connection_key: key });
    return { accepted: true, acceptor: { node: me }, nonce, confirm: keyConfirmation(key, 'acceptor', req.connectionId) };
  }

  /** Private initiator: go to the acceptor and collect the acceptance, if there is one yet. */
  async collectAcceptance(row: ConnectionRow): Promise<'accepted' | 'waiting' | 'failed'> {
    if (row.handshake?.kind !== 'invitation' || !row.destination_url) return 'failed';
    const me = this.o.nodeInfo();
    const body = issuedInvitation(row.handshake.code);
    const nonce = newNonce();
    const answer = await this.o.peers.claim(row.destination_url, {
      protocolVersion: PROTOCOL_VERSION.max,
      connectionId: row.id,
      initiatorInstanceId: me.instanceId,
      nonce,
      proof: proofOfSecret(body.secret, 'claim', row.id, me.instanceId, nonce),
    });
    if (!answer.ok) {
      this.o.logger.debug({ connectionId: row.id, reason: answer.error.kind }, 'could not reach the acceptor yet');
      return 'failed';
    }
    if (!answer.value.accepted) return 'waiting';
    const partner = answer.value.acceptor.node;
    const key = deriveConnectionKey(body.secret, row.id, nonce, answer.value.nonce);
    if (!safeEqual(answer.value.confirm, keyConfirmation(key, 'acceptor', row.id))) {
      this.o.logger.warn({ connectionId: row.id }, 'acceptor could not prove the connection key');
      return 'failed';
    }
    const version = commonProtocolVersion(me.protocol, partner.protocol);
    const now = new Date();
    const updated = await this.repo.update(row.id, {
      status: 'ACTIVE',
      pending_step: null,
      partner_instance_id: partner.instanceId,
      partner_node_type: partner.nodeType,
      partner_node_url: partner.nodeUrl,
      partner_tracker_url: partner.trackerUrl,
      partner_poll_only: partner.pollOnly,
      protocol_version: version,
      invitation_used_at: now,
      connection_key: key,
      handshake: null,
      activated_at: now,
    });
    this.o.logger.info({ connectionId: row.id, partner: partner.instanceId }, 'acceptance collected; connection established');
    await this.confirmKey(updated);
    return 'accepted';
  }

  // ───────────────────────── peer: signed requests ─────────────────────────

  /** Called for every verified signed request: the partner has proven it holds the key. */
  async keyProven(row: ConnectionRow): Promise<ConnectionRow> {
    if (row.handshake === null) return row;
    if (row.status === 'PENDING' && row.pending_step === 'AWAITING_INITIATOR') {
      this.o.logger.info({ connectionId: row.id }, 'private initiator completed the connection');
      return this.repo.update(row.id, { status: 'ACTIVE', pending_step: null, handshake: null, activated_at: new Date() });
    }
    return this.repo.update(row.id, { handshake: null });
  }

  async handlePartnerDeleted(row: ConnectionRow): Promise<void> {
    if (row.deleted_at) return;
    await this.repo.update(row.id, {
      status: 'ERROR',
      pending_step: null,
      status_reason:
        'The partner deleted this connection on their side, so nothing syncs any more. Delete it here too; initiate a new connection to sync again.',
    });
    this.o.onConnectionChanged(row.id);
    this.o.logger.warn({ connectionId: row.id }, 'partner deleted the connection');
  }

  signingIdentity(row: ConnectionRow): SigningIdentity {
    return {
      key: row.connection_key!,
      connectionId: row.id,
      localInstanceId: this.o.nodeInfo().instanceId,
      partnerInstanceId: row.partner_instance_id!,
    };
  }

  get repository(): ConnectionRepository {
    return this.repo;
  }

  // ───────────────────────── helpers ─────────────────────────

  private async confirmKey(row: ConnectionRow): Promise<void> {
    if (!row.partner_node_url || row.partner_poll_only) return;
    const done = await this.o.peers.confirm(row.partner_node_url, this.signingIdentity(row));
    if (!done.ok)
      this.o.logger.warn({ connectionId: row.id, reason: done.error.kind }, 'could not confirm the connection key yet; the next signed request will');
  }

  /** Format, checksum, expiry, addressing and compatibility: everything checkable without the initiator. */
  private decodeAndCheck(code: string): InvitationBody {
    const decoded = decodeInvitationCode(code);
    if (!decoded.ok) throw new AppError(decoded.error.code, decoded.error.message, { code: decoded.error.message });
    const body = decoded.value;
    const me = this.o.nodeInfo();
    if (body.initiator.node.instanceId === me.instanceId) {
      throw new AppError(
        'INVITATION_FROM_THIS_NODE',
        'This invitation was created on this node. Send it to the admin of the other side, who accepts it on their node.',
      );
    }
    if (body.destination.url !== null && body.destination.url !== me.nodeUrl) {
      throw new AppError(
        'INVITATION_NOT_FOR_THIS_NODE',
        `This invitation was created for the node at ${body.destination.url}, not this one${me.nodeUrl ? ` (${me.nodeUrl})` : ' (a private node)'}. Accept it on that node, or ask the other side to initiate a connection to this node.`,
      );
    }
    if (new Date(body.expiresAt) <= new Date()) throw expired(body.expiresAt);
    if (commonProtocolVersion(me.protocol, body.initiator.node.protocol) === null) throw incompatible(body.initiator.node, me);
    if (!me.modes.includes(body.mode)) {
      throw new AppError(
        'MODE_NOT_SUPPORTED',
        `The invitation is for a ${MODE_LABELS[body.mode]} mode connection, which this node does not offer. Ask the other side to initiate in one of: ${me.modes.map((m) => MODE_LABELS[m]).join(', ')}.`,
      );
    }
    if (body.initiator.node.pollOnly && me.pollOnly) {
      throw new AppError(
        'BOTH_SIDES_PRIVATE',
        "Both nodes are private, so neither can reach the other. One side must be reachable: ask the other side to initiate to this node's URL, or make one node public.",
      );
    }
    return body;
  }

  private async assertProject(project: string): Promise<void> {
    const projects = await this.o.listProjects();
    if (!projects.some((p) => p.key === project)) {
      throw new AppError(
        'PROJECT_UNKNOWN',
        `There is no project "${project}" here. Choose one of: ${projects.map((p) => p.key).join(', ') || '(none found)'}.`,
        { project: 'Unknown project.' },
      );
    }
  }

  private async assertNameFree(name: string): Promise<void> {
    if (await this.repo.nameTaken(name)) throw nameTaken(name);
  }

  /** The unique index is the real guard; this turns a lost race into the same clear error. */
  private async insertOrNameTaken(insert: () => Promise<ConnectionRow>, name: string): Promise<ConnectionRow> {
    try {
      return await insert();
    } catch (error) {
      if ((error as { code?: string }).code === '23505' && String((error as Error).message).includes('connections_live_name')) throw nameTaken(name);
      throw error;
    }
  }

  private async transition(id: string, from: ConnectionRow['status'], to: ConnectionRow['status'], conflict: string): Promise<ConnectionView> {
    const row = await this.mustFindLive(id);
    if (row.status !== from) throw new AppError('CONNECTION_STATE_CONFLICT', `${conflict} This one is ${row.status}.`);
    const updated = await this.repo.update(id, { status: to, status_reason: null });
    this.o.onConnectionChanged(id);
    this.o.logger.info({ connectionId: id, status: to }, 'connection status changed');
    return toView(updated);
  }

  private async mustFindLive(id: string): Promise<ConnectionRow> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.repo.findLive(id) : null;
    if (!row) throw new AppError('CONNECTION_NOT_FOUND', `There is no connection ${id} on this node. Refresh the connection list.`);
    return row;
  }
}

/** An invitation this node issued and stored: decoding cannot fail unless the database was edited. */
function issuedInvitation(code: string): InvitationBody {
  const decoded = decodeInvitationCode(code);
  if (!decoded.ok) throw new Error(`stored invitation does not decode: ${decoded.error.code}`);
  return decoded.value;
}

const nameTaken = (name: string) =>
  new AppError('CONNECTION_NAME_TAKEN', `A connection named "${name}" already exists on this node. Choose another name.`, {
    name: 'Already used by another connection.',
  });
const unknownInvitation = () =>
  new AppError(
    'INVITATION_UNKNOWN',
    "The initiating node does not know this invitation: it was not issued there, or that node's data was reset. Ask the other side to initiate a new connection.",
  );
const revoked = () =>
  new AppError('INVITATION_REVOKED', 'The other side revoked this invitation. Ask them to initiate a new connection and send you the new code.');
const alreadyUsed = () =>
  new AppError('INVITATION_ALREADY_USED', 'This invitation has already been accepted. An invitation code works once; ask the other side for a new one.');
const expired = (at: string) =>
  new AppError('INVITATION_EXPIRED', `This invitation expired on ${at}. Ask the other side to initiate a new connection and send you the new code.`);
const incompatible = (partner: NodeInfo, me: NodeInfo) =>
  new AppError(
    'DESTINATION_PROTOCOL_INCOMPATIBLE',
    `The other node speaks protocol versions ${partner.protocol.min}–${partner.protocol.max}; this node speaks ${me.protocol.min}–${me.protocol.max}. The side with the older Exalate version must upgrade.`,
  );

function destinationError(url: string, error: PeerCallError): AppError {
  switch (error.kind) {
    case 'not-allowed':
      return new AppError('DESTINATION_NOT_ALLOWED', error.message, { destinationUrl: error.message });
    case 'unreachable':
      return new AppError(
        'DESTINATION_UNREACHABLE',
        `Could not reach ${url}: ${error.message}. Check the URL with the partner's admin. If their node cannot be reached from here, choose "I don't have a URL".`,
        { destinationUrl: 'Unreachable.' },
      );
    default:
      return new AppError(
        'DESTINATION_NOT_A_NODE',
        `${url} answered, but it is not an Exalate node (${error.kind === 'rejected' ? `HTTP ${error.status}` : error.message}). Enter the node URL shown on the partner's Exalate page, not the tracker's own address.`,
        { destinationUrl: 'Not an Exalate node.' },
      );
  }
}

function initiatorError(url: string, error: PeerCallError): AppError {
  if (error.kind === 'rejected') return new AppError(error.code, error.message);
  const why =
    error.kind === 'bad-answer'
      ? `${url} did not answer as an Exalate node (${error.message})`
      : `could not reach the initiating node at ${url}: ${error.message}`;
  return new AppError(
    'INITIATOR_UNREACHABLE',
    `The invitation is fine, but ${why}. Nothing was created; try again when that node is reachable, or ask its admin to check it.`,
  );
}
