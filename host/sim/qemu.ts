/*
 * `rainmaker-ota-xs qemu demo`: the firmware built by ESP-IDF for the ESP32-C3 (Moddable's esp32c3
 * target, RMX_NETWORK=openeth), booted by ESP-IDF's bootloader in Espressif's QEMU
 * (`qemu-system-riscv32 -machine esp32c3`), updated with approval against the local cloud on the
 * host's loopback (docs/device.md, section 11). Steps, each timed:
 *   build   mcconfig -p esp32/esp32c3 -o <dir> with RMX_NETWORK=openeth, then make (ESP-IDF, cmake)
 *   flash   a 4 MB image: ESP-IDF's bootloader, partition table, blank otadata, the app stamped
 *           1.0.0 in ota_0, the fctry NVS of a claimed node
 *   cloud   MQTT/TLS + HTTPS on 127.0.0.1 (10.0.2.2 from the guest), SNTP on 127.0.0.1:123 (the
 *           guest's clock: TLS checks certificate dates), 2.0.0 published as an OTA job
 *   boot    QEMU with -nic user,model=open_eth until the node is online
 *   offer   the node checks, the cloud offers 2.0.0, the node reports `delayed`
 *   approve the phone app's approval; the node downloads over HTTPS and writes with esp_ota_*
 *   reboot  esp_restart, ESP-IDF's bootloader boots ota_1 in pending-verify
 *   success the first MQTT connection confirms the image; `success`; otadata read back from flash.bin
 * With --variant rollback the offered 2.0.0 is a build whose MQTT port is closed: it never connects,
 * marks itself invalid after rollbackWaitSeconds, ESP-IDF's bootloader returns to ota_0 and the old
 * image reports `rejected` "Firmware rolled back".
 * Needs MODDABLE, IDF_PATH, riscv32-esp-elf-gcc in PATH and QEMU_BIN (the recipe of docs/device.md).
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {createSocket} from "node:dgram";
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {delimiter, dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import {appCommand} from "../client/main";
import {startCloud} from "../cloud/cloud";
import {DEFAULT_USER} from "../cloud/defaults";
import {makeTestPki} from "../pki";
import {restampAppVersion} from "../tools/app-image";
import {buildFctryImage} from "../tools/nvs-partition";
import {activeOtadata, decodeEntry, slotOfSeq, imageStateName, OTA_SELECT_ENTRY_SIZE} from "../../idf/otadata";

const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));
/** The QEMU demo cloud's MQTT/TLS port (built into the firmware; not the lin demo's 18883). */
export const QEMU_DEMO_MQTTS_PORT = 18893;
const FLASH_SIZE = 4 * 1024 * 1024;
const FCTRY_OFFSET = 0x11000;
const OTADATA_OFFSET = 0xe000;
const GUEST_HOST = "10.0.2.2";

export const QEMU_USAGE = `Usage: rainmaker-ota-xs qemu demo [--variant success|rollback|power-cut] [--skip-build] [--keep-work]
       rainmaker-ota-xs qemu build [--variant rollback]
       rainmaker-ota-xs qemu bench [--skip-build] [--runs N]
  build: only the demo's firmware build(s) into .sim/qemu-demo (no QEMU needed)
  bench: ESP-IDF's esp_https_ota (bench/qemu-idf-ota) and then the firmware (after qemu build), the
         same image from the same cloud in the same QEMU, N times (default 1): both install times,
         their medians and the throughput ratio (--skip-build: ESP-IDF's app as built before)
  demo: the firmware built with ESP-IDF for the ESP32-C3 (RMX_NETWORK=openeth), booted by ESP-IDF's
        bootloader in QEMU (-machine esp32c3, -nic user,model=open_eth), updated with approval
        against the local cloud on loopback; each step is timed
    --variant success    (default) 2.0.0 installs, boots from ota_1 and reports success
    --variant rollback   the offered 2.0.0 never reaches MQTT: it marks itself invalid, ESP-IDF's
                         bootloader returns to ota_0 and 1.0.0 reports rejected "Firmware rolled back"
    --variant power-cut  QEMU is killed during the write; the flash must boot 1.0.0 again
    --skip-build         use the builds of an earlier run (.sim/qemu-demo/)
    --keep-work          keep the work directory (flash image, QEMU log)
Needs MODDABLE (Moddable SDK with Linux tools), IDF_PATH (ESP-IDF v6.0), riscv32-esp-elf-gcc in PATH and
QEMU_BIN (an esp32c3-capable qemu-system-riscv32): docs/device.md, section 11.`;

export class QemuError extends Error {}

export interface QemuTools {
	moddable: string;
	idfPath: string;
	qemu: string;
	python: string;
	jobs: number;
}

/** The tools the QEMU lane needs, or the reason it cannot run (one line, naming what is missing). */
export function qemuTools(
	env: NodeJS.ProcessEnv = process.env,
	options: {needQemu?: boolean} = {},
): QemuTools | string {
	const moddable = env.MODDABLE;
	if (!moddable || !existsSync(join(moddable, "build", "bin", "lin", "release", "mcconfig")))
		return "MODDABLE is not set to a Moddable SDK with its Linux tools built ($MODDABLE/build/bin/lin/release/mcconfig)";
	const idfPath = env.IDF_PATH;
	if (!idfPath || !existsSync(join(idfPath, "components", "app_update")))
		return "IDF_PATH is not set to an ESP-IDF v6.0 tree (with its submodules)";
	if (spawnSync("sh", ["-c", "command -v riscv32-esp-elf-gcc"], {stdio: "ignore", env}).status !== 0)
		return "riscv32-esp-elf-gcc is not in PATH (the recipe's toolchain/bin, or Espressif's toolchain)";
	const qemu = env.QEMU_BIN ?? "";
	if (options.needQemu !== false && (!qemu || !existsSync(qemu)))
		return "QEMU_BIN is not set to an esp32c3-capable qemu-system-riscv32";
	const python = env.IDF_PYTHON ?? "python3";
	return {moddable, idfPath, qemu, python, jobs: Number(env.JOBS ?? 2) || 2};
}

interface Build {
	bootloader: Uint8Array;
	partitionTable: Uint8Array;
	app: Uint8Array;
	/** flash_args offsets of the bootloader, the partition table, the app. */
	offsets: {bootloader: number; partitionTable: number; app: number};
}

type Say = (line: string) => void;

/**
 * Builds the firmware for esp32/esp32c3 with the openeth network into `out` (mcconfig -o), patching
 * the generated sdkconfig for what the emulator and the recipe's toolchain need: the OpenCores
 * Ethernet driver (CONFIG_ETH_USE_OPENETH) and picolibc instead of newlib. Returns the binaries.
 */
export function buildQemuFirmware(
	tools: QemuTools,
	out: string,
	resources: {[name: string]: Uint8Array},
	config: {[key: string]: string | number | boolean},
	say: Say,
	kind: "release" | "instrument" = "release",
): Build {
	const dir = join(out, "manifest");
	mkdirSync(dir, {recursive: true});
	for (const [name, bytes] of Object.entries(resources)) writeFileSync(join(dir, name), bytes);
	writeFileSync(
		join(dir, "manifest.json"),
		JSON.stringify(
			{
				include: [join(REPOSITORY, "manifest.json")],
				resources: {"*": Object.keys(resources).map(name => "./" + name.replace(/\.der$/, ""))},
				// The SDK's esp32c3 target (setup/target) cycles a rainbow on the DevKit's WS2812 through the
				// RMT peripheral every 33 ms; QEMU's esp32c3 has no RMT, the second frame waits forever for
				// the transmission to end and the XS task with it (docs/device.md section 11). The wrapper is
				// the root manifest, whose config merges last, so this wins over the target's `rainbow: true`.
				config: {led: {rainbow: false}},
			},
			null,
			"\t",
		),
	);
	const env = {
		...process.env,
		MODDABLE: tools.moddable,
		IDF_PATH: tools.idfPath,
		RMX_NETWORK: "openeth",
		ESP_ROM_ELF_DIR: process.env.ESP_ROM_ELF_DIR ?? "/nonexistent",
		PATH: [
			join(REPOSITORY, "node_modules", ".bin"),
			join(tools.moddable, "build", "bin", "lin", "release"),
			process.env.PATH ?? "",
		].join(delimiter),
	};
	const args = [
		...(kind === "instrument" ? ["-i"] : []),
		"-p",
		"esp32/esp32c3",
		"-o",
		out,
		"-t",
		"build",
		join(dir, "manifest.json"),
		...Object.entries(config).map(([key, value]) => `${key}=${value}`),
	];
	say(`mcconfig ${args.join(" ")}`);
	// RMX_MCCONFIG_LOCK: a lock file for machines where several users share one SDK (flock around mcconfig only)
	const mcconfig = join(tools.moddable, "build", "bin", "lin", "release", "mcconfig");
	if (process.env.RMX_MCCONFIG_LOCK)
		run("flock", [process.env.RMX_MCCONFIG_LOCK, mcconfig, ...args], dir, env, "mcconfig");
	else run(mcconfig, args, dir, env, "mcconfig");
	const tmp = join(out, "tmp", "esp32", "esp32c3", kind, "rainmaker-ota-xs"); // manifest.json build.NAME
	const sdkconfig = join(tmp, "xsProj-esp32c3", "sdkconfig.mc");
	if (!existsSync(sdkconfig)) throw new QemuError(`mcconfig succeeded but ${sdkconfig} is missing`);
	let text = readFileSync(sdkconfig, "utf8").replace(/^CONFIG_LIBC_NEWLIB=y$/m, "CONFIG_LIBC_PICOLIBC=y");
	if (!/^CONFIG_ETH_USE_OPENETH=y$/m.test(text))
		text += "\n# QEMU build (host/sim/qemu.ts): QEMU's OpenCores Ethernet\nCONFIG_ETH_USE_OPENETH=y\n";
	// The recipe's upstream Mbed TLS 4.0 does not dispatch PSA hashes to ESP-IDF's SHA driver: with
	// hardware SHA (which removes the built-in SHA-256) psa_hash_setup answers PSA_ERROR_NOT_SUPPORTED
	// and esp_ota_end fails with ESP_ERR_OTA_VALIDATE_FAILED (docs/device.md section 11).
	if (!/^CONFIG_MBEDTLS_HARDWARE_SHA=n$/m.test(text))
		text =
			text.replace(/^CONFIG_MBEDTLS_HARDWARE_SHA=.*\n?/m, "") +
			"\n# QEMU build (host/sim/qemu.ts): software SHA-256 for esp_image_verify (PSA)\nCONFIG_MBEDTLS_HARDWARE_SHA=n\n";
	if (text !== readFileSync(sdkconfig, "utf8")) writeFileSync(sdkconfig, text);
	say(`make -f makefile build -j${tools.jobs} IDF_VERSION=v6.0 (in ${tmp})`);
	run("make", ["-f", "makefile", "build", `-j${tools.jobs}`, "IDF_VERSION=v6.0"], tmp, env, "make");
	const build = join(tmp, "xsProj-esp32c3", "build");
	const flashArgs = readFileSync(join(build, "flash_args"), "utf8")
		.split("\n")
		.filter(line => /^0x/.test(line))
		.map(line => line.split(/\s+/));
	const find = (pattern: RegExp) => {
		const entry = flashArgs.find(([, file]) => pattern.test(file));
		if (!entry) throw new QemuError(`${join(build, "flash_args")} names no ${pattern}`);
		return {offset: parseInt(entry[0], 16), bytes: new Uint8Array(readFileSync(join(build, entry[1])))};
	};
	const bootloader = find(/bootloader\.bin$/);
	const table = find(/partition-table\.bin$/);
	const app = find(/^(?!ota_data_initial)[^/]+\.bin$/); // the app: not bootloader/, partition_table/, ota_data_initial.bin
	return {
		bootloader: bootloader.bytes,
		partitionTable: table.bytes,
		app: app.bytes,
		offsets: {bootloader: bootloader.offset, partitionTable: table.offset, app: app.offset},
	};
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string): void {
	const result = spawnSync("nice", ["-n", "10", command, ...args], {
		cwd,
		env,
		encoding: "utf8",
		maxBuffer: 256 * 1024 * 1024,
	});
	if (result.status !== 0) {
		const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.split("\n");
		const errors = output.filter(line => /error|undefined reference/i.test(line)).slice(0, 20);
		throw new QemuError(
			`${what} failed (exit ${result.status}):\n${[...errors, "...", ...output.slice(-25)].join("\n")}`,
		);
	}
}

/** A 4 MB flash image: bootloader, partition table, blank otadata, `app` in ota_0, `fctry` at 0x11000. */
export function qemuFlashImage(build: Build, app: Uint8Array, fctry: Uint8Array): Uint8Array {
	const flash = new Uint8Array(FLASH_SIZE).fill(0xff);
	flash.set(build.bootloader, build.offsets.bootloader);
	flash.set(build.partitionTable, build.offsets.partitionTable);
	flash.set(fctry, FCTRY_OFFSET);
	flash.set(app, build.offsets.app);
	return flash;
}

/** Which slot otadata of a flash image selects, and that entry's state (what ESP-IDF's bootloader reads). */
export function otadataOf(flash: Uint8Array): {slot: number; state: string} | undefined {
	const entries = [0, 1].map(sector =>
		decodeEntry(
			flash.subarray(OTADATA_OFFSET + sector * 0x1000, OTADATA_OFFSET + sector * 0x1000 + OTA_SELECT_ENTRY_SIZE),
		),
	);
	const active = activeOtadata(entries);
	if (active < 0) return undefined;
	return {slot: slotOfSeq(entries[active].seq, 2), state: imageStateName(entries[active].state)};
}

/** SNTP (RFC 4330) on 127.0.0.1:123, which the guest reaches as 10.0.2.2:123: the host's time. */
function startSntp(say: Say): Promise<() => void> {
	const socket = createSocket("udp4");
	return new Promise((resolve, reject) => {
		socket.once("error", error =>
			reject(
				new QemuError(
					`SNTP server on 127.0.0.1:123: ${error.message} (needs the right to bind port 123, e.g. root)`,
				),
			),
		);
		socket.on("message", (request, peer) => {
			if (request.length < 48) return;
			const reply = Buffer.alloc(48);
			reply[0] = 0x24; // LI 0, version 4, mode 4 (server)
			reply[1] = 1; // stratum 1
			const now = Date.now() / 1000 + 2208988800;
			for (const at of [16, 32, 40]) {
				reply.writeUInt32BE(Math.floor(now), at);
				reply.writeUInt32BE(Math.floor((now % 1) * 2 ** 32), at + 4);
			}
			request.copy(reply, 24, 40, 48); // originate = the client's transmit time
			socket.send(reply, peer.port, peer.address);
			say(`[sntp] time sent to ${peer.address}:${peer.port}`);
		});
		socket.bind(123, "127.0.0.1", () => resolve(() => socket.close()));
	});
}

interface Qemu {
	/** Ends with QEMU's exit code once QEMU is stopped (by stop(), or by exiting other than for a guest reset). */
	stopped: Promise<number | null>;
	stop(): Promise<void>;
	/** How many guest resets ended one QEMU process and started the next on the same flash. */
	readonly resets: number;
}

/**
 * QEMU's esp32c3 on `flashFile`. With `restartOnReset`, QEMU runs with -no-reboot: a guest reset
 * (esp_restart, a panic's restart) ends the process and a new QEMU starts on the same flash, where
 * the ROM and ESP-IDF's bootloader run as after any reset. QEMU's esp32c3 cache (the fork's
 * hw/misc/esp32c3_cache.c) copies flash pages into the cache region when the MMU is written, but does
 * not invalidate the code that TCG has translated from those addresses; a reset in place keeps
 * that code, so a new image in the other slot runs pieces of the old one and crashes
 * (docs/device.md section 11). A new process starts with no translations.
 */
function startQemu(
	tools: QemuTools,
	flashFile: string,
	onLine: (line: string) => void,
	options: {restartOnReset?: boolean; onReset?: () => void} = {},
): Qemu {
	// RMX_QEMU_EXTRA: more QEMU arguments, split at spaces (e.g. "-s" for the gdbstub on tcp::1234,
	// "-d guest_errors,unimp"): how the stall of docs/device.md section 11 was looked at.
	const extra = (process.env.RMX_QEMU_EXTRA ?? "").split(" ").filter(arg => arg !== "");
	let stopping = false;
	let resets = 0;
	let child: ChildProcess;
	let finish: (code: number | null) => void = () => undefined;
	const stopped = new Promise<number | null>(resolve => (finish = resolve));
	const launch = () => {
		child = spawn(
			tools.qemu,
			[
				"-nographic",
				"-machine",
				"esp32c3",
				"-drive",
				`file=${flashFile},if=mtd,format=raw`,
				"-nic",
				"user,model=open_eth",
				...(options.restartOnReset ? ["-no-reboot"] : []),
				...extra,
			],
			{stdio: ["ignore", "pipe", "pipe"]},
		);
		let rest = "";
		const take = (chunk: Buffer) => {
			rest += chunk.toString("latin1");
			const lines = rest.split(/\r?\n/);
			rest = lines.pop() ?? "";
			// eslint-disable-next-line no-control-regex -- ANSI colour codes of ESP-IDF's log
			for (const line of lines) onLine(line.replace(/\x1b\[[0-9;]*m/g, ""));
		};
		child.stdout!.on("data", take);
		child.stderr!.on("data", take);
		child.once("exit", code => {
			// -no-reboot: QEMU exits with 0 on the guest's reset request
			if (!stopping && options.restartOnReset && code === 0) {
				resets++;
				options.onReset?.();
				launch();
			} else finish(code);
		});
	};
	launch();
	return {
		stopped,
		get resets() {
			return resets;
		},
		async stop() {
			stopping = true;
			if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
			await stopped;
		},
	};
}

function waitForLine(lines: readonly string[], pattern: RegExp, timeoutMs: number, from = 0): Promise<string> {
	return new Promise((done, fail) => {
		const started = Date.now();
		const poll = setInterval(() => {
			const line = lines.slice(from).find(candidate => pattern.test(candidate));
			if (line) {
				clearInterval(poll);
				done(line);
			} else if (Date.now() - started > timeoutMs) {
				clearInterval(poll);
				fail(new QemuError(`no QEMU output line matching ${pattern} within ${timeoutMs / 1000} s`));
			}
		}, 200);
	});
}

const STATE = join(REPOSITORY, ".sim", "qemu-demo");
const NODE_ID = "qemu-node";

/** The demo's PKI, kept in .sim/qemu-demo: its CA is built into the firmware. */
function demoPki() {
	return makeTestPki(join(STATE, "pki"), {nodeId: NODE_ID, days: 365, serverNames: [GUEST_HOST]});
}

/**
 * One build for 1.0.0 and the 2.0.0 of the success variant (the same binary, stamped); the rollback
 * variant's 2.0.0 is a second build whose MQTT port is closed. Kept in .sim/qemu-demo/builds.
 */
function buildDemo(tools: QemuTools, unreachable: boolean, say: Say): {build: Build; offered: Uint8Array} {
	const caDer = derOf(demoPki().caCert);
	// RMX_QEMU_KIND=instrument: an instrumented build (-i, memoryReport=true) with its console on the
	// UART; release (default) has no console output from XS (docs/device.md section 11).
	const kind = buildKind();
	const common = {
		caResource: "local-ca.der",
		sntp: GUEST_HOST,
		startupFetchDelaySeconds: 1,
		requestFetchDelaySeconds: 1,
		rebootDelaySeconds: 2,
		rollbackWaitSeconds: 60,
		...(kind === "instrument" ? {memoryReport: true} : {}),
	};
	const builds = buildsDir();
	const build = buildQemuFirmware(
		tools,
		join(STATE, "out"),
		{"local-ca.der": caDer},
		{...common, mqttPort: QEMU_DEMO_MQTTS_PORT},
		line => say(`[build] ${line}`),
		kind,
	);
	saveBuild(build, join(builds, "good"));
	if (!unreachable) return {build, offered: build.app};
	const other = buildQemuFirmware(
		tools,
		join(STATE, "out"),
		{"local-ca.der": caDer},
		{...common, mqttPort: 1},
		line => say(`[build] ${line}`),
		kind,
	);
	saveBuild(other, join(builds, "unreachable"));
	return {build, offered: other.app};
}

/** RMX_QEMU_KIND=instrument: the instrumented build; release otherwise. */
function buildKind(): "release" | "instrument" {
	return process.env.RMX_QEMU_KIND === "instrument" ? "instrument" : "release";
}

/** Where the builds of the current kind are kept (.sim/qemu-demo/builds, builds-instrument): --skip-build takes them. */
function buildsDir(): string {
	return join(STATE, buildKind() === "instrument" ? "builds-instrument" : "builds");
}

function loadDemoBuilds(unreachable: boolean): {build: Build; offered: Uint8Array} {
	const builds = buildsDir();
	if (!existsSync(join(builds, "good.json")) || (unreachable && !existsSync(join(builds, "unreachable.json"))))
		throw new QemuError(`--skip-build: no earlier build in ${builds}; run without --skip-build once`);
	const build = loadBuild(join(builds, "good"));
	return {build, offered: unreachable ? loadBuild(join(builds, "unreachable")).app : build.app};
}

async function demoCommand(argv: string[]): Promise<number> {
	const {values} = parseArgs({
		args: argv,
		options: {variant: {type: "string"}, "skip-build": {type: "boolean"}, "keep-work": {type: "boolean"}},
		strict: true,
	});
	const variant = values.variant ?? "success";
	if (variant !== "success" && variant !== "rollback" && variant !== "power-cut")
		throw new QemuError(`--variant must be success, rollback or power-cut, got ${JSON.stringify(variant)}`);
	const tools = qemuTools();
	if (typeof tools === "string")
		throw new QemuError(`the QEMU lane cannot run here: ${tools} (docs/device.md, section 11)`);
	return (
		await runDemo(tools, {
			variant,
			skipBuild: values["skip-build"] === true,
			keepWork: values["keep-work"] === true,
		})
	).code;
}

interface DemoResult {
	code: number;
	/** The firmware's install: "Starting OTA Upgrade" to "Rebooting into new firmware", as the cloud received them. */
	install?: {
		bytes: number;
		seconds: number;
		/** "Starting OTA Upgrade" to "Downloading Firmware Image" (connect, TLS handshake, headers, the image header). */
		connectSeconds?: number;
		/** To "Firmware Image download complete". */
		bodySeconds?: number;
		/** To "Rebooting into new firmware" (esp_ota_end, esp_ota_set_boot_partition). */
		endSeconds?: number;
	};
}

async function runDemo(
	tools: QemuTools,
	values: {variant: "success" | "rollback" | "power-cut"; skipBuild: boolean; keepWork: boolean},
	say: Say = line => process.stdout.write(line + "\n"),
): Promise<DemoResult> {
	const variant = values.variant;
	const work = mkdtempSync(join(tmpdir(), "rmx-qemu-"));
	const nodeId = NODE_ID;
	const times: [string, number][] = [];
	let mark = Date.now();
	const step = (name: string) => {
		const now = Date.now();
		times.push([name, (now - mark) / 1000]);
		say(`[qemu] step ${name}: ${((now - mark) / 1000).toFixed(1)} s`);
		mark = now;
	};
	/** A step that ended at `at` (a cloud report's arrival), not now: the app's approve waits for the end. */
	const stepAt = (name: string, at: number) => {
		times.push([name, (at - mark) / 1000]);
		say(`[qemu] step ${name}: ${((at - mark) / 1000).toFixed(1)} s`);
		mark = at;
	};
	say(`[qemu] work directory ${work}`);
	const pki = demoPki();
	const {build, offered} = values.skipBuild
		? loadDemoBuilds(variant === "rollback")
		: buildDemo(tools, variant === "rollback", say);
	step("build");
	const flashFile = join(work, "flash.bin");
	writeFileSync(
		flashFile,
		qemuFlashImage(
			build,
			restampAppVersion(build.app, "1.0.0"),
			buildFctryImage({
				nodeId,
				mqttHost: GUEST_HOST,
				clientCert: pki.clientCert,
				clientKey: pki.clientKey,
				random: "0123456789abcdef0123456789abcdef",
			}),
		),
	);
	say(
		`[qemu] flash ${flashFile}: ESP-IDF bootloader, partition table, blank otadata, 1.0.0 in ota_0 (${build.app.length} bytes), claim data of ${nodeId} in fctry`,
	);
	step("flash");
	const stopSntp = await startSntp(say);
	const cloud = await startCloud({
		tls: {key: pki.serverKey, cert: pki.serverCert + pki.caCert, ca: pki.caCert},
		mqttsPort: QEMU_DEMO_MQTTS_PORT,
		advertisedHost: GUEST_HOST,
		log: line => say(`[cloud] ${line}`),
	});
	let qemu: Qemu | undefined;
	const lines: string[] = [];
	let code = 1;
	let install: DemoResult["install"];
	try {
		const image = await cloud.addImage(restampAppVersion(offered, "2.0.0"), "firmware-2.0.0");
		const job = await cloud.createJob({
			imageId: image.id,
			nodes: [nodeId],
			name: `qemu update to 2.0.0 (${variant})`,
		});
		say(
			`[qemu] local cloud: ${cloud.mqttsUrl}, downloads ${cloud.downloadBaseUrl}; firmware 2.0.0 published as OTA job ${job.id}`,
		);
		step("cloud");
		const launch = () =>
			startQemu(
				tools,
				flashFile,
				line => {
					lines.push(line);
					say(`[esp32c3] ${line}`);
				},
				{
					// RMX_QEMU_RESET=in-place: QEMU resets the chip itself (a QEMU whose esp32c3 cache drops
					// translated code on an MMU change, or to see the crash of docs/device.md section 11)
					restartOnReset: process.env.RMX_QEMU_RESET !== "in-place",
					onReset: () => say("[qemu] guest reset: QEMU restarted on the same flash (see startQemu)"),
				},
			);
		qemu = launch();
		const guard = <T>(promise: Promise<T>) =>
			Promise.race([
				promise,
				qemu!.stopped.then(exit => {
					throw new QemuError(`QEMU ended with exit code ${exit} before the update finished`);
				}),
			]);
		await guard(cloud.waitFor("online", id => id === nodeId, 300_000));
		step("boot");
		await guard(cloud.waitForStatus(nodeId, job.id, "delayed", 180_000));
		say(`[qemu] update 2.0.0 offered to ${nodeId}, waiting for approval; approving as the phone app would`);
		step("offer");
		const appIo = {out: (line: string) => say(`[app] ${line}`), err: (line: string) => say(`[app] ${line}`)};
		// The app runs on the host: the cloud's URLs name 10.0.2.2, the host as only the guest sees it.
		const appState = [
			"--base-url",
			cloud.httpUrl.replace(`//${GUEST_HOST}:`, "//127.0.0.1:"),
			"--state-file",
			join(work, "app-state.json"),
		];
		code = await guard(
			appCommand(
				["login", ...appState, "--user", DEFAULT_USER.userName, "--password", DEFAULT_USER.password],
				appIo,
			),
		);
		if (code !== 0) throw new QemuError("the app's login failed");
		// The app approves and then watches the job to its end; for the power cut the demo must act
		// during the write (5 s in QEMU), so it does not wait for the app there.
		const approval = appCommand(
			["approve", "--node", nodeId, ...appState, "--timeout", variant === "power-cut" ? "20" : "60"],
			appIo,
		);
		if (variant !== "power-cut") {
			code = await guard(approval);
			if (code !== 0 && variant !== "rollback")
				// rollback: the app's watch ends in `rejected` (exit 1), as intended
				throw new QemuError("the approval failed");
		}
		if (variant === "power-cut") {
			step("approve");
			await guard(
				cloud.waitForStatus(
					nodeId,
					job.id,
					report =>
						report.status === "in-progress" &&
						Number(/Downloaded (\d+)%/.exec(report.additionalInfo)?.[1] ?? 0) >= 20,
					600_000,
				),
			);
			say("[qemu] power cut: QEMU killed during the write");
			await qemu.stop();
			step("write (cut)");
			const after = otadataOf(new Uint8Array(readFileSync(flashFile)));
			say(`[qemu] otadata after the cut: ${after ? `ota_${after.slot} (${after.state})` : "blank (ota_0)"}`);
			const from = lines.length;
			qemu = launch();
			await guard(cloud.waitFor("online", id => id === nodeId, 300_000));
			const running = (cloud.node(nodeId)?.config?.info as {fw_version?: string} | undefined)?.fw_version;
			say(
				`[qemu] done: after the cut the flash booted again (${lines.slice(from).find(line => /Loaded app from partition/.test(line)) ?? "boot line not seen"}), ${nodeId} online with ${running ?? "?"}`,
			);
			step("reboot after cut");
			code = running === "1.0.0" ? 0 : 1;
			await approval.catch(() => 1); // the app's watch ends by its --timeout; its verdict is not the demo's
		} else {
			const starting = await guard(
				cloud.waitForStatus(
					nodeId,
					job.id,
					report => report.status === "in-progress" && /^Starting OTA Upgrade/.test(report.additionalInfo),
					300_000,
				),
			);
			const rebooting = await guard(
				cloud.waitForStatus(
					nodeId,
					job.id,
					report =>
						report.status === "in-progress" && /^Rebooting into new firmware/.test(report.additionalInfo),
					900_000,
				),
			);
			stepAt("approve", starting.receivedAt);
			const seconds = (rebooting.receivedAt - starting.receivedAt) / 1000;
			// the reports in between (all received by now): the first body bytes judged, the last written
			const reportOf = async (pattern: RegExp) =>
				(
					await cloud.waitForStatus(
						nodeId,
						job.id,
						report => report.status === "in-progress" && pattern.test(report.additionalInfo),
						1_000,
					)
				).receivedAt;
			const firstBytes = await reportOf(/^Downloading Firmware Image/).catch(() => undefined);
			const complete = await reportOf(/^Firmware Image download complete/).catch(() => undefined);
			install = {
				bytes: image.fileSize,
				seconds,
				...(firstBytes && complete
					? {
							connectSeconds: (firstBytes - starting.receivedAt) / 1000,
							bodySeconds: (complete - firstBytes) / 1000,
							endSeconds: (rebooting.receivedAt - complete) / 1000,
						}
					: {}),
			};
			say(
				`[qemu] install (HTTPS connect, download, esp_ota_write, esp_ota_end, boot partition): ${image.fileSize} bytes in ${seconds.toFixed(1)} s = ${(image.fileSize / 1024 / seconds).toFixed(1)} KiB/s` +
					(install.bodySeconds !== undefined
						? ` (to the first bytes ${install.connectSeconds!.toFixed(2)} s, body ${install.bodySeconds.toFixed(2)} s, esp_ota_end + boot partition ${install.endSeconds!.toFixed(2)} s, from the node's reports)`
						: ""),
			);
			stepAt("download + write", rebooting.receivedAt);
			if (variant === "success") {
				const report = await guard(cloud.waitForStatus(nodeId, job.id, "success", 300_000));
				stepAt("reboot + confirm", report.receivedAt);
				const runs = (cloud.node(nodeId)?.config?.info as {fw_version?: string} | undefined)?.fw_version;
				await qemu.stop();
				const otadata = otadataOf(new Uint8Array(readFileSync(flashFile)));
				say(
					`[qemu] done: ${nodeId} reported ${report.status} "${report.additionalInfo ?? ""}"; it runs ${runs ?? "?"}; otadata selects ${otadata ? `ota_${otadata.slot} (${otadata.state})` : "nothing"}`,
				);
				code = report.status === "success" && otadata?.slot === 1 && otadata.state === "valid" ? 0 : 1;
			} else {
				const report = await guard(cloud.waitForStatus(nodeId, job.id, "rejected", 600_000));
				stepAt("reboot + rollback", report.receivedAt);
				await qemu.stop();
				const otadata = otadataOf(new Uint8Array(readFileSync(flashFile)));
				say(
					`[qemu] done: ${nodeId} reported ${report.status} "${report.additionalInfo ?? ""}"; otadata selects ${otadata ? `ota_${otadata.slot} (${otadata.state})` : "nothing"}`,
				);
				code = report.status === "rejected" && /rolled back/i.test(report.additionalInfo ?? "") ? 0 : 1;
			}
		}
		const peaks = lines.filter(line => line.includes("memory peaks"));
		if (peaks.length) say(`[qemu] XS memory: ${peaks.slice(-2).join(" | ")}`);
		const heap = freeHeapDuringInstall(lines);
		if (heap)
			say(
				`[qemu] free heap (the SDK's instrumentation, "System bytes free" = heap_caps 8-bit, sampled once a second): ${heap.before} bytes before the install, lowest ${heap.lowest} during download + write (${heap.samples} samples)`,
			);
		say(`[qemu] timings: ${times.map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(", ")}`);
		return {code, install};
	} finally {
		await qemu?.stop();
		stopSntp();
		await cloud.close();
		writeFileSync(join(work, "qemu.log"), lines.join("\n") + "\n");
		if (values.keepWork) say(`[qemu] kept ${work} (flash.bin, qemu.log)`);
		else rmSync(work, {recursive: true, force: true});
	}
}

/** One run of ESP-IDF's OTA app (bench/qemu-idf-ota/main/bench.c), as its BENCH line reports it. */
interface IdfRun {
	/** esp_https_ota's begin + perform + finish, timed on the chip (esp_timer). */
	ms: number;
	beginMs: number;
	performMs: number;
	finishMs: number;
	/** The same span as the host saw it: the "BENCH: start" line to the result line. */
	hostMs: number;
	heapBefore: number;
	heapMinimum: number;
	heapAfter: number;
}

const IDF_RESULT =
	/esp_https_ota ESP_OK \(0\) in (\d+) ms \(begin (\d+) ms, perform (\d+) ms, finish (\d+) ms\); boot partition ota_1; free internal heap before (\d+), minimum (\d+), after (\d+)/;

/** The figures of bench.c's result line, or undefined when the line does not report a successful update into ota_1. */
export function parseIdfBenchLine(line: string): Omit<IdfRun, "hostMs"> | undefined {
	const match = IDF_RESULT.exec(line);
	if (!match) return undefined;
	const [ms, beginMs, performMs, finishMs, heapBefore, heapMinimum, heapAfter] = match.slice(1).map(Number);
	return {ms, beginMs, performMs, finishMs, heapBefore, heapMinimum, heapAfter};
}

/** Builds bench/qemu-idf-ota (cmake + ninja into .sim/qemu-demo/idf-bench) unless `skip` and built. */
function buildIdfBench(tools: QemuTools, skip: boolean, say: Say): string {
	const source = join(REPOSITORY, "bench", "qemu-idf-ota");
	const out = join(STATE, "idf-bench");
	if (skip && existsSync(join(out, "flash_args"))) return out;
	const env = {
		...process.env,
		IDF_PATH: tools.idfPath,
		IDF_COMPONENT_MANAGER: "0",
		ESP_ROM_ELF_DIR: process.env.ESP_ROM_ELF_DIR ?? "/nonexistent",
	};
	if (!existsSync(join(out, "build.ninja"))) {
		say(`[bench] cmake ${source} (ESP-IDF project, target esp32c3)`);
		run(
			"cmake",
			[
				"-S",
				source,
				"-B",
				out,
				"-G",
				"Ninja",
				"-DIDF_TARGET=esp32c3",
				`-DSDKCONFIG=${join(out, "sdkconfig")}`,
				`-DPYTHON=${tools.python}`,
				"-DPYTHON_DEPS_CHECKED=1",
				"-DCCACHE_ENABLE=0",
			],
			source,
			env,
			"cmake",
		);
	}
	say("[bench] ninja (ESP-IDF's OTA app)");
	run("ninja", ["-C", out, `-j${tools.jobs}`], source, env, "ninja");
	return out;
}

/** One ESP-IDF OTA in QEMU: the app of `out` in ota_0, the URL and CA in fctry, `offered` served by a local cloud. */
async function runIdfOta(tools: QemuTools, out: string, offered: Uint8Array, say: Say): Promise<IdfRun> {
	const flashArgs = readFileSync(join(out, "flash_args"), "utf8")
		.split("\n")
		.filter(line => /^0x/.test(line))
		.map(line => line.split(/\s+/));
	const part = (pattern: RegExp) => {
		const entry = flashArgs.find(([, file]) => pattern.test(file));
		if (!entry) throw new QemuError(`${join(out, "flash_args")} names no ${pattern}`);
		return {offset: parseInt(entry[0], 16), bytes: new Uint8Array(readFileSync(join(out, entry[1])))};
	};
	const bootloader = part(/bootloader\.bin$/),
		table = part(/partition-table\.bin$/),
		app = part(/^(?!ota_data_initial)[^/]+\.bin$/);
	const pki = demoPki();
	const cloud = await startCloud({
		tls: {key: pki.serverKey, cert: pki.serverCert + pki.caCert, ca: pki.caCert},
		advertisedHost: GUEST_HOST,
		log: () => undefined,
	});
	const work = mkdtempSync(join(tmpdir(), "rmx-qemu-bench-"));
	let qemu: Qemu | undefined;
	try {
		const image = await cloud.addImage(offered, "firmware-2.0.0");
		const flash = qemuFlashImage(
			{
				bootloader: bootloader.bytes,
				partitionTable: table.bytes,
				app: app.bytes,
				offsets: {bootloader: bootloader.offset, partitionTable: table.offset, app: app.offset},
			},
			app.bytes,
			new TextEncoder().encode(`${cloud.imageUrl(image)}\n${pki.caCert}\0`),
		);
		const flashFile = join(work, "flash.bin");
		writeFileSync(flashFile, flash);
		const lines: string[] = [];
		let startedAt = 0;
		let endedAt = 0;
		qemu = startQemu(tools, flashFile, line => {
			lines.push(line);
			if (/BENCH: start/.test(line)) startedAt = Date.now();
			if (/BENCH: (esp_https_ota|error)/.test(line)) endedAt = Date.now();
			if (/BENCH|error|Guru|abort/i.test(line)) say(`[esp32c3] ${line}`);
		});
		const line = await Promise.race([
			waitForLine(lines, /BENCH: (esp_https_ota|error)/, 600_000),
			qemu.stopped.then(exit => {
				throw new QemuError(`QEMU ended with exit code ${exit} before ESP-IDF's OTA finished`);
			}),
		]);
		const figures = parseIdfBenchLine(line);
		if (!figures) throw new QemuError(`ESP-IDF's OTA did not succeed: ${line}`);
		return {...figures, hostMs: endedAt - startedAt};
	} finally {
		await qemu?.stop();
		await cloud.close();
		rmSync(work, {recursive: true, force: true});
	}
}

/**
 * From an instrumented build's console: the SDK's "System bytes free" sample (heap_caps_get_free_size
 * of 8-bit capable memory: all internal RAM on the ESP32-C3) last seen before "Starting OTA Upgrade",
 * and the lowest between it and "Rebooting into".
 */
export function freeHeapDuringInstall(
	lines: readonly string[],
): {before: number; lowest: number; samples: number} | undefined {
	const key = lines.find(line => line.startsWith("instruments key: "));
	const column = key?.slice("instruments key: ".length).split(",").indexOf("System bytes free") ?? -1;
	if (column < 0) return undefined;
	let before: number | undefined;
	let lowest = Infinity;
	let samples = 0;
	let phase: "before" | "install" | "after" = "before";
	for (const line of lines) {
		if (phase === "before" && /Starting OTA Upgrade/.test(line)) phase = "install";
		else if (phase === "install" && /Rebooting into/.test(line)) phase = "after";
		const sample = /^instruments: ([\d,]+)$/.exec(line);
		if (!sample) continue;
		const free = Number(sample[1].split(",")[column]);
		if (phase === "before") before = free;
		else if (phase === "install") {
			lowest = Math.min(lowest, free);
			samples++;
		}
	}
	return before !== undefined && samples > 0 ? {before, lowest, samples} : undefined;
}

function median(values: readonly number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const middle = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * ESP-IDF's own OTA in the same QEMU, on the same partition table, from the same cloud and image:
 * bench/qemu-idf-ota (esp_https_ota's API, timed on the chip with esp_timer and on the host,
 * heap_caps minimum), built with the same toolchain; then the firmware's demo (success variant, the
 * release builds of `qemu build`); `--runs N` alternates the two N times. Prints every run, the
 * medians and the ratio of the firmware's throughput to ESP-IDF's (docs/device.md, section 11).
 */
async function benchCommand(argv: string[]): Promise<number> {
	const {values} = parseArgs({
		args: argv,
		options: {"skip-build": {type: "boolean"}, runs: {type: "string"}},
		strict: true,
	});
	const runs = Number(values.runs ?? 1);
	if (!Number.isInteger(runs) || runs < 1 || runs > 20)
		throw new QemuError(`--runs must be a whole number from 1 to 20, got ${JSON.stringify(values.runs)}`);
	if (buildKind() !== "release")
		throw new QemuError(
			"qemu bench measures the release build: unset RMX_QEMU_KIND (an instrumented build samples its memory every 20 ms)",
		);
	const tools = qemuTools();
	if (typeof tools === "string")
		throw new QemuError(`the QEMU lane cannot run here: ${tools} (docs/device.md, section 11)`);
	const say: Say = line => process.stdout.write(line + "\n");
	const out = buildIdfBench(tools, values["skip-build"] === true, say);
	const {build} = loadDemoBuilds(false);
	const offered = restampAppVersion(build.app, "2.0.0");
	const kib = (bytes: number, ms: number) => (bytes / 1024 / (ms / 1000)).toFixed(1);
	const idfRuns: IdfRun[] = [];
	const firmwareMs: number[] = [];
	for (let index = 1; index <= runs; index++) {
		const idf = await runIdfOta(tools, out, offered, say);
		idfRuns.push(idf);
		say(
			`[bench] run ${index}: ESP-IDF esp_https_ota ${offered.length} bytes in ${(idf.ms / 1000).toFixed(2)} s on the chip = ${kib(offered.length, idf.ms)} KiB/s (begin ${idf.beginMs} ms, perform ${idf.performMs} ms, finish ${idf.finishMs} ms; ${(idf.hostMs / 1000).toFixed(2)} s as the host saw it); free internal heap ${idf.heapBefore} before, minimum ${idf.heapMinimum}, ${idf.heapAfter} after`,
		);
		const firmware = await runDemo(tools, {variant: "success", skipBuild: true, keepWork: false}, line => {
			if (/^\[qemu\] (install|done|timings)/.test(line)) say(line);
		});
		if (firmware.code !== 0 || !firmware.install)
			throw new QemuError(`run ${index}: the firmware's demo did not end in success: no figure`);
		firmwareMs.push(firmware.install.seconds * 1000);
		say(
			`[bench] run ${index}: firmware ${firmware.install.bytes} bytes in ${firmware.install.seconds.toFixed(2)} s = ${kib(firmware.install.bytes, firmware.install.seconds * 1000)} KiB/s (to the first bytes ${firmware.install.connectSeconds?.toFixed(2) ?? "?"} s, body ${firmware.install.bodySeconds?.toFixed(2) ?? "?"} s, end ${firmware.install.endSeconds?.toFixed(2) ?? "?"} s); ratio ${(idf.ms / (firmware.install.seconds * 1000)).toFixed(2)}`,
		);
	}
	const idfMs = median(idfRuns.map(run => run.ms));
	const idfHostMs = median(idfRuns.map(run => run.hostMs));
	const fwMs = median(firmwareMs);
	say(
		`[bench] medians of ${runs} run(s), ${offered.length} bytes: firmware ${(fwMs / 1000).toFixed(2)} s = ${kib(offered.length, fwMs)} KiB/s (host clock: the node's reports); ESP-IDF ${(idfMs / 1000).toFixed(2)} s = ${kib(offered.length, idfMs)} KiB/s on the chip's clock, ${(idfHostMs / 1000).toFixed(2)} s on the host's`,
	);
	say(
		`[bench] ratio firmware / ESP-IDF throughput: ${(idfMs / fwMs).toFixed(2)} of the medians, ${median(idfRuns.map((run, index) => run.ms / firmwareMs[index])).toFixed(2)} the median of the runs' ratios (goal at least 0.8); ESP-IDF's free internal heap minimum during its update: ${Math.min(...idfRuns.map(run => run.heapMinimum))} bytes`,
	);
	return 0;
}

function saveBuild(build: Build, stem: string): void {
	mkdirSync(dirname(stem), {recursive: true});
	writeFileSync(`${stem}.json`, JSON.stringify(build.offsets));
	writeFileSync(`${stem}-bootloader.bin`, build.bootloader);
	writeFileSync(`${stem}-partition-table.bin`, build.partitionTable);
	writeFileSync(`${stem}-app.bin`, build.app);
}

function loadBuild(stem: string): Build {
	return {
		offsets: JSON.parse(readFileSync(`${stem}.json`, "utf8")) as Build["offsets"],
		bootloader: new Uint8Array(readFileSync(`${stem}-bootloader.bin`)),
		partitionTable: new Uint8Array(readFileSync(`${stem}-partition-table.bin`)),
		app: new Uint8Array(readFileSync(`${stem}-app.bin`)),
	};
}

function derOf(pem: string): Uint8Array {
	const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
	return new Uint8Array(Buffer.from(body, "base64"));
}

export async function qemuCommand(argv: string[]): Promise<number> {
	const [mode, ...rest] = argv;
	if (mode === undefined || mode === "--help" || mode === "-h" || mode === "help") {
		process.stdout.write(QEMU_USAGE + "\n");
		return mode === undefined ? 2 : 0;
	}
	try {
		if (mode === "build") {
			const {values} = parseArgs({args: rest, options: {variant: {type: "string"}}, strict: true});
			const tools = qemuTools(process.env, {needQemu: false});
			if (typeof tools === "string")
				throw new QemuError(`cannot build for QEMU here: ${tools} (docs/device.md, section 11)`);
			const started = Date.now();
			const {build} = buildDemo(tools, values.variant === "rollback", line => process.stdout.write(line + "\n"));
			process.stdout.write(
				`[qemu] built in ${((Date.now() - started) / 1000).toFixed(1)} s: app ${build.app.length} bytes, bootloader ${build.bootloader.length} bytes (${buildsDir()})\n`,
			);
			return 0;
		}
		if (mode === "bench") {
			const code = await benchCommand(rest);
			process.exit(code);
		}
		if (mode === "demo") {
			const code = await demoCommand(rest);
			process.exit(code);
		}
		process.stderr.write(`rainmaker-ota-xs qemu: unknown mode ${JSON.stringify(mode)}\n${QEMU_USAGE}\n`);
		return 2;
	} catch (error) {
		if ((error as {code?: string}).code?.startsWith("ERR_PARSE_ARGS")) {
			process.stderr.write(`rainmaker-ota-xs qemu: ${(error as Error).message}\n${QEMU_USAGE}\n`);
			return 2;
		}
		if (error instanceof QemuError) {
			process.stderr.write(`rainmaker-ota-xs qemu: ${error.message}\n`);
			return 1;
		}
		throw error;
	}
}
