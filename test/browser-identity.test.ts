// Reading the browser tracker's id cookie (`<prefix>id.<hash>`, browser-tracker-core's id_cookie.ts) and the
// collector's `sp` cookie from a Cookie header: the formats trackers write, several trackers, and hostile values.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readBrowserIdentity } from '../plugin/index.js';
import { MAX_INDEX } from '../plugin/session/state.js';

const DUID = '5b3f2d1e-4c6a-4e8b-9d0f-1a2b3c4d5e6f';
const SID = 'c0ffee00-1111-4222-8333-444455556666';
const PREVIOUS = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const FIRST_EVENT = '0e1d2c3b-4a59-4687-9766-554433221100';
const NUID = '9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a';
/** A cookie as browser tracker 4.x writes it: duid.createTs.visitCount.nowTs.lastVisitTs.sessionId.previousSessionId.firstEventId.firstEventTs.eventIndex */
const V4_VALUE = `${DUID}.1767261600.3.1767268800.1767200000.${SID}.${PREVIOUS}.${FIRST_EVENT}.1767268790123.7`;

describe('readBrowserIdentity: what trackers write', () => {
  it('reads every field of a 4.x id cookie, its live session (the ses cookie) and the sp cookie', () => {
    const identity = readBrowserIdentity(`other=1; _sp_id.1fff=${V4_VALUE}; _sp_ses.1fff=*; sp=${NUID}`);
    expect(identity.idCookie).toEqual({
      name: '_sp_id.1fff',
      prefix: '_sp_',
      hash: '1fff',
      domainUserId: DUID,
      createdAt: 1767261600_000,
      sessionIndex: 3,
      lastActivityAt: 1767268800_000,
      previousVisitAt: 1767200000_000,
      sessionId: SID,
      previousSessionId: PREVIOUS,
      firstEventId: FIRST_EVENT,
      firstEventTimestamp: 1767268790123,
      eventIndex: 7,
      sessionLive: true,
    });
    expect(identity.networkUserId).toBe(NUID);
    expect(identity.rejected).toEqual([]);
  });

  it('a session without its ses cookie is not live (the browser opens a new one at its next event)', () => {
    expect(readBrowserIdentity(`_sp_id.1fff=${V4_VALUE}`).idCookie!.sessionLive).toBe(false);
    expect(readBrowserIdentity(`_sp_id.1fff=${V4_VALUE}; _sp_ses.2aaa=*`).idCookie!.sessionLive).toBe(false); // another tracker's
  });

  it('reads empty fields as absent: before the first event, under anonymous tracking, and the literal "undefined"', () => {
    const beforeFirstEvent = readBrowserIdentity(`_sp_id.1fff=${DUID}.1767261600.1.1767261600..${SID}....0`).idCookie!;
    expect(beforeFirstEvent).toMatchObject({ domainUserId: DUID, previousVisitAt: null, previousSessionId: null, firstEventId: null, firstEventTimestamp: null, eventIndex: 0 });
    const anonymous = readBrowserIdentity(`_sp_id.1fff=.1767261600.2.1767268800..${SID}..${FIRST_EVENT}.1767268790123.4`).idCookie!;
    expect(anonymous).toMatchObject({ domainUserId: null, sessionId: SID, sessionIndex: 2, eventIndex: 4 });
    const undefinedFields = readBrowserIdentity(`_sp_id.1fff=${DUID}.1767261600.1.1767261600..${SID}.undefined.undefined.undefined.undefined`).idCookie!;
    expect(undefinedFields).toMatchObject({ previousSessionId: null, firstEventId: null, firstEventTimestamp: null, eventIndex: 0 });
  });

  it('reads the shorter cookies of older trackers: 2.5–3.4 (6 fields) and 2.0–2.4 (5 fields, a 16-hex domain user id)', () => {
    expect(readBrowserIdentity(`_sp_id.1fff=${DUID}.1467261600.12.1467268800.1467200000.${SID}`).idCookie).toMatchObject({ domainUserId: DUID, sessionIndex: 12, sessionId: SID, eventIndex: 0 });
    expect(readBrowserIdentity('_sp_id.1fff=a1b2c3d4e5f60718.1367261600.4.1367268800.1367200000').idCookie).toMatchObject({ domainUserId: 'a1b2c3d4e5f60718', sessionIndex: 4, sessionId: null });
  });

  it('takes any prefix (the tracker\'s cookieName), or only the one asked for', () => {
    const header = `_acme_id.0a1b=${V4_VALUE}; id.9f9f=${V4_VALUE.replace(DUID, PREVIOUS)}`;
    expect(readBrowserIdentity(header).idCookies.map((c) => c.prefix).sort()).toEqual(['', '_acme_']);
    expect(readBrowserIdentity(header, { idCookiePrefix: '_acme_' }).idCookies.map((c) => c.name)).toEqual(['_acme_id.0a1b']);
    expect(readBrowserIdentity(header, { idCookiePrefix: '_sp_' }).idCookie).toBeNull();
  });

  it('with several trackers\' cookies, the one with a live session speaks first, then the most recently written', () => {
    const older = V4_VALUE.replace('1767268800', '1767265000').replace(DUID, PREVIOUS);
    const identity = readBrowserIdentity(`_sp_id.aaaa=${V4_VALUE}; _sp2_id.bbbb=${older}; _sp2_ses.bbbb=*`);
    expect(identity.idCookies.map((c) => c.name)).toEqual(['_sp2_id.bbbb', '_sp_id.aaaa']); // live first, though older
    const neitherLive = readBrowserIdentity(`_sp2_id.bbbb=${older}; _sp_id.aaaa=${V4_VALUE}`);
    expect(neitherLive.idCookie!.name).toBe('_sp_id.aaaa');
  });

  it('reads a percent-encoded value as the browser tracker writes it (encodeURIComponent)', () => {
    expect(readBrowserIdentity(`_sp_id.1fff=${encodeURIComponent(V4_VALUE).replace(/\./g, '%2E')}`).idCookie!.domainUserId).toBe(DUID);
  });

  it('an absent or empty header has no identity', () => {
    for (const header of [undefined, null, '', ';;;', 'a']) expect(readBrowserIdentity(header)).toEqual({ idCookie: null, idCookies: [], rejected: [], networkUserId: null });
  });
});

describe('readBrowserIdentity: hostile and malformed values are rejected, never thrown', () => {
  const rejects = (value: string) => {
    const identity = readBrowserIdentity(`_sp_id.1fff=${value}`);
    expect(identity.idCookie).toBeNull();
    expect(identity.rejected).toEqual(['_sp_id.1fff']);
  };

  it.each([
    ['a domain user id that is not a tracker\'s', V4_VALUE.replace(DUID, '<script>alert(1)</script>')],
    ['an upper-case id (trackers write lower case)', V4_VALUE.replace(DUID, DUID.toUpperCase())],
    ['the nil UUID as domain user id', V4_VALUE.replace(DUID, '00000000-0000-0000-0000-000000000000')],
    ['a session id that is not a UUID (Enrich would fail the event)', V4_VALUE.replace(SID, 'not-a-session')],
    ['a negative visit count', V4_VALUE.replace('.3.', '.-3.')],
    ['a visit count past the schema maximum', V4_VALUE.replace('.3.', `.${MAX_INDEX + 1}.`)],
    ['an event index past the schema maximum', V4_VALUE.replace(/\.7$/, `.${MAX_INDEX + 1}`)],
    ['a timestamp with a fraction', V4_VALUE.replace('1767261600', '1767261600.5')],
    ['a timestamp of 11 digits', V4_VALUE.replace('1767261600', '17672616000')],
    ['too many fields', `${V4_VALUE}.1`],
    ['too few fields', `${DUID}.1.2.3`],
    ['a value far too long', `${DUID}.${'1'.repeat(600)}`],
    ['spaces around a field', V4_VALUE.replace('.3.', '. 3.')],
  ])('%s', (_, value) => rejects(value));

  it('an sp cookie that is not a collector\'s UUID, or the nil UUID of anonymous requests, is no network user id', () => {
    for (const value of ['00000000-0000-0000-0000-000000000000', 'hello', `${NUID}x`]) {
      const identity = readBrowserIdentity(`sp=${value}`);
      expect(identity.networkUserId).toBeNull();
      expect(identity.rejected).toEqual(['sp']);
    }
    expect(readBrowserIdentity(`sp=${NUID}`, { networkUserIdCookie: false }).networkUserId).toBeNull();
    expect(readBrowserIdentity(`nuid=${NUID}`, { networkUserIdCookie: 'nuid' }).networkUserId).toBe(NUID);
  });

  it('parses at most 16 look-alike names, so a header of thousands costs little', () => {
    const header = Array.from({ length: 2000 }, (_, i) => `x${i}id.abcd=${V4_VALUE}`).join('; ');
    expect(readBrowserIdentity(header).idCookies).toHaveLength(16);
  });

  it('cookie names such as __proto__ or constructor change nothing', () => {
    const identity = readBrowserIdentity(`__proto__=x; constructor=y; _sp_id.1fff=${V4_VALUE}; toString=z`);
    expect(identity.idCookie!.domainUserId).toBe(DUID);
    expect(identity.rejected).toEqual([]);
  });

  it('any header at all: never throws, and whatever it accepts is well-formed', () => {
    const field = fc.oneof(fc.constantFrom('', 'undefined', DUID, SID, '1767261600', '3', '-1', 'NaN', '1e3', '%', '%E0%A4%A'), fc.string({ maxLength: 40 }));
    const value = fc.array(field, { minLength: 0, maxLength: 12 }).map((fields) => fields.join('.'));
    const header = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.array(fc.tuple(fc.constantFrom('_sp_id.1fff', '_sp_ses.1fff', 'sp', 'x_id.abcd', 'id.0000', '_sp_id.ZZZZ'), value), { maxLength: 6 }).map((pairs) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')),
    );
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    fc.assert(
      fc.property(header, (raw) => {
        const identity = readBrowserIdentity(raw);
        for (const cookie of identity.idCookies) {
          expect(cookie.domainUserId === null || uuid.test(cookie.domainUserId) || /^[0-9a-f]{16}$/.test(cookie.domainUserId)).toBe(true);
          for (const id of [cookie.sessionId, cookie.previousSessionId, cookie.firstEventId]) expect(id === null || uuid.test(id)).toBe(true);
          for (const n of [cookie.sessionIndex ?? 0, cookie.eventIndex]) expect(Number.isInteger(n) && n >= 0 && n <= MAX_INDEX).toBe(true);
        }
        expect(identity.networkUserId === null || uuid.test(identity.networkUserId)).toBe(true);
      }),
      { numRuns: 2000, seed: 23 },
    );
  });
});
