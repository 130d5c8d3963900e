/*
 * `rainmaker-ota-xs lin …`: the firmware built by the Moddable SDK for its `lin` target, run in the
 * SDK's simulator `mcsim`, as a node with a flash of its own.
 * - `lin run` provisions the flash directory (the host simulator's layout: flash.bin with
 *   partitions.csv's table, an image in ota_0, the fctry partition from an NVS image) and runs
 *   mcsim on the build's mc.so with RMX_FLASH_DIR set; when mcsim exits with the reboot exit code
 *   (esp_restart, a rollback: native/otaplat_lin.c) it starts mcsim again, as a reset would, and
 *   the firmware's bootloader step (idf/bootloader.ts) picks the image from otadata. Console lines
 *   on stdin go to the running mcsim.
 * - `lin demo` builds the firmware with mcconfig, starts the local cloud with mutual TLS, claims the
 *   node (fctry NVS image with a client certificate from a local CA), publishes 2.0.0 as an OTA
 *   job, runs the node under `lin run`'s supervisor, approves the offered update as the phone app
 *   would and waits until the node, rebooted into 2.0.0, reports `success`.
 * Needs the SDK built for Linux: MODDABLE pointing at it (docs/device.md).
 */
import {reportedPower} from "../../product/switch";
import {spawn, spawnSync, type SpawnSyncReturns} from "node:child_process";
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {delimiter, join, resolve} from "node:path";
import {createInterface} from "node:readline";
import {fileURLToPath} from "node:url";
import {parseArgs} from "node:util";
import {appCommand} from "../client/main";
import {startCloud} from "../cloud/cloud";
import {DEFAULT_USER} from "../cloud/defaults";
import {issueEcClient, makeTestPki} from "../pki";
import {provision} from "../../idf/bootloader";
import {HostDevice} from "../adapters/host-device";
import {buildAppImage} from "../tools/app-image";
import {FIRMWARE_NAME} from "../tools/firmware-identity";
import {buildFctryImage} from "../tools/nvs-partition";
import {provisionFctry} from "./fctry";
import {runResetLoop, type ResetLoop} from "./reset-loop";

/** native/otaplat_lin.c's exit code of a restart (the host simulator uses the same, host/sim/boot.ts). */
export const LIN_REBOOT_EXIT_CODE = 3;
const REPOSITORY = fileURLToPath(new URL("../..", import.meta.url));
/** The demo cloud's MQTT/TLS port: fixed, since the firmware's mqttPort is set at build time. */
export const LIN_DEMO_MQTTS_PORT = 18883;

export const LIN_USAGE = `Usage: rainmaker-ota-xs lin run --flash-dir <dir> [--mc <mc.so>] [--image <file>] [--fctry <nvs.bin>]
       rainmaker-ota-xs lin demo [--skip-build] [--keep-work] [--key-type rsa|ec] [--stream]
  run: runs the lin build in mcsim with the flash in <dir> (flash.bin, nvs.json, eFuses), booting it
       again whenever the firmware restarts (exit code ${LIN_REBOOT_EXIT_CODE}); console lines on stdin
    --mc <mc.so>        the build (default $MODDABLE/build/bin/lin/mc/release/rainmaker-ota-xs/mc.so)
    --image <file>      app image written into ota_0 of an empty flash (as idf.py flash)
    --fctry <nvs.bin>   NVS image written into the fctry partition (esp-rainmaker-cli claim data)
  demo: the whole approval OTA on the lin build against the local cloud (MQTT over mutual TLS,
        HTTPS download): build, claim, job, approval, reboot into 2.0.0, success
    --skip-build        use the mc.so of an earlier demo build (made for the same --mqtts-port)
    --mqtts-port <n>    the local cloud's MQTT/TLS port, built into the firmware (default ${LIN_DEMO_MQTTS_PORT})
    --keep-work         keep the work directory (PKI, images, flash)
    --key-type rsa|ec   the claimed node's key: rsa (default; RSA-2048, PKCS#8 PEM) or ec (EC P-256,
                        PKCS#8 PEM: esp-rainmaker-cli claim's default)
    --instrumented      an instrumented build (-i) with memoryReport=true: XS memory peaks in the log
    --stream            a stream job: the firmware is built with transport=mqtt-stream and
                        downloads the image as blocks over its MQTT link (docs/protocol.md §5.10);
                        with --skip-build the earlier build must have been a --stream one
Needs MODDABLE (the Moddable SDK built for Linux) and, without a display, xvfb-run.`;

export class LinError extends Error {}

export function moddableRoot(): string {
	const root = process.env.MODDABLE;
	if (!root || !existsSync(join(root, "build", "bin", "lin", "release", "mcconfig")))
		throw new LinError(
			"MODDABLE must point at a Moddable SDK with its Linux tools built ($MODDABLE/build/bin/lin/release/mcconfig)",
		);
	return root;
}

export function defaultMcPath(root = moddableRoot(), kind: "release" | "instrument" = "release"): string {
	return join(root, "build", "bin", "lin", "mc", kind, "rainmaker-ota-xs", "mc.so");
}

/** Writes the flash directory's initial contents: the image into ota_0 of an empty flash, the fctry image. */
export function provisionLinFlash(flashDir: string, options: {image?: Uint8Array; fctry?: Uint8Array}): void {
	mkdirSync(flashDir, {recursive: true});
	const device = HostDevice.open({flashFile: join(flashDir, "flash.bin")});
	try {
		if (options.image) {
			const slot = device.slot(0);
			if (slot.read(0, 1)[0] === 0xff) provision(device, options.image);
		}
		if (options.fctry) provisionFctry(device, options.fctry);
	} finally {
		device.close();
	}
}

/** The command that runs mcsim: under xvfb-run when there is no display, with line-buffered output. */
export function mcsimCommand(root: string, mc: string): string[] {
	const mcsim = join(root, "build", "bin", "lin", "release", "mcsim");
	const line = hasCommand("stdbuf") ? ["stdbuf", "-oL", "-eL"] : [];
	const display = process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
	if (display) return [...line, mcsim, mc];
	if (!hasCommand("xvfb-run"))
		throw new LinError("no display and no xvfb-run: install xvfb (apt-get install xvfb) or set DISPLAY");
	return ["xvfb-run", "-a", ...line, mcsim, mc];
}

function hasCommand(name: string): boolean {
	return spawnSync("sh", ["-c", `command -v ${name}`], {stdio: "ignore"}).status === 0;
}

/** The lin build's reset loop (reset-loop.ts). */
export type LinNode = ResetLoop;

/** Runs mcsim on `mc` with the flash in `flashDir`, starting it again on every reboot exit. */
export function superviseLin(command: readonly string[], flashDir: string, onLine: (line: string) => void): LinNode {
	return runResetLoop({
		spawnBoot: () =>
			spawn(command[0], command.slice(1), {
				stdio: ["pipe", "pipe", "pipe"],
				env: {...process.env, RMX_FLASH_DIR: resolve(flashDir)},
				detached: true,
			}),
		rebootExitCode: LIN_REBOOT_EXIT_CODE,
		onLine,
		rebootNote: `-- mcsim exited with ${LIN_REBOOT_EXIT_CODE} (restart): booting again --`,
		kill(child) {
			// xvfb-run starts Xvfb and mcsim in the child's process group: end the whole group
			if (child.pid === undefined) return;
			try {
				process.kill(-child.pid, "SIGTERM");
			} catch {
				child.kill("SIGTERM");
			}
		},
	});
}

/** Builds the lin firmware with mcconfig (-m -p lin -t build), with extra resources and config values. */
/** Runs the SDK's own mcconfig (its lin tools, the project's tsc first on PATH) in `cwd`; output captured. */
export function runMcconfig(root: string, args: readonly string[], cwd: string): SpawnSyncReturns<string> {
	const env = {
		...process.env,
		MODDABLE: root,
		PATH: [
			join(REPOSITORY, "node_modules", ".bin"),
			process.env.PATH ?? "",
			join(root, "build", "bin", "lin", "release"),
		].join(delimiter),
	};
	return spawnSync(join(root, "build", "bin", "lin", "release", "mcconfig"), args, {
		cwd,
		env,
		encoding: "utf8",
		maxBuffer: 64 * 1024 * 1024,
	});
}

export function buildLin(
	root: string,
	work: string,
	resources: {[name: string]: Uint8Array},
	config: {[key: string]: string | number | boolean},
	onLine: (line: string) => void,
	kind: "release" | "instrument" = "release",
): string {
	const dir = join(work, "build-manifest");
	mkdirSync(dir, {recursive: true});
	for (const [name, bytes] of Object.entries(resources)) writeFileSync(join(dir, name), bytes);
	const manifest = {
		include: [join(REPOSITORY, "manifest.json")],
		resources: {"*": Object.keys(resources).map(name => "./" + name.replace(/\.der$/, ""))},
	};
	writeFileSync(join(dir, "manifest.json"), JSON.stringify(manifest, null, "\t"));
	const args = [
		...(kind === "instrument" ? ["-i"] : []),
		"-m",
		"-p",
		"lin",
		"-t",
		"build",
		join(dir, "manifest.json"),
		...Object.entries(config).map(([key, value]) => `${key}=${value}`),
	];
	onLine(`mcconfig ${args.join(" ")}`);
	const result = runMcconfig(root, args, dir);
	const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
	for (const line of output.split("\n").filter(line => /error|warning: (?!wifi|ssl|cli)/i.test(line)))
		onLine(`mcconfig: ${line}`);
	if (result.status !== 0)
		throw new LinError(`mcconfig failed (exit ${result.status}):\n${output.split("\n").slice(-30).join("\n")}`);
	const mc = defaultMcPath(root, kind);
	if (!existsSync(mc)) throw new LinError(`mcconfig succeeded but ${mc} is missing`);
	return mc;
}

async function runCommand(argv: string[]): Promise<number> {
	const {values} = parseArgs({
		args: argv,
		options: {
			"flash-dir": {type: "string"},
			mc: {type: "string"},
			image: {type: "string"},
			fctry: {type: "string"},
		},
		strict: true,
	});
	if (!values["flash-dir"]) throw new LinError("--flash-dir <dir> is required");
	const root = moddableRoot();
	const mc = values.mc ?? defaultMcPath(root);
	if (!existsSync(mc))
		throw new LinError(`no lin build at ${mc}: build it with mcconfig -m -p lin -t build (docs/device.md)`);
	provisionLinFlash(values["flash-dir"], {
		image: values.image ? new Uint8Array(readFileSync(values.image)) : undefined,
		fctry: values.fctry ? new Uint8Array(readFileSync(values.fctry)) : undefined,
	});
	const node = superviseLin(mcsimCommand(root, mc), values["flash-dir"], line => process.stdout.write(line + "\n"));
	const input = createInterface({input: process.stdin, terminal: false});
	input.on("line", line => node.send(line));
	// mcsim runs in a process group of its own (xvfb-run's): take it down with this command
	process.on("SIGINT", () => node.stop());
	process.on("SIGTERM", () => node.stop());
	process.on("SIGHUP", () => node.stop());
	const code = await node.stopped;
	input.close();
	return code;
}

async function demoCommand(argv: string[]): Promise<number> {
	const {values} = parseArgs({
		args: argv,
		options: {
			"skip-build": {type: "boolean"},
			"keep-work": {type: "boolean"},
			"key-type": {type: "string"},
			"mqtts-port": {type: "string"},
			instrumented: {type: "boolean"},
			stream: {type: "boolean"},
		},
		strict: true,
	});
	const stream = values.stream === true;
	const keyType = values["key-type"] ?? "rsa";
	if (keyType !== "rsa" && keyType !== "ec")
		throw new LinError(`--key-type must be rsa or ec, got ${JSON.stringify(keyType)}`);
	const mqttsPort = Number(values["mqtts-port"] ?? LIN_DEMO_MQTTS_PORT);
	if (!Number.isInteger(mqttsPort) || mqttsPort < 1 || mqttsPort > 65535)
		throw new LinError(`--mqtts-port must be a port number, got ${JSON.stringify(values["mqtts-port"])}`);
	const root = moddableRoot();
	const say = (line: string) => process.stdout.write(line + "\n");
	const work = mkdtempSync(join(tmpdir(), "rmx-lin-"));
	const nodeId = "lin-node";
	say(`[lin] work directory ${work}`);
	// The PKI stays in .sim/lin-demo: its CA is built into the firmware, so --skip-build needs the same one.
	const pki = makeTestPki(join(REPOSITORY, ".sim", "lin-demo", "pki"), {nodeId, days: 365});
	let clientKey = pki.clientKey;
	let clientCert = pki.clientCert;
	if (keyType === "ec") {
		// what `esp-rainmaker-cli claim` makes by default: an EC P-256 key in PKCS#8 PEM
		const ec = issueEcClient(join(work, "ec"), pki.paths, nodeId);
		clientKey = ec.key;
		clientCert = ec.cert;
	}
	// "localhost": Moddable's TLS matches the server name against DNS names of subjectAltName only
	// (an IP SAN fails with "subjectAltName match failed"), and the test PKI's server certificate has DNS:localhost.
	// The server sends its chain (certificate + CA), as real servers send their intermediates:
	// Moddable's verifier checks subjectAltName only for certificates that come with their issuer.
	const cloud = await startCloud({
		tls: {key: pki.serverKey, cert: pki.serverCert + pki.caCert, ca: pki.caCert},
		mqttsPort,
		advertisedHost: "localhost",
		log: line => say(`[cloud] ${line}`),
	});
	let node: LinNode | undefined;
	let code = 1;
	try {
		const mqttPort = Number(new URL(cloud.mqttsUrl!).port);
		say(`[lin] local cloud: MQTT/TLS ${cloud.mqttsUrl}, REST ${cloud.httpUrl}, downloads ${cloud.downloadBaseUrl}`);
		const caDer = derOf(pki.caCert);
		const kind = values.instrumented ? "instrument" : "release";
		const mc = values["skip-build"]
			? defaultMcPath(root, kind)
			: buildLin(
					root,
					work,
					{"local-ca.der": caDer},
					{
						mqttPort,
						caResource: "local-ca.der",
						startupFetchDelaySeconds: 1,
						requestFetchDelaySeconds: 1,
						rebootDelaySeconds: 2,
						rollbackWaitSeconds: 60,
						...(values.instrumented ? {memoryReport: true} : {}),
						...(stream ? {transport: "mqtt-stream"} : {}),
					},
					line => say(`[build] ${line}`),
					kind,
				);
		const flashDir = join(work, "flash");
		provisionLinFlash(flashDir, {
			image: buildAppImage({version: "1.0.0", payloadSize: 256 * 1024}),
			fctry: buildFctryImage({
				nodeId,
				mqttHost: "localhost",
				clientCert,
				clientKey,
				random: "0123456789abcdef0123456789abcdef",
			}),
		});
		say(
			`[lin] flash ${join(flashDir, "flash.bin")}: 1.0.0 in ota_0, claim data of ${nodeId} (${keyType} key) in fctry`,
		);
		const image = await cloud.addImage(
			buildAppImage({version: "2.0.0", payloadSize: 256 * 1024}),
			"firmware-2.0.0",
		);
		const job = await cloud.createJob({
			imageId: image.id,
			nodes: [nodeId],
			name: "lin update to 2.0.0",
			...(stream ? {stream: true} : {}),
		});
		say(
			`[lin] published firmware 2.0.0 as OTA ${stream ? "stream " : ""}job ${job.id} for ${nodeId} (both images carry the firmware identity ${FIRMWARE_NAME})`,
		);
		const lines: string[] = [];
		const interrupt = () => node?.stop();
		process.once("SIGINT", interrupt);
		process.once("SIGTERM", interrupt);
		process.once("SIGHUP", interrupt);
		node = superviseLin(mcsimCommand(root, mc), flashDir, line => {
			lines.push(line);
			say(`[mcsim] ${line}`);
		});
		const ended = node.stopped.then(exit => {
			throw new LinError(`mcsim ended with exit code ${exit} before the update finished`);
		});
		ended.catch(() => undefined);
		await Promise.race([cloud.waitForStatus(nodeId, job.id, "delayed", 180_000), ended]);
		// The product works while the update waits: the app switches it on (docs/product.md).
		const switchedOn = cloud.waitFor(
			"params",
			event => event.nodeId === nodeId && !event.init && reportedPower(event.params) === true,
			30_000,
		);
		await cloud.setParams(nodeId, {Switch: {Power: true}});
		await Promise.race([switchedOn, ended]);
		say(`[lin] the app switched ${nodeId}'s Switch on; the node applied and reported it`);
		// the first params/local/init of the new firmware says whether the switch kept its Power
		const reinit = cloud.waitFor("params", event => event.nodeId === nodeId && event.init, 600_000);
		reinit.catch(() => undefined);
		say(`[lin] update 2.0.0 offered to ${nodeId}, waiting for approval; approving as the phone app would`);
		const appIo = {out: (line: string) => say(`[app] ${line}`), err: (line: string) => say(`[app] ${line}`)};
		const state = ["--base-url", cloud.httpUrl, "--state-file", join(work, "app-state.json")];
		// The app signs in first (the cloud's REST calls need the user's token), as `demo` does.
		code = await Promise.race([
			appCommand(
				["login", ...state, "--user", DEFAULT_USER.userName, "--password", DEFAULT_USER.password],
				appIo,
			),
			ended,
		]);
		if (code === 0)
			code = await Promise.race([
				appCommand(["approve", "--node", nodeId, ...state, "--timeout", "300"], appIo),
				ended,
			]);
		if (code === 0) {
			const runs = () => (cloud.node(nodeId)?.config?.info as {fw_version?: string} | undefined)?.fw_version;
			if (runs() !== "2.0.0")
				await cloud
					.waitFor(
						"config",
						event =>
							event.nodeId === nodeId &&
							(event.config.info as {fw_version?: string}).fw_version === "2.0.0",
						60_000,
					)
					.catch(() => undefined);
			say(
				`[lin] done: ${nodeId} runs firmware ${runs() ?? "?"} after ${node.boots} mcsim boots; job ${job.id} ended with success`,
			);
			const peaks = lines.filter(line => line.includes("memory peaks"));
			if (peaks.length)
				say(
					`[lin] XS memory of the boot that installed the update: ${
						peaks.find(line => /samples/.test(line))
							? peaks
									.filter((_, i) => i < peaks.length)
									.slice(-2)
									.join(" | ")
							: ""
					}`,
				);
			if (runs() !== "2.0.0") code = 1;
			const kept = reportedPower((await reinit.catch(() => undefined))?.params);
			say(
				`[lin] the switch's Power after the update: ${kept === true ? "on, kept" : `${String(kept)}, NOT kept`}`,
			);
			if (kept !== true) code = 1;
		}
		return code;
	} finally {
		node?.stop();
		await node?.stopped;
		await cloud.close();
		if (values["keep-work"]) say(`[lin] kept ${work}`);
		else rmSync(work, {recursive: true, force: true});
	}
}

function derOf(pem: string): Uint8Array {
	const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
	return new Uint8Array(Buffer.from(body, "base64"));
}

export async function linCommand(argv: string[]): Promise<number> {
	const [mode, ...rest] = argv;
	if (mode === undefined || mode === "--help" || mode === "-h" || mode === "help") {
		process.stdout.write(LIN_USAGE + "\n");
		return mode === undefined ? 2 : 0;
	}
	try {
		if (mode === "run") return await runCommand(rest);
		if (mode === "demo") {
			const code = await demoCommand(rest);
			// the cloud's waits that lost their race still hold timers: end now
			process.exit(code);
		}
		process.stderr.write(`rainmaker-ota-xs lin: unknown mode ${JSON.stringify(mode)}\n${LIN_USAGE}\n`);
		return 2;
	} catch (error) {
		if ((error as {code?: string}).code?.startsWith("ERR_PARSE_ARGS")) {
			process.stderr.write(`rainmaker-ota-xs lin: ${(error as Error).message}\n${LIN_USAGE}\n`);
			return 2;
		}
		if (error instanceof LinError) {
			process.stderr.write(`rainmaker-ota-xs lin: ${error.message}\n`);
			return 1;
		}
		throw error;
	}
}
