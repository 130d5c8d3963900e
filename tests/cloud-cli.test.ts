/*
 * `rainmaker-ota-xs cloud` (cloudCommand): options, images and a job from the command line, a
 * clean stop, and clear errors for bad options and a taken port.
 */
import assert from "node:assert/strict";
import {createServer, type AddressInfo} from "node:net";
import type {Cloud} from "../host/cloud/cloud";
import {cloudCommand, type CommandIo} from "../host/cloud/main";
import {announce, fixtureImage} from "./support/cloud-fixtures";
import {connectMqttNode} from "./support/mqtt-node";

function capture(): CommandIo & {lines: string[]; errors: string[]} {
	const lines: string[] = [];
	const errors: string[] = [];
	return {lines, errors, out: (line) => lines.push(line), err: (line) => errors.push(line)};
}

describe("cloud command", function () {
	it("runs with images and a user-approval job until stopped, then exits 0", async function () {
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>((resolve) => ready = resolve);
		const running = cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--image", fixtureImage("synthetic/app-1.1.0.bin"),
			"--image", fixtureImage("synthetic/app-2.0.0.bin"), "--job-node", "cli-node", "--user-approval", "--failed-terminal", "--quiet"],
		{...io, signal: stop.signal, onReady: ready});
		const cloud = await started;
		assert.equal(cloud.failedIsTerminal, true);
		const jobs = cloud.jobs();
		assert.equal(jobs.length, 1);
		assert.deepEqual([jobs[0]!.nodes, jobs[0]!.userApproval, jobs[0]!.forcePush, cloud.image(jobs[0]!.imageId)?.fwVersion], [["cli-node"], true, false, "2.0.0"]);
		assert.match(io.lines[0]!, /^image img_[0-9a-f]+: app-1\.1\.0\.bin 1\.1\.0 \(rainmaker-ota-xs, 69712 bytes\) at http:\/\/127\.0\.0\.1:\d+\/ota\/img_[0-9a-f]+\.bin$/);
		assert.match(io.lines.at(-1)!, /^MQTT mqtt:\/\/127\.0\.0\.1:\d+; REST http:\/\/127\.0\.0\.1:\d+\/v1\/; downloads http:\/\/127\.0\.0\.1:\d+\/ota\/$/);
		const node = await connectMqttNode(cloud.mqttUrl, "cli-node");
		await announce(node);
		const offer = await (await fetch(`${cloud.httpUrl}user/nodes/ota_update?node_id=cli-node`)).json() as {ota_available: boolean};
		assert.equal(offer.ota_available, true);
		await node.close();
		stop.abort();
		assert.equal(await running, 0);
		assert.deepEqual(io.errors, []);
	});

	it("logs node traffic unless --quiet", async function () {
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>((resolve) => ready = resolve);
		const running = cloudCommand(["--mqtt-port", "0", "--http-port", "0"], {...io, signal: stop.signal, onReady: ready});
		const cloud = await started;
		const node = await connectMqttNode(cloud.mqttUrl, "loud-node");
		const fetched = cloud.waitFor("otafetch");
		await node.publish("otafetch", {node_id: "loud-node", fw_version: "1.0.0"}, "esp_node_otafetch");
		await fetched;
		await node.close();
		stop.abort();
		assert.equal(await running, 0);
		assert.ok(io.lines.some((line) => /^\d{4}-\d\d-\d\dT\S+ loud-node → otafetch \(fw 1\.0\.0\): nothing to serve$/.test(line)), io.lines.join("\n"));
	});

	it("exits 2 with the usage on bad options", async function () {
		for (const args of [["--mqtt-port", "x"], ["--http-port", "70000"], ["--tls-key", "k.pem"], ["--tls-ca", "ca.pem"], ["--job-node", "n"],
			["--user-approval"], ["--ota-url-scheme", "ftp"], ["--ota-url-scheme", "https"], ["--unknown"], ["positional"],
			["--tls-key", "/nonexistent/k.pem", "--tls-cert", "/nonexistent/c.pem"]]) {
			const io = capture();
			assert.equal(await cloudCommand(args, io), 2, args.join(" "));
			assert.match(io.errors[0]!, /^rainmaker-ota-xs cloud: /);
			assert.match(io.errors[1]!, /^usage: rainmaker-ota-xs cloud/);
		}
		const help = capture();
		assert.equal(await cloudCommand(["-h"], help), 0);
		assert.match(help.lines[0]!, /^usage:/);
	});

	it("exits 1 with a clear message when a port is taken or an image is not an image", async function () {
		const blocker = createServer();
		await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
		const port = (blocker.address() as AddressInfo).port;
		try {
			const io = capture();
			assert.equal(await cloudCommand(["--mqtt-port", String(port), "--http-port", "0"], io), 1);
			assert.equal(io.errors[0], `rainmaker-ota-xs cloud: MQTT: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
			const http = capture();
			assert.equal(await cloudCommand(["--mqtt-port", "0", "--http-port", String(port)], http), 1);
			assert.equal(http.errors[0], `rainmaker-ota-xs cloud: HTTP: cannot listen on 127.0.0.1:${port}: EADDRINUSE`);
		} finally {
			await new Promise<void>((resolve) => blocker.close(() => resolve()));
		}
		const io = capture();
		assert.equal(await cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--image", new URL("../README.md", import.meta.url).pathname], io), 1);
		assert.match(io.errors[0]!, /invalid firmware image: Not an ESP32 application image/);
		const missing = capture();
		assert.equal(await cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--image", "/nonexistent.bin"], missing), 1);
		assert.match(missing.errors[0]!, /ENOENT/);
	});
});
