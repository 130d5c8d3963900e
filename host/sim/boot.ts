/*
 * One boot of the simulated node, in its own process: the simulated bootloader picks the image
 * from the flash file, then the firmware's platform-neutral modules run with the host adapters
 * (assembled by host/sim/node-assembly.ts, as every simulated node is).
 * A restart of the firmware (esp_restart, a rollback) ends the process with REBOOT_EXIT_CODE; the
 * supervisor (host/sim/supervisor.ts) then boots it again, as a reset would.
 */
import {mkdirSync, readFileSync} from "node:fs";
import {join} from "node:path";
import {createInterface} from "node:readline";
import {HostDevice} from "../adapters/host-device";
import {HostHttpClient} from "../adapters/http-client";
import {HostMqttSession} from "../adapters/mqtt-session";
import {HostTimers} from "../adapters/timers";
import {switchProduct} from "../../product/switch";
import {chipName} from "../../ota/image";
import type {Log, MqttSession} from "../../rainmaker/ports";
import type {NodeOptions} from "./node-options";
import {provisionFctry, readFctry} from "./fctry";
import {assembleNode, observeFlash} from "./node-assembly";
import {REBOOT_EXIT_CODE} from "./reset-loop";

/** Exit code of a node process that asks to be booted again (defined beside the reset loop that reads it). */
export {REBOOT_EXIT_CODE};

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
	let count = 0;
	observeFlash(device, () => {
		if (++count >= operation) {
			process.stdout.write(`power cut at flash operation ${count}\n`);
			process.kill(process.pid, "SIGKILL");
		}
	});
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
	const restart = (reason: string) => {
		log.info(reason === "rollback" ? "Rolling back: rebooting into the previous firmware" : "Restarting");
		device.close();
		process.exit(REBOOT_EXIT_CODE);
	};
	const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path));
	const node = assembleNode({
		nodeId,
		flash: device,
		factoryImage: options.image,
		timers: new HostTimers(),
		log,
		store: join(options.flashDir, "nvs.json"),
		paramStore: join(options.flashDir, "params.json"),
		product: switchProduct({log}),
		session: booted => {
			if (!options.unreachableVersions.includes(booted.info.version))
				return new HostMqttSession({
					url: broker,
					clientId: nodeId,
					ca: read(options.ca),
					cert: read(options.cert) ?? claimed?.clientCert,
					key: read(options.key) ?? claimed?.clientKey,
					log,
				});
			log.warn(`simulation: version ${booted.info.version} never reaches MQTT`);
			return new UnreachableSession();
		},
		http: new HostHttpClient({ca: read(options.httpCa ?? options.ca)}),
		restart,
		ota: options.ota,
		topicForm: options.topicForm,
		platform: chipName(device.efuse.chipId),
	});
	const firmware = node.start();

	const input = createInterface({input: process.stdin, terminal: false});
	const print = (line: string) => process.stdout.write(line + "\n");
	if (options.interactive) print("Console: 'ota check', 'ota start', 'ota status', 'help', 'reboot', 'quit'");
	input.on("line", line => {
		const [name, ...args] = line.trim().split(/\s+/);
		if (!name) return;
		const command = name.toLowerCase();
		if (command === "quit" || command === "exit") {
			node.powerOff();
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
