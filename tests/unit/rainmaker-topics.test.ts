import assert from "node:assert/strict";
import {
	DEFAULT_TOPIC_FORM,
	RULE_INIT_PARAMS,
	RULE_NODE_CONFIG,
	RULE_OTA_FETCH,
	RULE_OTA_STATUS,
	RULE_SET_PARAMS,
	publishTopic,
	subscribeTopic,
} from "../../rainmaker/topics";
import {parseNodeTopic} from "../../host/cloud/topics";

describe("rainmaker topics (docs/protocol.md §3.2, §3.3)", () => {
	it("builds plain and basic-ingest publish topics", () => {
		assert.equal(publishTopic("abc", "config", RULE_NODE_CONFIG, "plain"), "node/abc/config");
		assert.equal(
			publishTopic("abc", "config", RULE_NODE_CONFIG, "basic-ingest"),
			"$aws/rules/esp_node_config/node/abc/config",
		);
		assert.equal(
			publishTopic("abc", "params/local/init", RULE_INIT_PARAMS, "basic-ingest"),
			"$aws/rules/esp_init_params/node/abc/params/local/init",
		);
		assert.equal(
			publishTopic("abc", "params/local", RULE_SET_PARAMS, "basic-ingest"),
			"$aws/rules/esp_set_params/node/abc/params/local",
		);
		assert.equal(
			publishTopic("abc", "otafetch", RULE_OTA_FETCH, "basic-ingest"),
			"$aws/rules/esp_node_otafetch/node/abc/otafetch",
		);
		assert.equal(publishTopic("abc", "otastatus", RULE_OTA_STATUS, "plain"), "node/abc/otastatus");
	});

	it("subscribes on plain topics and defaults to the plain form", () => {
		assert.equal(subscribeTopic("abc", "params/remote"), "node/abc/params/remote");
		assert.equal(DEFAULT_TOPIC_FORM, "plain");
	});

	it("the cloud parses what the node publishes, in either form, back to the node and suffix", () => {
		for (const form of ["plain", "basic-ingest"] as const) {
			const parsed = parseNodeTopic(publishTopic("abc", "otafetch", RULE_OTA_FETCH, form));
			assert.deepEqual(
				{nodeId: parsed?.nodeId, suffix: parsed?.suffix},
				{nodeId: "abc", suffix: "otafetch"},
				form,
			);
		}
	});
});
