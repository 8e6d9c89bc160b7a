/**
 * Durations as docker prints them (go-units HumanDuration): ps's CREATED and STATUS, the
 * images' CREATED. Used by the engine (the API's Status strings) and the CLI alike.
 */
/** docker's go-units HumanDuration, to the letter: seconds and minutes truncated, hours rounded. */
export function humanDuration(ms: number): string {
  const sec = Math.trunc(ms / 1000);
  if (sec < 1) return 'Less than a second';
  if (sec === 1) return '1 second';
  if (sec < 60) return `${sec} seconds`;
  const min = Math.trunc(ms / 60_000);
  if (min === 1) return 'About a minute';
  if (min < 60) return `${min} minutes`;
  const hours = Math.trunc(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(ms / 3_600_000 / 24 / 365)} years`;
}
