/*
 * One boot of the simulated node, in its own process: the simulated bootloader picks the image
 * from the flash file, then the firmware's platform-neutral modules run with the host adapters.
 * A restart of the firmware (esp_restart, a rollback) ends the process with REBOOT_EXIT_CODE; the
 * supervisor (host/sim/supervisor.ts) then boots it again, as a reset would.
 */
import {mkdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {createInterface} from "node:readline";
import {boot, NoBootableImageError, provision} from "../adapters/bootloader";
import {HostBootControl} from "../adapters/boot-control";
import {createDigest} from "../adapters/digest";
import {HostDevice} from "../adapters/host-device";
import {HostHttpClient} from "../adapters/http-client";
import {JsonFileStore} from "../adapters/key-value-store";
import {HostMqttSession} from "../adapters/mqtt-session";
import {HostTimers} from "../adapters/timers";
import {HostUpdatePartition} from "../adapters/update-partition";
import {startFirmware} from "../../ota/firmware";
import {switchProduct} from "../../product/switch";
import {chipName} from "../../ota/image";
import {hostOtaOptions, resolveOtaOptions} from "../../ota/options";
import {RollbackClock} from "../../ota/rollback-clock";
import type {Log, MqttSession} from "../../rainmaker/ports";
import type {NodeOptions} from "./node-options";
import {provisionFctry, readFctry} from "./fctry";

/** Exit code of a node process that asks to be booted again. */
export const REBOOT_EXIT_CODE = 3;

/** A session that never connects: what a broken image sees (simulation switch --unreachable-version). */
class UnreachableSession implements MqttSession {
	readonly connected = false;
	connect(): void {}
	close(): void {}
	publish(topic: string, payload: string, done?: (error?: Error) => void): void {
		queueMicrotask(() => done?.(new Error("not connected")));
	}
	subscribe(): void {}
	unsubscribe(): void {}
}

function consoleLog(nodeId: string): Log {
	const line = (level: string, message: string) =>
		process.stdout.write(`${new Date().toISOString().slice(11, 23)} ${nodeId} ${level} ${message}\n`);
	return {
		info: message => line("I", message),
		warn: message => line("W", message),
		error: message => line("E", message),
	};
}

/** Simulation: SIGKILL this process instead of the n-th flash erase or write (what power loss does to a chip). */
function cutPowerAt(device: HostDevice, operation: number): void {
	const flash = device.flash;
	let count = 0;
	const guard =
		<T extends unknown[]>(original: (...args: T) => void) =>
		(...args: T) => {
			if (++count >= operation) {
				process.stdout.write(`power cut at flash operation ${count}\n`);
				process.kill(process.pid, "SIGKILL");
			}
			original.apply(flash, args);
		};
	flash.erase = guard(flash.erase);
	flash.write = guard(flash.write);
	process.on("exit", () => process.stdout.write(`flash operations: ${count}\n`));
}

export function bootNode(options: NodeOptions): void {
	const log = consoleLog(options.nodeId);
	mkdirSync(options.flashDir, {recursive: true});
	const device = HostDevice.open({flashFile: join(options.flashDir, "flash.bin")});
	if (options.powerCutAt !== undefined) cutPowerAt(device, options.powerCutAt);
	if (options.fctry) {
		provisionFctry(device, new Uint8Array(readFileSync(options.fctry)));
		log.info(`fctry partition provisioned from ${options.fctry}`);
	}
	const claimed = readFctry(device);
	if (claimed && claimed.nodeId !== options.nodeId)
		log.info(`fctry: claimed node ${claimed.nodeId} (mqtt_host ${claimed.mqttHost})`);
	const nodeId = claimed?.nodeId ?? options.nodeId;
	const broker = options.broker ?? (claimed ? `mqtts://${claimed.mqttHost}:8883` : undefined);
	if (!broker)
		throw new Error("no broker: pass --broker <url> or provision the fctry partition with --fctry <nvs.bin>");
	let booted;
	try {
		booted = boot(device, createDigest);
	} catch (error) {
		if (!(error instanceof NoBootableImageError) || !options.image) throw error;
		log.info(`Empty flash: provisioning ${options.image} into ota_0`);
		provision(device, new Uint8Array(readFileSync(options.image)));
		booted = boot(device, createDigest);
	}
	for (const line of booted.log) log.info(`boot: ${line}`);
	log.info(
		`boot: running ${booted.label} (${booted.info.projectName} ${booted.info.version}), state ${booted.state}`,
	);

	const restart = (reason: string) => {
		log.info(reason === "rollback" ? "Rolling back: rebooting into the previous firmware" : "Restarting");
		device.close();
		process.exit(REBOOT_EXIT_CODE);
	};
	// As on the device (device/rollback-clock.ts): the new image's rollback clock starts before the network.
	const timers = new HostTimers();
	const bootControl = new HostBootControl(device, booted, {restart}, createDigest);
	const rollbackClock = new RollbackClock({
		boot: bootControl,
		timers,
		log,
		rollbackWaitSeconds: resolveOtaOptions(options.ota, hostOtaOptions).rollbackWaitSeconds,
	});
	const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
	const session: MqttSession = options.unreachableVersions.includes(booted.info.version)
		? new UnreachableSession()
		: new HostMqttSession({
				url: broker,
				clientId: nodeId,
				ca: read(options.ca),
				cert: read(options.cert) ?? claimed?.clientCert,
				key: read(options.key) ?? claimed?.clientKey,
				log,
			});
	if (session instanceof UnreachableSession)
		log.warn(`simulation: version ${booted.info.version} never reaches MQTT`);
	const firmware = startFirmware(
		{
			session,
			timers,
			log,
			store: new JsonFileStore(join(options.flashDir, "nvs.json")),
			http: new HostHttpClient({ca: read(options.httpCa ?? options.ca)}),
			partition: new HostUpdatePartition(device, booted.slot, createDigest),
			boot: bootControl,
			createDigest,
			rollbackClock,
			paramStore: new JsonFileStore(join(options.flashDir, "params.json")),
		},
		{
			nodeId,
			topicForm: options.topicForm,
			ota: options.ota,
			platform: chipName(device.efuse.chipId),
			product: switchProduct({log}),
		},
	);

	const input = createInterface({input: process.stdin, terminal: false});
	const print = (line: string) => process.stdout.write(line + "\n");
	if (options.interactive) print("Console: 'ota check', 'ota start', 'ota status', 'help', 'reboot', 'quit'");
	input.on("line", line => {
		const [name, ...args] = line.trim().split(/\s+/);
		if (!name) return;
		const command = name.toLowerCase();
		if (command === "quit" || command === "exit") {
			firmware.stop();
			device.close();
			process.exit(0);
		}
		if (command === "reboot") return restart("restart");
		if (command === "help") {
			firmware.command("help", args, print);
			print("reboot      restart the node (the simulated bootloader runs again)");
			print("quit        stop the simulated node");
			return;
		}
		if (!firmware.command(command, args, print))
			print(`Error: unknown command ${JSON.stringify(name)}; 'help' lists the commands`);
	});
}
