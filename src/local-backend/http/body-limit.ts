/** LOCAL_BACKEND_MAX_BODY_BYTES' default: twice the gateway's own MAX_BODY_BYTES default. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
