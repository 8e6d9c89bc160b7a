/**
 * Seccomp for brig: OCI `linux.seccomp` profiles compiled to classic BPF in TypeScript. The
 * native helper only loads the bytes, as its last step before exec:
 *
 *   prctl(PR_SET_NO_NEW_PRIVS, 1); seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog)
 *
 * where prog = { len: instructions, filter: bytes }. With `notify` the call returns a
 * listener fd to hand to the agent at `listenerPath`.
 */
export { SECCOMP_FILTER_FLAG_NEW_LISTENER, SECCOMP_FILTER_FLAG_TSYNC } from './actions.js';
export { BPF_MAXINSNS, decode, disassemble } from './bpf.js';
export { type CompileOptions, compileSeccomp } from './compile.js';
export { type DefaultProfileOptions, defaultSeccompProfile } from './default-profile.js';
export type * from './types.js';
