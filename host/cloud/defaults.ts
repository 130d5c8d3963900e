/* The fixed ports of `rainmaker-ota-xs cloud`, also the approval client's default base URL. */
export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTTS_PORT = 8883;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_HTTPS_PORT = 8443;
export const DEFAULT_REST_BASE_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}/v1/`;

/**
 * The user of a cloud started from code without `users` (tests, the demo). `rainmaker-ota-xs cloud`
 * never uses it: without --user it makes a user with a random password and prints it.
 */
export const DEFAULT_USER = {userName: "user@rainmaker.local", password: "rainmaker-local"} as const;
