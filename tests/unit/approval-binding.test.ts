/*
 * The approval binds end to end (docs/ota-lifecycle.md, "Approval settle time", "A cancelled
 * job"): a remote `start` right after Info changed is refused, so it cannot approve an offer the
 * user never saw; a job the cloud cancels is withdrawn from the node at once.
 */
import assert from "node:assert/strict";
import {jobFor, SimNode, V2, V3} from "./support/sim-node";

function remoteStart(node: SimNode): void {
	node.broker.publish(`node/${node.nodeId}/params/remote`, JSON.stringify({OTA: {Operation: "start"}}));
	node.advance(10);
}

describe("the approval binds end to end", () => {
	let node: SimNode;

	afterEach(() => node?.close());

	it("finding 6: a start 100 ms after another job replaced the offer is refused; the replaced offer is not installed; after the settle time it is approved", () => {
		node = new SimNode({nodeId: "settle-node"});
		node.powerOn();
		const seen = jobFor(node, "job-seen", V2, "2.0.0");
		node.job = seen;
		node.command("check");
		node.until(() => node.firmware?.ota.offer?.jobId === "job-seen", "the first offer");
		node.advance(30_000); // the user reads Info: 2.0.0
		const pushed = jobFor(node, "job-pushed", V3, "3.0.0");
		node.job = pushed;
		node.broker.publish("node/settle-node/otaurl", JSON.stringify(pushed)); // a force push replaces the offer
		node.advance(100);
		assert.equal(node.firmware!.ota.offer?.jobId, "job-pushed");
		remoteStart(node); // the user's start, meant for 2.0.0
		assert.equal(node.firmware!.ota.state, "offered", "not approved");
		assert.match(
			node.texts("job-pushed").at(-1) ?? "",
			/^delayed: Start refused: the offer changed \d+ ms before it, too soon for a user to have seen it; read Info again and approve$/,
		);
		assert.ok(!node.log.messages().some(line => /Installing approved OTA/.test(line)));
		node.advance(2_000);
		remoteStart(node);
		assert.ok(
			node.log.messages().some(line => /Installing approved OTA job job-pushed/.test(line)),
			"a start after the settle time approves the offer shown",
		);
	});

	it("finding 6: the console's ota start reads the node itself and needs no settle time", () => {
		node = new SimNode({nodeId: "console-node"});
		node.powerOn();
		node.offerAndApprove(jobFor(node, "job-console", V2, "2.0.0"));
		assert.equal(node.firmware!.ota.state, "approved");
	});

	it("finding 7: a cancel of the approved job withdraws it at once: Info cleared, rejected with a text that says so", () => {
		node = new SimNode({nodeId: "cancel-node"});
		node.powerOn();
		const job = jobFor(node, "job-cancel", V2, "2.0.0");
		node.offerAndApprove(job);
		node.job = undefined; // the cloud no longer serves it
		node.advance(5_000);
		assert.equal(node.firmware!.ota.state, "approved");
		node.broker.publish("node/cancel-node/otaurl", JSON.stringify({ota_job_id: "job-cancel", cancelled: true}));
		node.advance(10);
		assert.equal(node.firmware!.ota.state, "idle");
		assert.deepEqual(node.infos().at(-1), {});
		assert.equal(node.texts("job-cancel").at(-1), "rejected: Job cancelled by the cloud: offer withdrawn");
		// A cancel of another job leaves the shown offer alone.
		node.offerAndApprove(jobFor(node, "job-other", V2, "2.0.0"));
		node.job = undefined;
		node.broker.publish("node/cancel-node/otaurl", JSON.stringify({ota_job_id: "job-cancel", cancelled: true}));
		node.advance(10);
		assert.equal(node.firmware!.ota.state, "approved");
	});
});
