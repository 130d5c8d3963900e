/* Node→cloud topic parsing of the local cloud (docs/protocol.md §3.2): both forms, and everything else refused. */
import assert from "node:assert/strict";
import {nodeTopic, parseNodeTopic} from "../host/cloud/topics";

describe("local cloud: node topics", function () {
	it("parses the plain and the basic-ingest form to the same node id and suffix", function () {
		assert.deepEqual(parseNodeTopic("node/abc/otafetch"), {nodeId: "abc", suffix: "otafetch"});
		assert.deepEqual(parseNodeTopic("$aws/rules/esp_node_otafetch/node/abc/otafetch"), {
			nodeId: "abc",
			suffix: "otafetch",
			rule: "esp_node_otafetch",
		});
		assert.deepEqual(parseNodeTopic("$aws/rules/esp_init_params/node/abc/params/local/init"), {
			nodeId: "abc",
			suffix: "params/local/init",
			rule: "esp_init_params",
		});
		assert.deepEqual(parseNodeTopic("node/abc/params/local/group-1"), {
			nodeId: "abc",
			suffix: "params/local/group-1",
		});
	});

	it("refuses other topics", function () {
		for (const topic of [
			"node/abc",
			"node//otafetch",
			"node/abc/",
			"node/abc//x",
			"nodes/abc/otafetch",
			"$aws/rules/r/abc/otafetch",
			"$aws/rules//node/abc/otafetch",
			"$aws/things/abc/streams/1/get/cbor",
			"$SYS/broker/uptime",
			"",
			"/node/abc/otafetch",
		])
			assert.equal(parseNodeTopic(topic), undefined, topic);
	});

	it("builds cloud→node topics in the plain form", function () {
		assert.equal(nodeTopic("abc", "otaurl"), "node/abc/otaurl");
	});
});
