/*
 * Bad input to the command (docs/host-tools.md, "Bad input"), as a person meets it: each case
 * spawns `rainmaker-ota-xs …` in an empty working directory and checks exit code 2, one line on
 * stderr that names the thing, says what is wrong and what to do, and that nothing was left
 * behind (no .sim/ flash folder, no file).
 */
import assert from "node:assert/strict";
import {spawnSync} from "node:child_process";
import {mkdtempSync, readdirSync, rmSync, writeFileSync} from "node:fs";
import {createServer, type AddressInfo, type Server} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {COMMAND} from "./support/command";
import {buildAppImage} from "../host/tools/app-image";

describe("bad input: one line, exit 2, nothing left behind", function () {
	this.timeout(60_000);
	let dir: string;
	let busy: Server;
	let busyPort: number;
	let closedPort: number;

	before(async () => {
		busy = createServer();
		await new Promise<void>(resolve => busy.listen(0, "127.0.0.1", resolve));
		busyPort = (busy.address() as AddressInfo).port;
		const closed = createServer();
		await new Promise<void>(resolve => closed.listen(0, "127.0.0.1", resolve));
		closedPort = (closed.address() as AddressInfo).port;
		await new Promise<void>(resolve => closed.close(() => resolve()));
	});
	after(() => new Promise<void>(resolve => busy.close(() => resolve())));
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "rmx-bad-input-"));
		writeFileSync(join(dir, "junk.bin"), "not an image\n");
		writeFileSync(join(dir, "app.bin"), buildAppImage({version: "1.0.0", payloadSize: 4096}));
	});
	afterEach(() => rmSync(dir, {recursive: true, force: true}));

	/** Runs the command in `dir`; returns its exit code and stderr lines. */
	function run(args: readonly string[]): {status: number | null; lines: string[]} {
		const result = spawnSync(process.execPath, [COMMAND, ...args], {cwd: dir, encoding: "utf8", timeout: 50_000});
		const lines = result.stderr.split("\n").filter(line => line !== "" && !/compiling the host tools/.test(line));
		return {status: result.status, lines};
	}

	function refused(args: readonly string[], line: RegExp): void {
		const {status, lines} = run(args);
		assert.equal(status, 2, `${args.join(" ")}:\n${lines.join("\n")}`);
		assert.equal(lines.length, 1, `one line, got:\n${lines.join("\n")}`);
		assert.match(lines[0]!, line);
		assert.deepEqual(readdirSync(dir).sort(), ["app.bin", "junk.bin"], "nothing created");
	}

	const broker = () => `mqtt://127.0.0.1:${closedPort}`;

	it("node --image <missing file>: names the file, says it is missing and how to make one", () =>
		refused(
			["node", "--broker", broker(), "--image", ".sim/nope.bin"],
			/^rainmaker-ota-xs node: --image \.sim\/nope\.bin: cannot read it \(no such file\): give the path of an app image \(rainmaker-ota-xs image make <file> --version 1\.0\.0 makes one\)$/,
		));

	it("node --image <not an app image>: names the file and what is wrong with it", () =>
		refused(
			["node", "--broker", broker(), "--image", "junk.bin"],
			/^rainmaker-ota-xs node: --image junk\.bin: not an ESP32 app image \(Not an ESP32 application image: magic byte 0x6E \(expected 0xE9\)\): give an app image/,
		));

	it("node on an empty flash without --image: says to pass --image, no bootloader jargon", () =>
		refused(
			["node", "--broker", broker()],
			/^rainmaker-ota-xs node: --flash-dir \.sim\/rmx-sim-node: the flash is empty \(no \.sim\/rmx-sim-node\/flash\.bin\) and there is no firmware to boot: pass --image <app\.bin> to provision one/,
		));

	it("node without --broker: the missing option and where the options are listed", () =>
		refused(
			["node", "--image", "app.bin"],
			/^rainmaker-ota-xs node: --broker <url> is required \(or --fctry <nvs\.bin> with claim data\) \(rainmaker-ota-xs node --help lists the options\)$/,
		));

	it("node --ca <unreadable>: names the option and the file", () =>
		refused(
			["node", "--broker", broker(), "--image", "app.bin", "--ca", "ca.pem"],
			/^rainmaker-ota-xs node: --ca ca\.pem: cannot read it \(no such file\): give the path of the broker's CA certificate \(PEM\)$/,
		));

	it("node --broker <nothing listening>: names the broker, the error, and to start the cloud", () =>
		refused(
			["node", "--broker", broker(), "--image", "app.bin"],
			/^rainmaker-ota-xs node: --broker mqtt:\/\/127\.0\.0\.1:\d+: cannot connect \(ECONNREFUSED\): start the cloud first \(rainmaker-ota-xs cloud\) or give the broker's address$/,
		));

	it("cloud --image <missing file> and <not an image>: names the file", () => {
		refused(
			["cloud", "--image", "nope.bin", "--mqtt-port", "0", "--http-port", "0"],
			/^rainmaker-ota-xs cloud: --image nope\.bin: cannot read it \(no such file\): give the path of an app image/,
		);
		refused(
			["cloud", "--image", "junk.bin", "--mqtt-port", "0", "--http-port", "0"],
			/^rainmaker-ota-xs cloud: --image junk\.bin: not an ESP32 app image \(.*\): give an app image built for the node/,
		);
	});

	it("cloud --http-port <in use>: names the option and the port, and how to pick a free one", () =>
		refused(
			["cloud", "--http-port", String(busyPort), "--mqtt-port", "0", "--quiet"],
			/^rainmaker-ota-xs cloud: --http-port \d+: port \d+ is in use by another program \(EADDRINUSE\): stop that program or choose another port \(--http-port 0 picks a free one\)$/,
		));

	it("cloud --job-node without --image: a missing required option", () =>
		refused(
			["cloud", "--job-node", "my-node"],
			/^rainmaker-ota-xs cloud: --job-node needs an --image \(rainmaker-ota-xs cloud --help lists the options\)$/,
		));

	it("app login --base-url <nothing listening>: the address, the error, and to start the cloud", () =>
		refused(
			[
				"app",
				"login",
				"--base-url",
				`http://127.0.0.1:${closedPort}/v1/`,
				"--user",
				"a@example.com",
				"--password",
				"p",
				"--state-file",
				"app-state.json",
			],
			/^rainmaker-ota-xs app login: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/: ECONNREFUSED: start the cloud \(rainmaker-ota-xs cloud\) or pass its REST address with --base-url$/,
		));

	it("image <missing file>: names the file", () =>
		refused(
			["image", "nope.bin"],
			/^rainmaker-ota-xs image: cannot read nope\.bin \(no such file\): give the path of an app image \(\.bin\)$/,
		));

	it("an unknown command: names it and where the commands are listed", () =>
		refused(
			["nodes"],
			/^rainmaker-ota-xs: unknown command "nodes" \(rainmaker-ota-xs --help lists the commands\)$/,
		));
});
