import type { Payload, PayloadBuilder } from '@snowplow/tracker-core';
import type { SessionLogger } from './options.js';

/** The visitor's browser ids a request's events carry in the atomic fields (joined sessions). */
export interface AtomicIds {
  /** `domain_userid` */
  duid: string | null;
  /** `network_userid` */
  nuid: string | null;
  /** `domain_sessionid` */
  sid: string | null;
  /** `domain_sessionidx` */
  vid: number | null;
}

export type AtomicField = keyof AtomicIds;
/** What the plugin set on an event, as sent (strings). */
export type WrittenIds = Partial<Record<AtomicField, string>>;

/** node-tracker's tracker-global setter of each field; it writes after every plugin. */
const SETTERS: Record<AtomicField, string> = { duid: 'setDomainUserId', nuid: 'setNetworkUserId', sid: 'setSessionId', vid: 'setSessionIndex' };

/**
 * Sets `ids` on the event and records them in `written`. Anonymous tracking sends no user identifier
 * (`duid`, `nuid`), as the browser tracker's anonymous session tracking sends only `sid` and `vid`.
 */
export function writeAtomicIds(pb: PayloadBuilder, ids: AtomicIds, anonymous: boolean, written: WrittenIds): void {
  const write = (field: AtomicField, value: string | number | null) => {
    if (value === null) return;
    written[field] = String(value);
    pb.add(field, written[field]);
  };
  if (!anonymous) {
    write('duid', ids.duid);
    write('nuid', ids.nuid);
  }
  write('sid', ids.sid);
  write('vid', ids.vid);
}

/**
 * node-tracker adds the values of its tracker-global `setDomainUserId`, `setNetworkUserId`, `setSessionId` and
 * `setSessionIndex` to every event after all plugins ran, so they win over what the plugin set for the
 * request. This sees it on the sent payload and says so once.
 */
export class TrackerGlobalIdsCheck {
  #warned = false;

  constructor(private readonly logger: SessionLogger) {}

  check(payload: Payload, written: WrittenIds): void {
    if (this.#warned) return;
    for (const field of Object.keys(written) as AtomicField[]) {
      const sent = payload[field];
      if (sent === undefined || String(sent) === written[field]) continue;
      this.#warned = true;
      this.logger.warn(
        `snowplow-client-session: the tracker's ${SETTERS[field]}() replaced the \`${field}\` this plugin set for the event (${written[field]} became ${String(sent)}): ` +
          'node-tracker writes setDomainUserId/setNetworkUserId/setSessionId/setSessionIndex values into every event after all plugins, whichever request it is for. ' +
          'In a server, do not set them (unset them with \'\', which node-tracker does not send) and let the plugin set each request\'s ids. (Warned once.)',
      );
      return;
    }
  }
}
