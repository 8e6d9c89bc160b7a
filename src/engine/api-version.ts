/**
 * The Docker Engine API versions brig's engine speaks (its shapes follow docker 20.10's, API
 * 1.41, the reference engine of the tests). `version` reports them; `brig serve` will
 * negotiate with them.
 */
export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.24';
