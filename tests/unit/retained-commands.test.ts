/*
 * A node never acts on a retained command (docs/local-cloud.md, "MQTT identities"; the cloud
 * publishes every command with retain false, docs/protocol.md §3.1). A retained `otaurl` or
 * `params/remote` was left on a broker by some client and would come back on every reconnect.
 */
import assert from "node:assert/strict";
import {jobFor, SimNode, V2} from "./support/sim-node";

describe("the node and retained commands", () => {
	let node: SimNode;

	afterEach(() => node?.close());

	it("ignores a retained otaurl and a retained Operation=start; the same messages unretained are acted on", () => {
		node = new SimNode({nodeId: "retain-node"});
		node.powerOn();
		const job = jobFor(node, "job-retained", V2, "2.0.0");
		node.broker.publish("node/retain-node/otaurl", JSON.stringify(job), true);
		node.advance(10);
		assert.equal(node.firmware!.ota.offer, undefined, "a retained otaurl is not offered");
		assert.ok(node.log.messages().some(line => /retained message on node\/retain-node\/otaurl ignored/.test(line)));
		node.broker.publish("node/retain-node/otaurl", JSON.stringify(job));
		node.until(() => node.firmware?.ota.offer?.jobId === "job-retained", "the offer");
		node.broker.publish("node/retain-node/params/remote", JSON.stringify({OTA: {Operation: "start"}}), true);
		node.advance(10);
		assert.equal(node.firmware!.ota.state, "offered", "a retained start approves nothing");
		assert.ok(
			node.log
				.messages()
				.some(line => /retained message on node\/retain-node\/params\/remote ignored/.test(line)),
		);
	});
});
