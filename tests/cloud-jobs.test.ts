/*
 * The local cloud's OTA job behaviour over MQTT, with a real mqtt.js client playing the node:
 * otafetch → otaurl for default, force-push and user-approval jobs, both topic forms, the per-node
 * state machine (delayed served again, success/rejected terminal, failed configurable), newest
 * job first, and reports for unknown jobs.
 */
import assert from "node:assert/strict";
import {ErrorCode} from "../host/cloud/http-json";
import {userFetch} from "./support/cloud-login";
import {startCloud, type Cloud, type CloudOptions, type OtafetchEvent} from "../host/cloud/cloud";
import type {OtaImage} from "../host/cloud/images";
import {announce, drain, fixtureBytes, fixtureImage, md5Hex} from "./support/cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

describe("local cloud: OTA jobs over MQTT", function () {
	let cloud: Cloud;
	let image: OtaImage;
	const nodes: MqttNode[] = [];

	async function start(options: CloudOptions = {}): Promise<void> {
		cloud = await startCloud(options);
		image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
	}

	async function node(nodeId: string, rule = false): Promise<MqttNode> {
		const connected = await connectMqttNode(cloud.mqttUrl, nodeId);
		nodes.push(connected);
		await announce(connected, rule);
		return connected;
	}

	/** Publishes an otafetch and resolves with the cloud's handling of it. */
	async function otafetch(mqttNode: MqttNode, rule = false): Promise<OtafetchEvent> {
		const handled = cloud.waitFor("otafetch", event => event.nodeId === mqttNode.nodeId);
		await mqttNode.publish(
			"otafetch",
			{node_id: mqttNode.nodeId, fw_version: "1.0.0"},
			rule ? "esp_node_otafetch" : undefined,
		);
		return handled;
	}

	async function report(
		mqttNode: MqttNode,
		jobId: string,
		status: string,
		additionalInfo: string,
		rule = false,
	): Promise<void> {
		const recorded = cloud.waitFor(
			"status",
			event =>
				event.nodeId === mqttNode.nodeId && event.jobId === jobId && event.additionalInfo === additionalInfo,
		);
		await mqttNode.publish(
			"otastatus",
			{ota_job_id: jobId, status, additional_info: additionalInfo, ts: 1700000000},
			rule ? "esp_node_otastatus" : undefined,
		);
		await recorded;
	}

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(mqttNode => mqttNode.close()));
		await cloud?.close();
	});

	it("answers an otafetch with the docs/protocol.md §4.2 otaurl of a default job, QoS 1 and not retained", async function () {
		await start();
		const n1 = await node("node-a");
		const job = await cloud.createJob({
			imageId: image.id,
			nodes: ["node-a"],
			metadata: {"esp.ota.target": "esp32"},
		});
		const fetched = await otafetch(n1);
		assert.equal(fetched.servedJobId, job.id);
		assert.equal(fetched.fwVersion, "1.0.0");
		const message = await n1.next("otaurl");
		assert.equal(message.qos, 1);
		assert.equal(message.retain, false);
		const bytes = fixtureBytes("synthetic/app-2.0.0.bin");
		assert.deepEqual(JSON.parse(message.payload), {
			ota_job_id: job.id,
			url: cloud.imageUrl(image),
			file_size: bytes.length,
			fw_version: "2.0.0",
			file_md5: md5Hex(bytes),
			metadata: {"esp.ota.target": "esp32"},
		});
		assert.ok(cloud.imageUrl(image).startsWith(cloud.downloadBaseUrl));
		assert.equal(image.model, "rainmaker-ota-xs");
		assert.equal(cloud.node("node-a")?.fetchedFwVersion, "1.0.0");
		assert.equal(cloud.jobState("node-a", job.id)?.status, "triggered");
		assert.equal(cloud.jobState("node-a", job.id)?.servedCount, 1);
	});

	it("accepts every node→cloud topic in the $aws/rules/<rule>/ form", async function () {
		await start();
		const n1 = await node("node-b", true);
		assert.equal((cloud.node("node-b")?.config as {node_id?: string})?.node_id, "node-b");
		assert.deepEqual(cloud.node("node-b")?.params, {OTA: {Operation: "", Info: {}}});
		const merged = cloud.waitFor("params", event => !event.init);
		await n1.publish("params/local", {OTA: {Info: {job_id: "x"}}}, "esp_set_params");
		await merged;
		assert.deepEqual(cloud.node("node-b")?.params, {OTA: {Operation: "", Info: {job_id: "x"}}});
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-b"]});
		assert.equal((await otafetch(n1, true)).servedJobId, job.id);
		assert.equal(JSON.parse((await n1.next("otaurl")).payload).ota_job_id, job.id);
		await report(n1, job.id, "in-progress", "Downloading Firmware Image", true);
		assert.equal(cloud.jobState("node-b", job.id)?.status, "in-progress");
	});

	it("serves nothing when the node has no open job", async function () {
		await start();
		const n1 = await node("node-c");
		await cloud.createJob({imageId: image.id, nodes: ["someone-else"]});
		assert.equal((await otafetch(n1)).servedJobId, undefined);
		await drain(cloud, n1);
		assert.equal(n1.on("otaurl").length, 0);
	});

	it("serves a delayed job again, and ends it on success", async function () {
		await start();
		const n1 = await node("node-d");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-d"]});
		await otafetch(n1);
		await n1.next("otaurl");
		await report(n1, job.id, "delayed", "Waiting for Approval");
		assert.equal((await otafetch(n1)).servedJobId, job.id, "delayed keeps the job open");
		await n1.next("otaurl");
		await report(n1, job.id, "in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)");
		await report(n1, job.id, "in-progress", "Rebooting into new firmware (after 1 HTTPS attempt)");
		await report(n1, job.id, "success", "OTA Upgrade finished and verified successfully");
		assert.equal((await otafetch(n1)).servedJobId, undefined, "success ends the job");
		assert.equal(cloud.jobState("node-d", job.id)?.closed, true);
		assert.deepEqual(
			cloud.statuses("node-d", job.id).map(entry => [entry.status, entry.additionalInfo, entry.ts]),
			[
				["delayed", "Waiting for Approval", 1700000000],
				["in-progress", "Starting OTA Upgrade (HTTPS attempt 1/3)", 1700000000],
				["in-progress", "Rebooting into new firmware (after 1 HTTPS attempt)", 1700000000],
				["success", "OTA Upgrade finished and verified successfully", 1700000000],
			],
		);
		const waited = await cloud.waitForStatus("node-d", job.id, "success");
		assert.equal(waited.additionalInfo, "OTA Upgrade finished and verified successfully");
	});

	it("ends a job on rejected", async function () {
		await start();
		const n1 = await node("node-e");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-e"]});
		await otafetch(n1);
		await report(n1, job.id, "rejected", "Project Name mismatch");
		assert.equal((await otafetch(n1)).servedJobId, undefined);
		assert.equal(cloud.jobState("node-e", job.id)?.status, "rejected");
	});

	it("serves a failed job again by default", async function () {
		await start();
		assert.equal(cloud.failedIsTerminal, false);
		const n1 = await node("node-f");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-f"]});
		await otafetch(n1);
		await report(n1, job.id, "failed", "OTA Attempt 3/3 failed: Complete data was not received");
		assert.equal((await otafetch(n1)).servedJobId, job.id);
	});

	it("ends a job on failed with failedIsTerminal", async function () {
		await start({failedIsTerminal: true});
		const n1 = await node("node-g");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-g"]});
		await otafetch(n1);
		await report(n1, job.id, "failed", "OTA Attempt 1/3 failed: Image validation failed");
		assert.equal((await otafetch(n1)).servedJobId, undefined);
		// Later reports of the running attempt are still recorded and shown.
		await report(n1, job.id, "in-progress", "Starting OTA Upgrade (HTTPS attempt 2/3)");
		assert.equal(cloud.jobState("node-g", job.id)?.status, "in-progress");
		assert.equal((await otafetch(n1)).servedJobId, undefined);
	});

	it("serves the newest of several open jobs, then the older one once the newer is finished", async function () {
		await start();
		const older = await cloud.createJob({imageId: image.id, nodes: ["node-h"]});
		const newer = await cloud.createJob({
			imageId: (await cloud.addImage(fixtureImage("synthetic/app-1.1.0.bin"))).id,
			nodes: ["node-h"],
		});
		const n1 = await node("node-h");
		assert.equal((await otafetch(n1)).servedJobId, newer.id);
		assert.equal(JSON.parse((await n1.next("otaurl")).payload).fw_version, "1.1.0");
		await report(n1, newer.id, "rejected", "Same version received");
		assert.equal((await otafetch(n1)).servedJobId, older.id);
		cloud.cancelJob(older.id);
		assert.equal((await otafetch(n1)).servedJobId, undefined, "a cancelled job is not served");
	});

	it("pushes a force-push job at once to online nodes and to the others on their otafetch", async function () {
		await start();
		const online = await node("node-i");
		const pushed = cloud.waitFor("otaurl", event => event.nodeId === "node-i");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-i", "node-j"], forcePush: true});
		assert.equal((await pushed).reason, "force-push");
		assert.equal(JSON.parse((await online.next("otaurl")).payload).ota_job_id, job.id);
		assert.equal(cloud.jobState("node-j", job.id)?.servedCount, 0);
		const later = await node("node-j");
		assert.equal((await otafetch(later)).servedJobId, job.id);
		await later.next("otaurl");
	});

	it("holds a user-approval job until POST user/nodes/ota_update, then pushes and serves it", async function () {
		await start();
		const n1 = await node("node-k");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-k"], userApproval: true, forcePush: true});
		assert.equal((await otafetch(n1)).servedJobId, undefined, "not before approval");
		const offer = (await (await userFetch(cloud, "user/nodes/ota_update?node_id=node-k")).json()) as Record<
			string,
			unknown
		>;
		assert.equal(offer.ota_available, true);
		assert.equal(offer.ota_job_id, job.id);
		assert.equal(offer.fw_version, "2.0.0");
		assert.equal(offer.file_size, image.fileSize);
		const pushed = cloud.waitFor("otaurl", event => event.nodeId === "node-k");
		const answer = await userFetch(cloud, "user/nodes/ota_update", {
			method: "POST",
			body: JSON.stringify({ota_job_id: job.id, node_id: "node-k"}),
		});
		assert.equal(answer.status, 200);
		assert.deepEqual(await answer.json(), {status: "success", description: "OTA update pushed to the node"});
		assert.equal((await pushed).reason, "approval");
		assert.equal(JSON.parse((await n1.next("otaurl")).payload).ota_job_id, job.id);
		assert.equal((await otafetch(n1)).servedJobId, job.id, "served on later fetches once approved");
		const after = (await (await userFetch(cloud, "user/nodes/ota_update?node_id=node-k")).json()) as Record<
			string,
			unknown
		>;
		assert.equal(after.ota_available, false);
	});

	it("refuses the approval of an offline node with 400 Node is offline", async function () {
		await start();
		const n1 = await node("node-l");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-l"], userApproval: true});
		const offline = cloud.waitFor("offline", nodeId => nodeId === "node-l");
		await n1.close();
		nodes.splice(nodes.indexOf(n1), 1);
		await offline;
		assert.equal(cloud.node("node-l")?.online, false);
		const answer = await userFetch(cloud, "user/nodes/ota_update", {
			method: "POST",
			body: JSON.stringify({ota_job_id: job.id, node_id: "node-l"}),
		});
		assert.equal(answer.status, 400);
		assert.deepEqual(await answer.json(), {
			status: "failure",
			description: "Node is offline",
			error_code: ErrorCode.nodeOffline,
		});
		// Back online from its CONNECT alone (a reconnecting node publishes nothing, docs/protocol.md §3.4).
		const online = cloud.waitFor("online", nodeId => nodeId === "node-l");
		nodes.push(await connectMqttNode(cloud.mqttUrl, "node-l"));
		await online;
		assert.equal(cloud.node("node-l")?.online, true);
	});

	it("dropMqttClients cuts the nodes off (offline), and a reconnecting node is online again", async function () {
		await start();
		const n1 = await node("node-n");
		const closed = new Promise<void>(resolve => n1.client.once("close", () => resolve()));
		const offline = cloud.waitFor("offline", nodeId => nodeId === "node-n");
		cloud.dropMqttClients();
		await Promise.all([closed, offline]);
		assert.equal(cloud.node("node-n")?.online, false);
		const online = cloud.waitFor("online", nodeId => nodeId === "node-n");
		nodes.push(await connectMqttNode(cloud.mqttUrl, "node-n"));
		await online;
		assert.equal(cloud.node("node-n")?.online, true);
	});

	it("records and ignores a status for an unknown job, and survives unreadable payloads", async function () {
		await start();
		const n1 = await node("node-m");
		const job = await cloud.createJob({imageId: image.id, nodes: ["node-m"]});
		const unknown = cloud.waitFor("status", event => !event.known);
		await n1.publish("otastatus", {
			ota_job_id: "job_nonexistent",
			status: "success",
			additional_info: "late report",
			ts: 5,
		});
		assert.equal((await unknown).jobId, "job_nonexistent");
		assert.deepEqual(
			cloud.unknownReports.map(entry => [entry.nodeId, entry.jobId, entry.status]),
			[["node-m", "job_nonexistent", "success"]],
		);
		const malformed = cloud.waitFor("malformed-status");
		await n1.publish("otastatus", "{not json");
		assert.equal((await malformed).problem, "payload is not JSON");
		await n1.publish("otastatus", {status: "success"});
		await n1.publish("config", "[1,2]");
		await n1.publish("otafetch", "garbage");
		// A status string outside docs/protocol.md §4.3 is kept in the history but does not change the state.
		await report(n1, job.id, "invalid", "odd");
		assert.equal(cloud.jobState("node-m", job.id)?.status, "triggered");
		assert.equal(cloud.malformedReports.length, 2);
		assert.equal((await otafetch(n1)).servedJobId, job.id, "the job is still served");
	});
});
