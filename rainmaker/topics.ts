/*
 * MQTT topics of a RainMaker node (docs/protocol.md §3.2, §3.3; esp_rmaker_create_mqtt_topic).
 *
 * Publish topics come in two forms: "plain" `node/<id>/<suffix>` and AWS IoT "basic ingest"
 * `$aws/rules/<rule>/node/<id>/<suffix>`. The reference defaults to basic ingest
 * (CONFIG_ESP_RMAKER_MQTT_USE_BASIC_INGEST_TOPICS=y) only to save AWS messaging costs and makes it
 * optional; the RainMaker cloud accepts the plain form too. This project defaults to "plain"
 * (DEFAULT_TOPIC_FORM) because a local broker or test cloud sees plain topics with ordinary
 * wildcard subscriptions (`node/+/otafetch`), whereas `$` topics never match a wildcard filter
 * and some brokers refuse them altogether (docs/protocol.md §11 item 5, docs/protocol.md §12). Subscriptions are always plain.
 */

export type TopicForm = "plain" | "basic-ingest";

/** See the file comment for why plain is the default. */
export const DEFAULT_TOPIC_FORM: TopicForm = "plain";

/** Basic-ingest rule names (docs/protocol.md §3.3). */
export const RULE_NODE_CONFIG = "esp_node_config";
export const RULE_SET_PARAMS = "esp_set_params";
export const RULE_INIT_PARAMS = "esp_init_params";
export const RULE_OTA_FETCH = "esp_node_otafetch";
export const RULE_OTA_STATUS = "esp_node_otastatus";

/** Topic suffixes after `node/<id>/` (docs/protocol.md §3.3). */
export const SUFFIX_CONFIG = "config";
export const SUFFIX_PARAMS_LOCAL = "params/local";
export const SUFFIX_PARAMS_LOCAL_INIT = "params/local/init";
export const SUFFIX_PARAMS_REMOTE = "params/remote";
export const SUFFIX_OTA_FETCH = "otafetch";
export const SUFFIX_OTA_URL = "otaurl";
export const SUFFIX_OTA_STATUS = "otastatus";

/** A node→cloud topic. */
export function publishTopic(nodeId: string, suffix: string, rule: string, form: TopicForm): string {
	return form === "basic-ingest" ? `$aws/rules/${rule}/node/${nodeId}/${suffix}` : `node/${nodeId}/${suffix}`;
}

/** A cloud→node topic to subscribe to (always plain). */
export function subscribeTopic(nodeId: string, suffix: string): string {
	return `node/${nodeId}/${suffix}`;
}
