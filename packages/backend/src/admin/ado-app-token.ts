import type { Request } from 'express';
import { decodeJwt, errors as joseErrors, jwtVerify } from 'jose';
import { AppError } from '../errors.js';
import type { AdoExtensionAuth } from '../config.js';
import type { AdminAuthenticator } from './authenticator.js';

/** The issuer Azure DevOps puts in every extension app token. */
export const ADO_APP_TOKEN_ISSUER = 'app.vstoken.visualstudio.com';
/** The header the hub sends the user's Azure DevOps access token in (SDK.getAccessToken()). */
export const ADO_ACCESS_TOKEN_HEADER = 'x-azure-devops-access-token';

/**
 * Admits the Exalate hub inside Azure DevOps. The hub sends two tokens from the SDK:
 * - `Authorization: Bearer <app token>` (`SDK.getAppToken()`): a JWT the service signs with the
 *   extension's key. It proves the request comes from our extension and names the user (`nameid`),
 *   but not the organization: one extension key serves every organization that installed it.
 * - `X-Azure-DevOps-Access-Token` (`SDK.getAccessToken()`): the user's token for the organization
 *   the page runs in. Asking this node's own organization who that token belongs to
 *   (`_apis/connectionData`) proves the user is signed in to it, so an app token from another
 *   organization's installation cannot administer this node.
 * A verified pair is remembered until the app token expires, so a page's calls cost one check.
 * https://learn.microsoft.com/azure/devops/extend/develop/auth
 */
export function adoAppTokenAuthenticator(o: AdoExtensionAuth & { organizationUrl: string; fetch?: typeof fetch; now?: () => number }): AdminAuthenticator {
  const key = new TextEncoder().encode(o.secret);
  const doFetch = o.fetch ?? ((...args) => fetch(...args));
  const now = o.now ?? Date.now;
  const organization = o.organizationUrl.replace(/\/+$/, '');
  const verified = new Map<string, number>();

  return async (req: Request) => {
    const header = req.headers.authorization ?? '';
    if (!header.startsWith('Bearer ')) return false;
    const appToken = header.slice(7);
    // An admin token is not a JWT; leave it to the other authenticators.
    if (appToken.split('.').length !== 3) return false;
    const accessToken = String(req.headers[ADO_ACCESS_TOKEN_HEADER] ?? '');
    const cacheKey = `${appToken}\n${accessToken}`;
    const until = verified.get(cacheKey);
    if (until !== undefined && until > now()) return true;

    let claims;
    try {
      ({ payload: claims } = await jwtVerify(appToken, key, {
        algorithms: ['HS256'],
        issuer: ADO_APP_TOKEN_ISSUER,
        audience: o.audience,
        clockTolerance: 30,
        currentDate: new Date(now()),
      }));
    } catch (error) {
      throw new AppError('UNAUTHENTICATED', appTokenProblem(error, o.audience, appToken));
    }
    const userId = typeof claims['nameid'] === 'string' ? claims['nameid'] : null;
    if (!userId)
      throw new AppError(
        'UNAUTHENTICATED',
        'The Azure DevOps app token names no user (no nameid claim). Reload the page from Organization settings → Exalate.',
      );
    if (!accessToken) {
      throw new AppError(
        'UNAUTHENTICATED',
        'The request carries no Azure DevOps access token, so this node cannot tell which organization you are signed in to. Open Exalate from Organization settings in Azure DevOps.',
      );
    }

    let response: Response;
    try {
      // https://learn.microsoft.com/rest/api/azure/devops/ (Location: GET _apis/connectionData)
      response = await doFetch(`${organization}/_apis/connectionData?api-version=7.1-preview`, {
        headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new AppError(
        'TRACKER_UNAVAILABLE',
        `This node could not reach its Azure DevOps organization (${organization}) to check who you are. Try again; if it persists, check the node's network and its tracker URL.`,
      );
    }
    if (response.status === 401 || response.status === 403) {
      throw new AppError(
        'UNAUTHENTICATED',
        `You are not signed in to ${organization}, the organization this node serves. Open Exalate from that organization's settings.`,
      );
    }
    if (!response.ok)
      throw new AppError('TRACKER_UNAVAILABLE', `Azure DevOps answered HTTP ${response.status} when this node checked who you are. Try again in a moment.`);
    const who = (await response.json().catch(() => null)) as { authenticatedUser?: { id?: string } } | null;
    if (who?.authenticatedUser?.id?.toLowerCase() !== userId.toLowerCase()) {
      throw new AppError(
        'UNAUTHENTICATED',
        `The Azure DevOps app token and access token belong to different users, or to another organization than ${organization}. Reload the page from Organization settings → Exalate.`,
      );
    }

    if (verified.size >= 1000) verified.clear();
    verified.set(cacheKey, (claims.exp ?? 0) * 1000);
    return true;
  };
}

function appTokenProblem(error: unknown, expected: string, token: string): string {
  if (error instanceof joseErrors.JWTExpired) return 'The Azure DevOps app token has expired. Reload the page to get a new one.';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) {
    return "The Azure DevOps app token is not signed with the extension key this node has. Set the node's extension key to the one shown under Certificate for the Exalate extension in the Marketplace.";
  }
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    if (error.claim === 'aud') {
      // jose checks claims only after the signature, so this token was signed with our extension's
      // key: naming its audience helps the operator set the node up, and gives nothing away.
      const aud = String(decodeJwt(token).aud ?? '');
      return `The Azure DevOps app token was issued to another extension (${aud}) than the one this node is set up for (${expected}). If ${aud} is your Exalate extension's id, set the node's adoExtension.audience to it.`;
    }
    if (error.claim === 'iss') return 'The token was not issued by Azure DevOps (wrong issuer).';
    if (error.claim === 'nbf') return 'The Azure DevOps app token is not valid yet. Check the clock of the machine that runs the node.';
    return `The Azure DevOps app token was refused: ${error.message}.`;
  }
  return 'The Authorization header does not hold a valid Azure DevOps app token. Open Exalate from Organization settings in Azure DevOps.';
}
