/**
 * Restart policies as dockerd checks them (daemon/container.go validateRestartPolicy). The
 * decision to restart is the monitor's, by docker's restart manager (native/monitor/main.c).
 */
import { BrigError } from '../../errors/index.js';
import type { RestartPolicy } from '../containers/config.js';
import type { RestartPolicyName } from '../monitor/plan.js';

const NAMES = ['no', 'always', 'unless-stopped', 'on-failure'];

/** The policy as recorded: docker's {Name: "no"} when none was asked for. */
export function checkRestartPolicy(p: RestartPolicy | undefined, autoRemove: boolean): Required<RestartPolicy> {
  const name = p?.Name || 'no';
  const max = p?.MaximumRetryCount ?? 0;
  if (!NAMES.includes(name)) {
    throw new BrigError('INVALID_ARGUMENT', `invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`, {
      field: 'HostConfig.RestartPolicy.Name',
    });
  }
  if (!Number.isInteger(max)) throw new BrigError('INVALID_ARGUMENT', 'invalid restart policy: maximum retry count must be an integer', { field: 'HostConfig.RestartPolicy.MaximumRetryCount' });
  if (name !== 'on-failure' && max !== 0) {
    throw new BrigError('INVALID_ARGUMENT', "invalid restart policy: maximum retry count can only be used with 'on-failure'", { field: 'HostConfig.RestartPolicy.MaximumRetryCount' });
  }
  if (max < 0) throw new BrigError('INVALID_ARGUMENT', 'invalid restart policy: maximum retry count cannot be negative', { field: 'HostConfig.RestartPolicy.MaximumRetryCount' });
  if (autoRemove && name !== 'no') {
    throw new BrigError('INVALID_ARGUMENT', "can't create 'AutoRemove' container with restart policy", { field: 'HostConfig.RestartPolicy' });
  }
  return { Name: name as RestartPolicy['Name'], MaximumRetryCount: max };
}

export function policyName(p: RestartPolicy | undefined): RestartPolicyName {
  return (p?.Name || 'no') as RestartPolicyName;
}
