/*
 * device/console.ts: the firmware's command handler installed into Moddable's CLI registry (the
 * cli stand-in has cli.js's dispatch) and reached over telnet (a real TCP connection to the
 * telnet stand-in on 127.0.0.1), plus the serial console hook.
 */
import {strict as assert} from "node:assert";
import {connect} from "node:net";
import {loadDevice} from "./support/moddable-loader";
import {serialConsoles} from "./support/moddable/serial-console";
import {telnetServers} from "./support/moddable/telnet";
import {freePort} from "./support/free-port";

type CommandHandler = (name: string, args: readonly string[], print: (line: string) => void) => boolean;
type ConsoleModule = {
	installConsole(
		command: CommandHandler,
		options: {telnetPort: number; openSerial?: () => unknown},
	): {telnet?: {close(): void}; serial?: unknown};
};

function telnetSession(port: number, lines: string[]): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = connect(port, "127.0.0.1");
		let text = "";
		socket.on("data", data => {
			text += data.toString();
			if ((text.match(/> /g) ?? []).length >= lines.length) {
				socket.end();
				resolve(text);
			}
		});
		socket.on("error", reject);
		socket.on("connect", () => socket.write(lines.map(line => line + "\r\n").join("")));
	});
}

describe("device console (CLI registry, telnet over real TCP)", () => {
	let mod: ConsoleModule;
	const calls: [string, readonly string[]][] = [];
	const handler: CommandHandler = (name, args, print) => {
		calls.push([name, args]);
		if (name === "help") {
			print("ota check|approve|reject - user-approval OTA");
			return false;
		}
		if (name !== "ota") return false;
		if (args[0] === "boom") throw new Error("bad input");
		print(`ota ${args.join(",")} done`);
		return true;
	};
	let handles: ReturnType<ConsoleModule["installConsole"]>;

	before(async () => {
		mod = await loadDevice<ConsoleModule>("console");
		handles = mod.installConsole(handler, {telnetPort: await freePort(), openSerial: () => ({serial: true})});
	});
	after(() => handles.telnet?.close());

	it("runs commands typed over telnet: arguments split with quotes, output as lines", async () => {
		const server = telnetServers[telnetServers.length - 1] as unknown as {ready: Promise<number>};
		const port = await server.ready;
		const output = await telnetSession(port, ['OTA approve "job 1"', "frobnicate", "ota boom"]);
		assert.match(output, /ota approve,job 1 done\r\n/);
		assert.match(output, /Unknown command: frobnicate/);
		assert.match(output, /Error: bad input/, "an exception is printed, the console keeps running");
		assert.deepEqual(
			calls.filter(([name]) => name === "ota").map(([, args]) => args),
			[["approve", "job 1"], ["boom"]],
		);
	});

	it("adds its lines to help, alongside the built-in ones", async () => {
		const port = await (telnetServers[telnetServers.length - 1] as unknown as {ready: Promise<number>}).ready;
		const output = await telnetSession(port, ["help"]);
		assert.match(output, /ota check\|approve\|reject - user-approval OTA/);
		assert.match(output, /version - display CLI version number/);
	});

	it("opens the serial console only when asked, and no telnet for port 0", () => {
		assert.deepEqual(handles.serial, {serial: true});
		const before = serialConsoles.length;
		const again = mod.installConsole(() => false, {telnetPort: 0});
		assert.equal(again.telnet, undefined);
		assert.equal(again.serial, undefined);
		assert.equal(serialConsoles.length, before);
	});
});
