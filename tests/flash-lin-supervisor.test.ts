/*
 * The lin supervisor (host/sim/lin.ts): it provisions the flash directory as the lin build expects
 * it and starts the simulator again whenever it exits with the reboot code, as a reset would. The
 * supervision is tested with a stand-in simulator (a Node script that records its boots and exits
 * 3, 3, then 0); the real lin build under mcsim runs in the last two tests (an RSA and an EC P-256
 * client key), only when MODDABLE points at a Moddable SDK built for Linux.
 */
import {strict as assert} from "node:assert";
import {spawnSync} from "node:child_process";
import {copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {COMMAND} from "./support/command";
import {buildLin, LIN_REBOOT_EXIT_CODE, mcsimCommand, provisionLinFlash, superviseLin} from "../host/sim/lin";
import {JsonFileStore} from "../host/adapters/key-value-store";
import {createDigest} from "../host/adapters/digest";
import {FlashUpdatePartition} from "../idf/update-partition";
import {OtaJournal} from "../ota/journal";
import {createServer, type AddressInfo} from "node:net";
import Aedes from "aedes";
import {HostDevice} from "../host/adapters/host-device";
import {boot} from "../idf/bootloader";
import {readFctry} from "../host/sim/fctry";
import {buildAppImage} from "../host/tools/app-image";
import {buildFctryImage} from "../host/tools/nvs-partition";
import {parseImageHeader} from "../ota/image";

function freePort(): Promise<number> {
	return new Promise(resolve => {
		const server = createServer();
		server.listen(0, "127.0.0.1", () => {
			const {port} = server.address() as AddressInfo;
			server.close(() => resolve(port));
		});
	});
}

/** A plain-TCP MQTT broker (aedes) that records the otastatus payloads. */
function startPlainBroker(
	port: number,
	onStatus: (payload: string) => void,
): {close(): Promise<void>; statuses: string[]} {
	const aedes = new Aedes();
	const statuses: string[] = [];
	aedes.on("publish", packet => {
		if (packet.topic.endsWith("/otastatus")) {
			statuses.push(packet.payload.toString());
			onStatus(packet.payload.toString());
		}
	});
	const server = createServer(socket => aedes.handle(socket));
	server.listen(port, "127.0.0.1");
	return {statuses, close: () => new Promise<void>(resolve => server.close(() => aedes.close(() => resolve())))};
}

describe("lin supervisor (rainmaker-ota-xs lin)", function () {
	this.timeout(60_000);
	let dir: string;

	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), "lin-supervisor-"));
	});
	afterEach(() => rmSync(dir, {recursive: true, force: true}));

	it("boots the simulator again after each exit with the reboot code, with RMX_FLASH_DIR set and stdin forwarded", async () => {
		const script = join(dir, "fake-mcsim.mjs");
		writeFileSync(
			script,
			`
import {appendFileSync, readFileSync, existsSync} from "node:fs";
const log = process.env.RMX_FLASH_DIR + "/boots.txt";
const boots = existsSync(log) ? readFileSync(log, "utf8").split("\\n").filter(Boolean).length : 0;
appendFileSync(log, "boot " + (boots + 1) + "\\n");
console.log("fake mcsim boot " + (boots + 1));
if (boots < 2) process.exit(${LIN_REBOOT_EXIT_CODE});
process.stdin.on("data", data => { console.log("console: " + data.toString().trim()); process.exit(0); });
`,
		);
		const lines: string[] = [];
		let thirdBoot!: () => void;
		const booted = new Promise<void>(resolve => (thirdBoot = resolve));
		const node = superviseLin([process.execPath, script], dir, line => {
			lines.push(line);
			if (line === "fake mcsim boot 3") thirdBoot();
		});
		await booted;
		node.send("ota status");
		assert.equal(await node.stopped, 0);
		assert.equal(node.boots, 3);
		assert.equal(readFileSync(join(dir, "boots.txt"), "utf8"), "boot 1\nboot 2\nboot 3\n");
		assert.ok(lines.includes("console: ota status"), lines.join("\n"));
		assert.equal(lines.filter(line => /exited with 3 \(restart\): booting again/.test(line)).length, 2);
	});

	it("passes on any other exit code and stops without restarting", async () => {
		const node = superviseLin([process.execPath, "-e", "process.exit(1)"], dir, () => {});
		assert.equal(await node.stopped, 1);
		assert.equal(node.boots, 1);
	});

	it("provisions the flash directory: the image into ota_0 of an empty flash only, the fctry image every time", () => {
		const v1 = buildAppImage({version: "1.0.0"});
		provisionLinFlash(dir, {
			image: v1,
			fctry: buildFctryImage({nodeId: "n1", mqttHost: "h", clientCert: "C", clientKey: "K"}),
		});
		provisionLinFlash(dir, {
			image: buildAppImage({version: "9.0.0"}),
			fctry: buildFctryImage({nodeId: "n2", mqttHost: "h", clientCert: "C", clientKey: "K"}),
		});
		const device = HostDevice.open({flashFile: join(dir, "flash.bin")});
		try {
			assert.equal(
				boot(device, createDigest).info.version,
				"1.0.0",
				"a flash with an image keeps it (a reset is not a reflash)",
			);
			assert.equal(parseImageHeader(device.slot(0).read(0, 289)).version, "1.0.0");
			assert.equal(readFctry(device)?.nodeId, "n2");
		} finally {
			device.close();
		}
	});

	describe("the lin build under mcsim (needs the Moddable SDK)", function () {
		before(function () {
			const root = process.env.MODDABLE;
			if (!root || !existsSync(join(root, "build", "bin", "lin", "release", "mcconfig"))) {
				console.log(
					"      skipped: MODDABLE does not point at a Moddable SDK built for Linux (docs/device.md)",
				);
				this.skip();
			}
		});

		it("rolls a new image back after rollbackWaitSeconds with no broker, and the old image reports rejected once the broker is back", async function () {
			this.timeout(15 * 60_000); // builds the firmware with mcconfig first
			const root = process.env.MODDABLE!;
			const port = await freePort();
			const lines: string[] = [];
			// a build whose rollback wait is 4 s, for a plain-TCP broker on a port nobody listens on yet
			const built = buildLin(
				root,
				dir,
				{},
				{
					nodeId: "lin-rb",
					mqttHost: "localhost",
					mqttPort: port,
					mqttTls: false,
					rollbackWaitSeconds: 4,
					autofetch: false,
				},
				line => lines.push(line),
			);
			const mc = join(dir, "mc.so");
			copyFileSync(built, mc); // the build directory is shared: run this build's copy
			// The flash after an install of 2.0.0 by 1.0.0: 2.0.0 in ota_1 selected as NEW, the journal's job id and flag.
			const flashDir = join(dir, "flash");
			provisionLinFlash(flashDir, {image: buildAppImage({version: "1.0.0", payloadSize: 20_000})});
			const device = HostDevice.open({flashFile: join(flashDir, "flash.bin")});
			try {
				const booted = boot(device, createDigest);
				const update = new FlashUpdatePartition(device, booted.slot, createDigest);
				const v2 = buildAppImage({version: "2.0.0", payloadSize: 20_000});
				update.begin(0);
				update.write(v2);
				update.end();
			} finally {
				device.close();
			}
			const journal = new OtaJournal(new JsonFileStore(join(flashDir, "nvs.json")), {
				info() {},
				warn() {},
				error() {},
			});
			journal.beginInstall("job-lin-rb");
			journal.markRebooting("2.0.0");

			let broker: {close(): Promise<void>; statuses: string[]} | undefined;
			let reported!: () => void;
			const rejected = new Promise<void>(resolve => (reported = resolve));
			const node = superviseLin(mcsimCommand(root, mc), flashDir, line => {
				lines.push(line);
				if (/Booted the previous firmware again: version 2\.0\.0 was rolled back/.test(line) && !broker)
					broker = startPlainBroker(port, payload => {
						if (/"status":"rejected"/.test(payload)) reported();
					});
			});
			const timeout = setTimeout(() => reported(), 120_000);
			try {
				await rejected;
			} finally {
				clearTimeout(timeout);
				node.stop();
				await node.stopped.catch(() => undefined);
				await broker?.close();
			}
			const log = lines.join("\n");
			assert.match(log, /boot: running ota_1 \(rainmaker-ota-xs 2\.0\.0\), state pending-verify/);
			assert.match(
				log,
				/First boot after an OTA: the image is confirmed on the first MQTT connection, or rolled back 4 s after start-up/,
			);
			assert.ok(
				log.indexOf("rolled back 4 s after start-up") < log.indexOf("rainmaker-ota-xs 2.0.0 starting as node"),
				"the clock starts in the setup step, before main()",
			);
			assert.match(log, /Could not verify firmware even after 4 seconds since boot-up\. Rolling back\./);
			assert.match(log, /boot: running ota_0 \(rainmaker-ota-xs 1\.0\.0\)/);
			assert.ok(broker, `the old image booted again:\n${lines.slice(-30).join("\n")}`);
			assert.ok(
				broker.statuses.some(
					payload =>
						/"ota_job_id":"job-lin-rb"/.test(payload) &&
						/"status":"rejected"/.test(payload) &&
						/Firmware rolled back/.test(payload),
				),
				`otastatus: ${broker.statuses.join(" | ")}\n${lines.slice(-30).join("\n")}`,
			);
		});

		it("runs the approval OTA against the local cloud to success (rainmaker-ota-xs lin demo)", function () {
			this.timeout(40 * 60_000); // builds the firmware with mcconfig first
			const repository = fileURLToPath(new URL("..", import.meta.url));
			const result = spawnSync(process.execPath, [COMMAND, "lin", "demo"], {
				cwd: repository,
				encoding: "utf8",
				maxBuffer: 64 * 1024 * 1024,
				timeout: 39 * 60_000,
			});
			const output = `${result.stdout}${result.stderr}`;
			assert.equal(result.status, 0, output.split("\n").slice(-40).join("\n"));
			assert.match(
				output,
				/\[lin\] done: lin-node runs firmware 2\.0\.0 after 2 mcsim boots; job \S+ ended with success/,
			);
			assert.match(output, /boot: running ota_1 \(rainmaker-ota-xs 2\.0\.0\), state pending-verify/);
			assert.match(output, /New firmware confirmed: marked valid/);
		});

		it("runs it with an EC P-256 key, esp-rainmaker-cli claim's default (lin demo --key-type ec)", function () {
			this.timeout(40 * 60_000); // builds the firmware with mcconfig first
			const repository = fileURLToPath(new URL("..", import.meta.url));
			const result = spawnSync(process.execPath, [COMMAND, "lin", "demo", "--key-type", "ec"], {
				cwd: repository,
				encoding: "utf8",
				maxBuffer: 64 * 1024 * 1024,
				timeout: 39 * 60_000,
			});
			const output = `${result.stdout}${result.stderr}`;
			assert.equal(result.status, 0, output.split("\n").slice(-40).join("\n"));
			assert.match(output, /claim data of lin-node \(ec key\) in fctry/);
			assert.match(output, /mqtt: connected to localhost:18883/);
			assert.match(
				output,
				/\[lin\] done: lin-node runs firmware 2\.0\.0 after 2 mcsim boots; job \S+ ended with success/,
			);
		});
	});
});
