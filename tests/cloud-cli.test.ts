/*
 * `rainmaker-ota-xs cloud` (cloudCommand): options, images and a job from the command line, a
 * clean stop, and clear errors for bad options and a taken port.
 */
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {connect, createServer, type AddressInfo} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {makeTestPki} from "../host/pki";
import {freePort} from "./support/free-port";
import type {Cloud} from "../host/cloud/cloud";
import {listenAddresses} from "../host/cloud/cli-access";
import {cloudCommand, type CommandIo} from "../host/cloud/main";
import {announce, fixtureImage} from "./support/cloud-fixtures";
import {authorization, login} from "./support/cloud-login";
import {connectMqttNode} from "./support/mqtt-node";

function capture(): CommandIo & {lines: string[]; errors: string[]} {
	const lines: string[] = [];
	const errors: string[] = [];
	return {lines, errors, out: line => lines.push(line), err: line => errors.push(line)};
}

describe("cloud command", function () {
	it("runs with images and a user-approval job until stopped, then exits 0", async function () {
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>(resolve => (ready = resolve));
		const running = cloudCommand(
			[
				"--mqtt-port",
				"0",
				"--http-port",
				"0",
				"--image",
				fixtureImage("synthetic/app-1.1.0.bin"),
				"--image",
				fixtureImage("synthetic/app-2.0.0.bin"),
				"--job-node",
				"cli-node",
				"--user-approval",
				"--failed-terminal",
				"--quiet",
				"--user",
				"owner@example.com",
				"--password",
				"pw-1",
				"--user",
				"other@example.com",
				"--password",
				"pw-2",
			],
			{...io, signal: stop.signal, onReady: ready},
		);
		const cloud = await started;
		assert.equal(cloud.failedIsTerminal, true);
		const jobs = cloud.jobs();
		assert.equal(jobs.length, 1);
		assert.deepEqual(
			[jobs[0]!.nodes, jobs[0]!.userApproval, jobs[0]!.forcePush, cloud.image(jobs[0]!.imageId)?.fwVersion],
			[["cli-node"], true, false, "2.0.0"],
		);
		assert.match(
			io.lines[0]!,
			/^image img_[0-9a-f]+: app-1\.1\.0\.bin 1\.1\.0 \(rainmaker-ota-xs, 69712 bytes\) at http:\/\/127\.0\.0\.1:\d+\/ota\/img_[0-9a-f]+\.bin$/,
		);
		assert.ok(
			io.lines.some(line =>
				/^MQTT mqtt:\/\/127\.0\.0\.1:\d+; REST http:\/\/127\.0\.0\.1:\d+\/v1\/; downloads http:\/\/127\.0\.0\.1:\d+\/ota\/$/.test(
					line,
				),
			),
			io.lines.join("\n"),
		);
		assert.ok(
			io.lines.includes(
				"users: owner@example.com, other@example.com (owner@example.com owns the nodes and is the admin)",
			),
			io.lines.join("\n"),
		);
		const node = await connectMqttNode(cloud.mqttUrl, "cli-node");
		await announce(node);
		const owner = await authorization(cloud, {userName: "owner@example.com", password: "pw-1"});
		const offer = (await (
			await fetch(new URL("user/nodes/ota_update?node_id=cli-node", cloud.httpUrl), {headers: owner})
		).json()) as {ota_available: boolean};
		assert.equal(offer.ota_available, true);
		// The --job-node node belongs to the first user: the second one does not see it.
		const other = await authorization(cloud, {userName: "other@example.com", password: "pw-2"});
		assert.equal(
			(await fetch(new URL("user/nodes/ota_update?node_id=cli-node", cloud.httpUrl), {headers: other})).status,
			404,
		);
		await node.close();
		stop.abort();
		assert.equal(await running, 0);
		assert.deepEqual(io.errors, [
			"rainmaker-ota-xs cloud: --password shows in ps to every user of this machine; --password-file or $RAINMAKER_OTA_XS_CLOUD_PASSWORDS do not",
		]);
	});

	it("finding 8: takes the passwords from a file or the environment; refuses a non-loopback --host with the plain listener unless told; advertises a reachable address", async function () {
		const dir = mkdtempSync(join(tmpdir(), "rmx-cloud-cli-"));
		const file = join(dir, "passwords");
		writeFileSync(file, "pw-file-1\npw-file-2\n", {mode: 0o600});
		for (const [args, env] of [
			[["--user", "a@example.com", "--user", "b@example.com", "--password-file", file], {}],
			[
				["--user", "a@example.com", "--user", "b@example.com"],
				{RAINMAKER_OTA_XS_CLOUD_PASSWORDS: "pw-file-1\npw-file-2"},
			],
		] as const) {
			const io = capture();
			const stop = new AbortController();
			let ready!: (cloud: Cloud) => void;
			const started = new Promise<Cloud>(resolve => (ready = resolve));
			const running = cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--quiet", ...args], {
				...io,
				env,
				signal: stop.signal,
				onReady: ready,
			});
			const cloud = await started;
			await login(cloud, {userName: "b@example.com", password: "pw-file-2"});
			stop.abort();
			assert.equal(await running, 0);
			assert.deepEqual(io.errors, [], args.join(" "));
			assert.ok(!io.lines.some(line => line.includes("pw-file")), "a given password is never printed");
		}
		for (const [args, error] of [
			[
				["--host", "0.0.0.0"],
				/--host 0\.0\.0\.0: the plain MQTT listener checks no identity.*--allow-plain-on-network/,
			],
			[["--host", "192.0.2.1"], /--host 192\.0\.2\.1: the plain MQTT listener/],
			[
				["--user", "a@example.com", "--password-file", join(dir, "missing")],
				/--password-file: cannot read .*missing: ENOENT/,
			],
			[
				[
					"--user",
					"a@example.com",
					"--user",
					"b@example.com",
					"--password-file",
					file,
					"--password",
					"x",
					"--password",
					"y",
				],
				/either with --password or with --password-file/,
			],
		] as const) {
			const io = capture();
			assert.equal(await cloudCommand([...args], io), 2, args.join(" "));
			assert.match(io.errors[0]!, error);
		}
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>(resolve => (ready = resolve));
		const running = cloudCommand(
			[
				"--host",
				"0.0.0.0",
				"--allow-plain-on-network",
				"--advertise-host",
				"cloud.example",
				"--mqtt-port",
				"0",
				"--http-port",
				"0",
				"--quiet",
			],
			{...io, signal: stop.signal, onReady: ready},
		);
		const cloud = await started;
		assert.match(cloud.mqttUrl, /^mqtt:\/\/cloud\.example:\d+$/);
		assert.match(cloud.httpUrl, /^http:\/\/cloud\.example:\d+\/v1\/$/);
		stop.abort();
		assert.equal(await running, 0);
		const addresses = listenAddresses("0.0.0.0", true, true, undefined);
		assert.notEqual(addresses.advertisedHost, "0.0.0.0", "a wildcard is never advertised");
		assert.deepEqual(listenAddresses("127.0.0.1", true, false, undefined), {
			host: "127.0.0.1",
			advertisedHost: "127.0.0.1",
		});
		rmSync(dir, {recursive: true, force: true});
	});

	it("without --user makes a user with a random password and prints how to log in", async function () {
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>(resolve => (ready = resolve));
		const running = cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--quiet"], {
			...io,
			signal: stop.signal,
			onReady: ready,
		});
		const cloud = await started;
		const hint = io.lines.find(line => line.startsWith("log in: "));
		const match = /^log in: rainmaker-ota-xs app login --base-url (\S+) --user (\S+) --password (\S+)$/.exec(
			hint ?? "",
		);
		assert.ok(match, io.lines.join("\n"));
		assert.equal(match[1], cloud.httpUrl);
		await login(cloud, {userName: match[2]!, password: match[3]!});
		await assert.rejects(login(cloud, {userName: match[2]!, password: "rainmaker-local"}), /HTTP 401/);
		stop.abort();
		assert.equal(await running, 0);
	});

	it("with --tls-ca runs no plain MQTT listener, unless --plain-mqtt", async function () {
		const dir = mkdtempSync(join(tmpdir(), "cloud-cli-tls-"));
		try {
			const pki = makeTestPki(dir, "cli-tls-node");
			for (const plain of [false, true]) {
				const io = capture();
				const stop = new AbortController();
				let ready!: (cloud: Cloud) => void;
				const started = new Promise<Cloud>(resolve => (ready = resolve));
				const mqttPort = await freePort();
				const running = cloudCommand(
					[
						"--mqtt-port",
						String(mqttPort),
						"--http-port",
						"0",
						"--mqtts-port",
						"0",
						"--https-port",
						"0",
						"--quiet",
						"--tls-key",
						pki.paths.serverKey,
						"--tls-cert",
						pki.paths.serverCert,
						"--tls-ca",
						pki.paths.caCert,
						...(plain ? ["--plain-mqtt"] : []),
					],
					{...io, signal: stop.signal, onReady: ready},
				);
				const cloud = await started;
				const banner = io.lines.find(line => line.startsWith("MQTT "))!;
				const reached = await new Promise<string>(resolve => {
					const socket = connect(mqttPort, "127.0.0.1", () => {
						socket.destroy();
						resolve("connected");
					});
					socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
				});
				if (plain) {
					assert.match(banner, new RegExp(`^MQTT mqtt://127\\.0\\.0\\.1:${mqttPort}, mqtts://`));
					assert.equal(reached, "connected");
				} else {
					assert.match(banner, /^MQTT mqtts:\/\/127\.0\.0\.1:\d+; REST /);
					assert.equal(cloud.mqttUrl, "");
					assert.equal(reached, "ECONNREFUSED");
				}
				stop.abort();
				assert.equal(await running, 0);
			}
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});

	it("logs node traffic unless --quiet", async function () {
		const io = capture();
		const stop = new AbortController();
		let ready!: (cloud: Cloud) => void;
		const started = new Promise<Cloud>(resolve => (ready = resolve));
		const running = cloudCommand(["--mqtt-port", "0", "--http-port", "0"], {
			...io,
			signal: stop.signal,
			onReady: ready,
		});
		const cloud = await started;
		const node = await connectMqttNode(cloud.mqttUrl, "loud-node");
		const fetched = cloud.waitFor("otafetch");
		await node.publish("otafetch", {node_id: "loud-node", fw_version: "1.0.0"}, "esp_node_otafetch");
		await fetched;
		await node.close();
		stop.abort();
		assert.equal(await running, 0);
		assert.ok(
			io.lines.some(line =>
				/^\d{4}-\d\d-\d\dT\S+ loud-node → otafetch \(fw 1\.0\.0\): nothing to serve$/.test(line),
			),
			io.lines.join("\n"),
		);
	});

	it("exits 2 with one line on bad options: what is wrong and what to do", async function () {
		for (const args of [
			["--mqtt-port", "x"],
			["--http-port", "70000"],
			["--tls-key", "k.pem"],
			["--tls-ca", "ca.pem"],
			["--job-node", "n"],
			["--user-approval"],
			["--ota-url-scheme", "ftp"],
			["--ota-url-scheme", "https"],
			["--unknown"],
			["positional"],
			["--tls-key", "/nonexistent/k.pem", "--tls-cert", "/nonexistent/c.pem"],
			["--user", "a@b"],
			["--password", "p"],
			["--user", "a@b", "--password", "p", "--user", "a@b", "--password", "q"],
			["--user", "", "--password", "p"],
			["--plain-mqtt"],
			["--token-lifetime", "0"],
			["--token-lifetime", "1h"],
		]) {
			const io = capture();
			assert.equal(await cloudCommand(args, io), 2, args.join(" "));
			assert.equal(io.errors.length, 1, io.errors.join("\n"));
			assert.match(
				io.errors[0]!,
				/^rainmaker-ota-xs cloud: .*(\(rainmaker-ota-xs cloud --help lists the options\)|: give the path of a PEM file)$/,
			);
		}
		const help = capture();
		assert.equal(await cloudCommand(["-h"], help), 0);
		assert.match(help.lines[0]!, /^usage:/);
	});

	it("exits 2 with one line naming the option when a port is taken or an --image is missing or not an image", async function () {
		const blocker = createServer();
		await new Promise<void>(resolve => blocker.listen(0, "127.0.0.1", resolve));
		const port = (blocker.address() as AddressInfo).port;
		try {
			const io = capture();
			assert.equal(await cloudCommand(["--mqtt-port", String(port), "--http-port", "0"], io), 2);
			assert.deepEqual(io.errors, [
				`rainmaker-ota-xs cloud: --mqtt-port ${port}: port ${port} is in use by another program (EADDRINUSE): stop that program or choose another port (--mqtt-port 0 picks a free one)`,
			]);
			const http = capture();
			assert.equal(await cloudCommand(["--mqtt-port", "0", "--http-port", String(port)], http), 2);
			assert.deepEqual(http.errors, [
				`rainmaker-ota-xs cloud: --http-port ${port}: port ${port} is in use by another program (EADDRINUSE): stop that program or choose another port (--http-port 0 picks a free one)`,
			]);
		} finally {
			await new Promise<void>(resolve => blocker.close(() => resolve()));
		}
		const readme = new URL("../README.md", import.meta.url).pathname;
		const io = capture();
		assert.equal(await cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--image", readme], io), 2);
		assert.deepEqual(io.errors, [
			`rainmaker-ota-xs cloud: --image ${readme}: not an ESP32 app image (Not an ESP32 application image: magic byte 0x23 (expected 0xE9)): give an app image built for the node (rainmaker-ota-xs image make <file> --version <v> makes one)`,
		]);
		assert.deepEqual(io.lines, [], "refused before anything started");
		const missing = capture();
		assert.equal(
			await cloudCommand(["--mqtt-port", "0", "--http-port", "0", "--image", "/nonexistent.bin"], missing),
			2,
		);
		assert.deepEqual(missing.errors, [
			"rainmaker-ota-xs cloud: --image /nonexistent.bin: cannot read it (no such file): give the path of an app image (rainmaker-ota-xs image make <file> --version <v> makes one)",
		]);
	});
});
