import { closestName } from '../util/closest-name.js';

/** Every option `createClientSession` takes: a name outside this list is a mistake, not an extension. */
export const OPTION_NAMES = [
  'store',
  'foregroundTimeout',
  'backgroundTimeout',
  'now',
  'logger',
  'writeInterval',
  'checkInterval',
  'maxSessionLength',
  'newSessionOnUserChange',
  'sessionEvents',
  'atomicSessionFields',
  'sessionKey',
  'retention',
  'onSessionStart',
  'onSessionEnd',
  'onSessionUpdate',
  'onError',
  'loadTimeout',
  'requireStore',
  'anonymous',
  'continueSessionOnRestart',
  'onForeground',
  'onBackground',
  'clock',
] as const;

/** The known name closest to `name`, if it is close enough to be a typo. */
export function closestOption(name: string): string | undefined {
  return closestName(name, OPTION_NAMES);
}
