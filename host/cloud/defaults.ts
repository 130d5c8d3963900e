/* The fixed ports of `rainmaker-ota-xs cloud`, also the approval client's default base URL. */
export const DEFAULT_MQTT_PORT = 1883;
export const DEFAULT_MQTTS_PORT = 8883;
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_HTTPS_PORT = 8443;
export const DEFAULT_REST_BASE_URL = `http://127.0.0.1:${DEFAULT_HTTP_PORT}/v1/`;
