/* The local cloud survives garbage on its sockets and clients that vanish mid-request. */
import assert from "node:assert/strict";
import {connect} from "node:net";
import {startCloud, type Cloud} from "../host/cloud/cloud";
import {userFetch} from "./support/cloud-login";
import {announce} from "./support/cloud-fixtures";
import {connectMqttNode} from "./support/mqtt-node";

/** Sends bytes on a raw TCP connection and resolves once the server closed it (or after `end`). */
function sendRaw(url: string, bytes: Buffer | string, end = true): Promise<string> {
	const {hostname, port} = new URL(url);
	return new Promise(resolve => {
		const socket = connect(Number(port), hostname, () => {
			socket.write(bytes);
			if (end) socket.end();
			else setImmediate(() => socket.destroy());
		});
		let answer = "";
		socket.on("data", chunk => (answer += chunk.toString()));
		socket.on("error", () => {});
		socket.on("close", () => resolve(answer));
	});
}

describe("local cloud: robustness", function () {
	let cloud: Cloud;
	const warnings: string[] = [];

	beforeEach(async function () {
		cloud = await startCloud();
		cloud.events.on("warning", message => warnings.push(message));
	});

	afterEach(async function () {
		await cloud.close();
	});

	it("keeps working after garbage on the MQTT and HTTP ports and aborted requests", async function () {
		await sendRaw(cloud.mqttUrl, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3]));
		await sendRaw(cloud.mqttUrl, Buffer.from("GET / HTTP/1.1\r\n\r\n"));
		// A CONNECT cut in the middle.
		await sendRaw(cloud.mqttUrl, Buffer.from([0x10, 0x20, 0x00, 0x04, 0x4d, 0x51]), false);
		const badHttp = await sendRaw(cloud.httpUrl, "BLAH\r\n\r\n");
		assert.match(badHttp, /^HTTP\/1\.1 400/);
		// A body that never arrives in full.
		await sendRaw(
			cloud.httpUrl,
			'PUT /v1/user/nodes/params HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[{"node_id"',
			false,
		);
		const node = await connectMqttNode(cloud.mqttUrl, "sturdy");
		await announce(node);
		assert.equal((await userFetch(cloud, "user/nodes/params?node_id=sturdy")).status, 200);
		await node.close();
		assert.ok(warnings.length > 0, "the garbage was noticed");
	});
});
