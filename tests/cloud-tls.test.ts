/*
 * The local cloud with TLS: MQTT over TLS requiring a client certificate from the test CA (as
 * RainMaker's mutual X.509), HTTPS downloads in otaurl, and the REST API over HTTPS.
 */
import assert from "node:assert/strict";
import {mkdtempSync, rmSync} from "node:fs";
import {get as httpsGet} from "node:https";
import {tmpdir} from "node:os";
import {join} from "node:path";
import mqtt from "mqtt";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {authorization, userFetch} from "./support/cloud-login";
import {makeTestPki, type TestPki} from "../host/pki";
import {announce, fixtureBytes, fixtureImage} from "./support/cloud-fixtures";
import {connectMqttNode, type MqttNode} from "./support/mqtt-node";

function httpsDownload(url: string, ca: string, range?: string): Promise<{status: number; body: Buffer}> {
	return new Promise((resolve, reject) => {
		httpsGet(url, {ca, headers: range ? {Range: range} : {}}, response => {
			const chunks: Buffer[] = [];
			response.on("data", (chunk: Buffer) => chunks.push(chunk));
			response.on("end", () => resolve({status: response.statusCode!, body: Buffer.concat(chunks)}));
			response.on("error", reject);
		}).on("error", reject);
	});
}

describe("local cloud: TLS", function () {
	let dir: string;
	let pki: TestPki;
	let cloud: Cloud;
	const nodes: MqttNode[] = [];

	before(function () {
		this.timeout(60_000);
		dir = mkdtempSync(join(tmpdir(), "cloud-tls-"));
		pki = makeTestPki(dir, "tls-node");
	});

	after(function () {
		rmSync(dir, {recursive: true, force: true});
	});

	beforeEach(async function () {
		cloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert}});
	});

	afterEach(async function () {
		await Promise.all(nodes.splice(0).map(node => node.close()));
		await cloud.close();
	});

	it("runs otafetch → otaurl over MQTT/TLS with a client certificate, with an https image URL that serves the file", async function () {
		assert.match(cloud.mqttsUrl ?? "", /^mqtts:\/\/127\.0\.0\.1:\d+$/);
		assert.match(cloud.downloadBaseUrl, /^https:\/\/127\.0\.0\.1:\d+\/ota\/$/);
		const node = await connectMqttNode(cloud.mqttsUrl!, "tls-node", {
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		nodes.push(node);
		await announce(node, true);
		const image = await cloud.addImage(fixtureImage("synthetic/app-2.0.0.bin"));
		const job = await cloud.createJob({imageId: image.id, nodes: ["tls-node"]});
		await node.publish("otafetch", {node_id: "tls-node", fw_version: "1.0.0"}, "esp_node_otafetch");
		const otaurl = JSON.parse((await node.next("otaurl")).payload) as {ota_job_id: string; url: string};
		assert.equal(otaurl.ota_job_id, job.id);
		assert.match(otaurl.url, /^https:\/\/127\.0\.0\.1:\d+\/ota\/img_[0-9a-f]+\.bin$/);
		const whole = await httpsDownload(otaurl.url, pki.caCert);
		assert.equal(whole.status, 200);
		assert.deepEqual(whole.body, fixtureBytes("synthetic/app-2.0.0.bin"));
		const tail = await httpsDownload(otaurl.url, pki.caCert, "bytes=69000-");
		assert.equal(tail.status, 206);
		assert.equal(tail.body.length, whole.body.length - 69000);
	});

	it("refuses an MQTT/TLS client without a client certificate, and keeps serving others", async function () {
		const refused = await mqtt
			.connectAsync(cloud.mqttsUrl!, {
				clientId: "intruder",
				ca: pki.caCert,
				reconnectPeriod: 0,
				connectTimeout: 3000,
			})
			.then(
				client => client.endAsync().then(() => "connected"),
				(error: Error) => error.message,
			);
		assert.notEqual(refused, "connected");
		const node = await connectMqttNode(cloud.mqttsUrl!, "tls-node", {
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		nodes.push(node);
		assert.ok(node.client.connected);
		assert.equal(cloud.node("intruder"), undefined);
	});

	it("with a CA runs no certificate-less MQTT listener unless plainMqtt asks for it", async function () {
		assert.equal(cloud.mqttUrl, "");
		await cloud.close();
		cloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert}, plainMqtt: true});
		assert.match(cloud.mqttUrl, /^mqtt:\/\/127\.0\.0\.1:\d+$/);
	});

	it("refuses a certificate whose CN is not the client id, and a certificate for one node publishing to another", async function () {
		const refused = await mqtt
			.connectAsync(cloud.mqttsUrl!, {
				clientId: "other-node",
				ca: pki.caCert,
				cert: pki.clientCert,
				key: pki.clientKey,
				reconnectPeriod: 0,
				connectTimeout: 3000,
			})
			.then(
				client => client.endAsync().then(() => "connected"),
				(error: Error) => error.message,
			);
		assert.match(refused, /Not authorized|Bad username or password|connack/i);
		const node = await connectMqttNode(cloud.mqttsUrl!, "tls-node", {
			ca: pki.caCert,
			cert: pki.clientCert,
			key: pki.clientKey,
		});
		nodes.push(node);
		const closed = new Promise<void>(resolve => node.client.once("close", () => resolve()));
		node.client.publish(
			"node/other-node/otastatus",
			JSON.stringify({ota_job_id: "x", status: "success", additional_info: "forged"}),
			{qos: 0},
		);
		await closed;
		assert.equal(cloud.node("other-node"), undefined);
		assert.deepEqual(cloud.unknownReports, []);
	});

	it("serves the REST API over HTTPS and keeps plain HTTP (and plain MQTT when asked for)", async function () {
		await cloud.close();
		cloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert}, plainMqtt: true});
		const plain = await connectMqttNode(cloud.mqttUrl, "plain-node");
		nodes.push(plain);
		await announce(plain);
		const headers = await authorization(cloud);
		const answer = await new Promise<{status: number; body: string}>((resolve, reject) => {
			httpsGet(
				new URL("user/nodes/params?node_id=plain-node", cloud.httpsUrl!),
				{ca: pki.caCert, headers},
				response => {
					let body = "";
					response.on("data", (chunk: Buffer) => (body += chunk.toString()));
					response.on("end", () => resolve({status: response.statusCode!, body}));
				},
			).on("error", reject);
		});
		assert.equal(answer.status, 200);
		assert.deepEqual(JSON.parse(answer.body), {OTA: {Operation: "", Info: {}}});
		assert.equal((await userFetch(cloud, "user/nodes/params?node_id=plain-node")).status, 200);
	});

	it("sends http image URLs with otaUrlScheme http, and refuses https URLs without TLS", async function () {
		const httpCloud = await startCloud({tls: {key: pki.serverKey, cert: pki.serverCert}, otaUrlScheme: "http"});
		try {
			assert.match(httpCloud.downloadBaseUrl, /^http:\/\//);
		} finally {
			await httpCloud.close();
		}
		await assert.rejects(startCloud({otaUrlScheme: "https"}), /needs tls/);
	});
});
