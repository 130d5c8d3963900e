/*
 * MQTT identities as AWS IoT / RainMaker enforce them, tried as an attacker would (docs/local-cloud.md,
 * "MQTT identities"): a client publishes and subscribes only under its own node's topics; a
 * publish elsewhere ends its connection and reaches nobody; a wildcard subscription is refused.
 * And the reports the cloud keeps stay bounded under junk. (Certificates: cloud-tls.test.ts.)
 */
import assert from "node:assert/strict";
import mqtt, {type MqttClient} from "mqtt";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {MAX_HISTORY, MAX_INFO_CHARS, MAX_STRAY_REPORTS} from "../host/cloud/jobs";
import {MAX_MESSAGE_BYTES} from "../host/cloud/identity";
import {announce, drain, fixtureImage} from "./support/cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

describe("local cloud: MQTT identities and bounded reports", function () {
	this.timeout(60_000);
	let cloud: Cloud;
	const clients: MqttClient[] = [];
	const nodes: MqttNode[] = [];

	beforeEach(async function () {
		cloud = await startCloud();
	});

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(node => node.close()));
		await Promise.all(clients.splice(0).map(client => client.endAsync(true)));
		await cloud.close();
	});

	async function node(nodeId: string): Promise<MqttNode> {
		const connected = await connectMqttNode(cloud.mqttUrl, nodeId);
		nodes.push(connected);
		await announce(connected);
		return connected;
	}

	async function client(clientId: string): Promise<MqttClient> {
		const connected = await mqtt.connectAsync(cloud.mqttUrl, {clientId, reconnectPeriod: 0, connectTimeout: 5000});
		clients.push(connected);
		return connected;
	}

	/** Publishes and resolves when the broker has closed the connection (the answer to a refused publish). */
	async function publishAndBeDropped(attacker: MqttClient, topic: string, payload: unknown): Promise<void> {
		const closed = new Promise<void>(resolve => attacker.once("close", () => resolve()));
		attacker.publish(topic, typeof payload === "string" ? payload : JSON.stringify(payload), {qos: 1});
		await closed;
	}

	it("refuses an anonymous client's otaurl and Operation=start for another node: disconnected, nothing delivered", async function () {
		const victim = await node("victim-1");
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		await publishAndBeDropped(await client("attacker-1"), "node/victim-1/otaurl", {
			ota_job_id: "evil",
			url: cloud.imageUrl(image),
			file_size: image.fileSize,
			fw_version: "6.6.6",
		});
		await publishAndBeDropped(await client("attacker-1"), "node/victim-1/params/remote", {
			OTA: {Operation: "start"},
		});
		// As the cloud itself cannot write there either: another node's identity gets nothing through.
		await publishAndBeDropped(await client("attacker-1"), "$aws/rules/esp_set_params/node/victim-1/params/remote", {
			OTA: {Operation: "start"},
		});
		await drain(cloud, victim);
		assert.deepEqual(victim.on("otaurl"), []);
		assert.deepEqual(
			victim.on("params/remote").map(message => message.payload),
			[JSON.stringify({Probe: {n: JSON.parse(victim.on("params/remote")[0]!.payload).Probe.n}})],
		);
		assert.equal(cloud.node("attacker-1"), undefined, "a refused client does not become a node");
	});

	it("refuses a forged success (both topic forms) for another node's job: the job stays as the node reported it", async function () {
		const victim = await node("victim-2");
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		const job = await cloud.createJob({imageId: image.id, nodes: ["victim-2"]});
		await victim.publish("otastatus", {
			ota_job_id: job.id,
			status: "delayed",
			additional_info: "Waiting for Approval",
		});
		await cloud.waitForStatus("victim-2", job.id, "delayed");
		const forged = {ota_job_id: job.id, status: "success", additional_info: "forged"};
		await publishAndBeDropped(await client("attacker-2"), "node/victim-2/otastatus", forged);
		await publishAndBeDropped(
			await client("attacker-2"),
			"$aws/rules/esp_ota_status/node/victim-2/otastatus",
			forged,
		);
		// The victim's next report is handled, so anything the attacker got through would have been handled first.
		await victim.publish("otastatus", {
			ota_job_id: job.id,
			status: "delayed",
			additional_info: "Waiting for Approval",
		});
		await cloud.waitForStatus(
			"victim-2",
			job.id,
			report => cloud.statuses("victim-2", job.id).length === 2 && report.status === "delayed",
		);
		assert.deepEqual(
			cloud.statuses("victim-2", job.id).map(report => report.additionalInfo),
			["Waiting for Approval", "Waiting for Approval"],
		);
		assert.equal(cloud.jobState("victim-2", job.id)?.closed, false);
	});

	it("refuses wildcard and foreign subscriptions; the cloud's otaurl reaches only its node", async function () {
		const victim = await node("victim-3");
		const spy = await node("spy-3");
		for (const filter of ["#", "node/+/otaurl", "node/victim-3/otaurl", "node/victim-3/#", "$aws/#", "+/+/+"])
			await assert.rejects(spy.client.subscribeAsync(filter, {qos: 1}), /Subscribe error/, filter);
		assert.deepEqual(
			(await spy.client.subscribeAsync("node/spy-3/#", {qos: 1})).map(grant => grant.qos),
			[1],
		);
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		const job = await cloud.createJob({imageId: image.id, nodes: ["victim-3"]});
		await victim.publish("otafetch", {node_id: "victim-3", fw_version: "1.0.0"});
		assert.equal(JSON.parse((await victim.next("otaurl")).payload).ota_job_id, job.id);
		await drain(cloud, spy);
		assert.deepEqual(
			spy.received.filter(message => !message.topic.startsWith("node/spy-3/")),
			[],
		);
	});

	it("refuses messages over 128 KiB, and keeps junk reports bounded in count and size", async function () {
		const junk = await connectMqttNode(cloud.mqttUrl, "junk-4");
		nodes.push(junk);
		const big = JSON.stringify({
			ota_job_id: "junk",
			status: "failed",
			additional_info: "x".repeat(4 * 1024 * 1024),
		});
		await publishAndBeDropped(junk.client, "node/junk-4/otastatus", big);
		assert.equal(cloud.unknownReports.length, 0);

		const sender = await connectMqttNode(cloud.mqttUrl, "junk-4");
		nodes.push(sender);
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		const job = await cloud.createJob({imageId: image.id, nodes: ["junk-4"]});
		const info = "y".repeat(MAX_MESSAGE_BYTES - 4096);
		for (let index = 0; index < MAX_STRAY_REPORTS + 20; index++)
			await sender.publish("otastatus", {
				ota_job_id: `junk-${index}-${"z".repeat(1000)}`,
				status: "failed",
				additional_info: info,
			});
		for (let index = 0; index < MAX_HISTORY + 20; index++)
			await sender.publish("otastatus", {
				ota_job_id: job.id,
				status: "in-progress",
				additional_info: `${index} ${info}`,
			});
		const malformed = cloud.waitFor("malformed-status");
		await sender.publish("otastatus", "not json at all ".repeat(1000));
		await malformed;
		assert.equal(cloud.unknownReports.length, MAX_STRAY_REPORTS);
		assert.match(
			cloud.unknownReports[cloud.unknownReports.length - 1]!.jobId,
			new RegExp(`^junk-${MAX_STRAY_REPORTS + 19}-z+… \\(\\d+ characters\\)$`),
		);
		const history = cloud.statuses("junk-4", job.id);
		assert.equal(history.length, MAX_HISTORY);
		assert.match(history.at(-1)!.additionalInfo, new RegExp(`^${MAX_HISTORY + 19} y+… \\(\\d+ characters\\)$`));
		const kept = [...cloud.unknownReports, ...history].reduce(
			(sum, report) => sum + report.additionalInfo.length + report.jobId.length,
			0,
		);
		assert.ok(kept < (MAX_STRAY_REPORTS + MAX_HISTORY) * (MAX_INFO_CHARS + 200), `${kept} characters kept`);
		assert.ok(cloud.malformedReports[0]!.payload.length < 300);
		assert.ok(sender.client.connected, "a node's own reports, junk or not, do not cost it its connection");
	});
});
